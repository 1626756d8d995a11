"""The `latest-version` check, in both verifiers: a bundle of a period that a correction has since superseded.

One period is published on anvil, every member's bundle written, then a meter is re-read (member 3's midday
readings change), the correction published as version 2 and the bundles written again. The first bundles are
honest about version 1 — its transaction, record and roots are all on chain — and only the `latest-version`
check can refuse them: `lec verify` and the JavaScript verifier of tools/verifier must both name it. The
bundles of version 2 pass both.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from period_helpers import populate_community
from sqlmodel import Session, select

from tests.support.verifier import js_verdicts, lec_failed_check

pytestmark = pytest.mark.services

DAY = date(2026, 11, 4)  # a plain Wednesday
PARAMS = {"a": 10**17, "b": 5 * 10**16, "c": 5 * 10**16, "max_per_period": 10**21, "bonus_prosumer": 10**15}


def _lec(*args: str):
    from lec.cli import lec

    return CliRunner().invoke(lec, list(args))


def _bundles(data: Path, members: list[str], version: int) -> dict[str, dict]:
    out = {}
    for member in members:
        path = data / f"v{version}-{member}.json"
        result = _lec(
            "oracle", "bundle", "--community", "1", "--period", DAY.isoformat(), "--member", member, "--out", str(path)
        )
        assert result.exit_code == 0, result.output
        out[member] = json.loads(path.read_text())
    return out


@pytest.fixture(scope="module")
def versions(platform, tmp_path_factory) -> dict[int, dict[str, dict]]:
    """Every member's bundle of version 1 and of its correction, version 2."""
    from lec.db.models import CounterReading, Device
    from lec.db.session import init_db

    data = tmp_path_factory.mktemp("data-latest")
    mp = pytest.MonkeyPatch()
    mp.setenv("LEC_DATA_DIR", str(data))
    mp.setenv("LEC_RPC_URL", platform.url)
    mp.setenv("LEC_DEPLOYMENTS_DIR", platform.deployments["dir"])
    mp.setenv("LEC_ORACLE_PRIVATE_KEY", platform.admin_key)
    mp.delenv("DATABASE_URL", raising=False)
    try:
        engine = init_db()
        with Session(engine) as session:
            pods = populate_community(session, platform.members, DAY)
        day = DAY.isoformat()
        params = json.dumps(PARAMS)
        for step in [
            ("oracle", "register-model", "--name", "lec-default", "--kind", "self-consumption", "--params", params),
            ("oracle", "run", "--community", "1", "--period", day, "--publish"),
        ]:
            result = _lec(*step)
            assert result.exit_code == 0, result.output
        first = _bundles(data, platform.members, 1)
        with Session(engine) as session:
            device = session.exec(select(Device).where(Device.pod == pods[platform.members[3]][0])).one()
            readings = session.exec(
                select(CounterReading).where(CounterReading.device_id == device.id).order_by(CounterReading.timestamp)
            ).all()
            for reading in readings[24 + 40 : 24 + 48]:  # midday, 6 h of context before the day
                reading.energy_wh = (reading.energy_wh or 0) + 400
                session.add(reading)
            session.commit()
        result = _lec("oracle", "run", "--community", "1", "--period", day, "--publish", "--correct", "meter re-read")
        assert result.exit_code == 0, result.output
        second = _bundles(data, platform.members, 2)
    finally:
        mp.undo()
    return {1: first, 2: second}


def _both(platform, folder: Path, bundles: dict[str, dict]) -> dict[str, tuple[tuple[bool, str | None], dict]]:
    """Each bundle through `lec verify` and the JavaScript verifier: ((ok, failed check) of Python, JS line)."""
    paths = {}
    for name, bundle in bundles.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(bundle))
    lines = js_verdicts(list(paths.values()), platform.url)
    out = {}
    for (name, path), line in zip(paths.items(), lines, strict=True):
        result = _lec("verify", str(path), "--rpc", platform.url)
        out[name] = ((result.exit_code == 0, lec_failed_check(result.output)), line)
    return out


def test_the_correction_changed_the_period(versions):
    first, second = versions[1], versions[2]
    member = next(iter(first))
    assert first[member]["notarisation"]["version"] == 1 and second[member]["notarisation"]["version"] == 2
    assert first[member]["record"]["dataRoot"] != second[member]["record"]["dataRoot"]


def test_both_verifiers_refuse_every_superseded_bundle_at_latest_version(platform, versions, tmp_path):
    verdicts = _both(platform, tmp_path, versions[1])
    for member, (python, js) in verdicts.items():
        assert python == (False, "latest-version"), member
        assert (js["ok"], js["failed"]) == (False, "latest-version"), js
        # every check before it held: the bundle is an honest one of version 1
        assert [(c["name"], c["ok"]) for c in js["checks"]] == [
            ("format", True),
            ("chain", True),
            ("transaction", True),
            ("record", True),
            ("latest-version", False),
        ], js


def test_both_verifiers_accept_the_bundles_of_the_correction(platform, versions, tmp_path):
    verdicts = _both(platform, tmp_path, versions[2])
    for member, (python, js) in verdicts.items():
        assert python == (True, None), member
        assert js["ok"] and js["failed"] is None, js


@pytest.mark.parametrize(("source", "claimed"), [(1, 2), (2, 1)])
def test_a_bundle_relabelled_as_another_version_is_refused_by_both_at_its_transaction(
    platform, versions, tmp_path, source, claimed
):
    """A version's bundle claiming the other version: its transaction notarised `source`, not `claimed` (the
    version in the PeriodNotarised event must equal the bundle's, not merely be at least or at most it)."""
    member = next(iter(versions[source]))
    forged = json.loads(json.dumps(versions[source][member]))
    forged["notarisation"]["version"] = claimed
    (python, js) = _both(platform, tmp_path, {"forged": forged})["forged"]
    assert python == (False, "transaction")
    assert (js["ok"], js["failed"]) == python


def test_a_bundle_of_another_format_is_refused_by_both_at_format(platform, versions, tmp_path):
    """The format's name must equal `lec-proof-bundle` (a name that sorts before it is not good enough)."""
    member = next(iter(versions[2]))
    forged = json.loads(json.dumps(versions[2][member]))
    forged["format"] = "a-proof-bundle"
    (python, js) = _both(platform, tmp_path, {"forged": forged})["forged"]
    assert python == (False, "format")
    assert (js["ok"], js["failed"]) == python
