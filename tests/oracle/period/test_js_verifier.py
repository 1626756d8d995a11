"""Two implementations of the spec agree: `lec verify` and the JavaScript verifier of tools/verifier.

tools/verifier was written from docs/proofs.md and docs/rewards.md alone. On one anvil platform two periods are
published, each with a battery, an exchange-only member and an inactive member — an autumn DST day (100 quarter
hours) under a combined model with bonuses and no cap reached, and a spring DST day (92) under a
self-consumption model whose budget cap scales every reward — and every member's bundle, honest or tampered,
goes through both verifiers: they must give the same verdict and name the same failing check (the one each
case expects).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from period_helpers import populate_community
from sqlmodel import Session, select

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[3]
VERIFY_JS = ROOT / "tools" / "verifier" / "verify.mjs"

UNCAPPED_DAY = date(2026, 10, 25)  # autumn DST: 100 quarter hours, 25 hours
CAPPED_DAY = date(2026, 3, 29)  # spring DST: 92 quarter hours, 23 hours
# A combined model (both formulas, every bonus) whose budget is never reached: amounts are checked exactly.
UNCAPPED = {
    "a": 10**17,
    "b": 5 * 10**16,
    "c": 5 * 10**16,
    "rate": 10**17,
    "par_ref_bps": 40_000,
    "w_sc_bps": 6_000,
    "w_peak_bps": 4_000,
    "bonus_consumer": 3 * 10**14,
    "bonus_prosumer": 5 * 10**14,
    "bonus_prostormer": 7 * 10**14,
    "max_per_period": 10**21,
}
# Self-consumption: the members earn about 2·10¹⁸ units together, so a cap of 10¹⁸ + 7 scales everyone down
# by about half, with remainders.
CAPPED = {"a": 10**17, "b": 5 * 10**16, "c": 5 * 10**16, "max_per_period": 10**18 + 7, "bonus_prosumer": 10**15}
PERIODS = {
    "uncapped": (UNCAPPED_DAY, "jsv-uncapped", "combined", UNCAPPED),
    "capped": (CAPPED_DAY, "jsv-capped", "self-consumption", CAPPED),
}


def _lec(env: dict[str, str], *args: str):
    """`lec …` in this process (found through the root command, wherever its modules live)."""
    from lec.cli import lec  # the group behind the `lec` console script

    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("DATABASE_URL", raising=False)
        return CliRunner().invoke(lec, list(args))


def _storage_exchange_and_inactive(session: Session, members: list[str], day: date) -> None:
    """Member 4 gets a battery, member 3's only meter becomes a grid exchange meter, member 5 is inactive."""
    from lec.calendar import day_grid
    from lec.db.enums import DeviceKind, FlowQuantity
    from lec.db.models import CounterReading, Device, Flow, UserCommunity

    storage = Flow(name="battery", quantity=FlowQuantity.STORAGE)
    exchange = Flow(name="grid exchange", quantity=FlowQuantity.EXCHANGE)
    session.add_all([storage, exchange])
    session.flush()
    links = {m.wallet: m for m in session.exec(select(UserCommunity))}
    grid = day_grid(day)
    hours = (grid - grid[0]) / 3600.0
    owner = links[members[4]]
    battery = Device(
        pod="IT001B00000004",
        name="battery",
        community_id=owner.community_id,
        user_id=owner.user_id,
        kind=DeviceKind.BATTERY,
    )
    session.add(battery)
    session.flush()
    charge = np.where((hours >= 10) & (hours < 13), 120, 0) - np.where((hours >= 18) & (hours < 21), 90, 0)
    for t, v in zip(grid, charge, strict=True):
        session.add(
            CounterReading(
                device_id=battery.id,
                flow_id=storage.id,
                community_id=battery.community_id,
                timestamp=datetime.fromtimestamp(int(t), UTC),
                energy_wh=float(v),
                tsi=int(t) * 1000,
            )
        )
    meter = session.exec(select(Device).where(Device.user_id == links[members[3]].user_id)).one()
    meter.kind = DeviceKind.EXCHANGE_METER
    session.add(meter)
    for reading in session.exec(select(CounterReading).where(CounterReading.device_id == meter.id)):
        reading.flow_id = exchange.id
        hour = (reading.timestamp.timestamp() - grid[0]) / 3600.0
        if 11 <= hour < 14:
            reading.energy_wh = -80.0  # an unmetered PV exports at noon
        session.add(reading)
    links[members[5]].active = False
    session.add(links[members[5]])
    session.commit()


@pytest.fixture(scope="module")
def bundles(platform, tmp_path_factory) -> dict[str, list[dict]]:
    """Each period run and published, and every member's bundle, written by `lec oracle bundle`."""
    from lec.db.session import init_db

    out: dict[str, list[dict]] = {}
    for name, (day, model, kind, params) in PERIODS.items():
        data = tmp_path_factory.mktemp(f"data-{name}")
        env = {
            "LEC_DATA_DIR": str(data),
            "LEC_RPC_URL": platform.url,
            "LEC_DEPLOYMENTS_DIR": platform.deployments["dir"],
            "LEC_ORACLE_PRIVATE_KEY": platform.admin_key,
        }
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            mp.delenv("DATABASE_URL", raising=False)
            with Session(init_db()) as session:
                populate_community(session, platform.members, day)
                _storage_exchange_and_inactive(session, platform.members, day)
        steps = [
            ("oracle", "register-model", "--name", model, "--kind", kind, "--params", json.dumps(params)),
            ("oracle", "run", "--community", "1", "--period", day.isoformat(), "--model", model, "--publish"),
        ]
        for member in platform.members:
            path = data / f"{member}.json"
            steps.append(("oracle", "bundle", "--community", "1", "--period", day.isoformat(), "--member", member))
            steps[-1] += ("--out", str(path))
        for step in steps:
            result = _lec(env, *step)
            assert result.exit_code == 0, result.output
        out[name] = [json.loads((data / f"{m}.json").read_text()) for m in platform.members]
    return out


# ---- the tampering ------------------------------------------------------------------------------------------


def _first_measured_slot_after(b: dict, device: int, slot: int) -> tuple[int, int]:
    """(index into the raw readings, slot of the day) of the first reading at or after quarter hour `slot`."""
    raw = b["devices"][device]["raw"]
    for i, ts in enumerate(raw["timestamps"]):
        if ts >= b["start"] + 900 * slot:
            return i, (ts - b["start"]) // 900
    raise AssertionError("no reading")


def _raw_reading(b):  # the reading changes, the committed value does not: cleaning
    i, _ = _first_measured_slot_after(b, 0, 6)
    b["devices"][0]["raw"]["values"][i] += 1


def _raw_and_committed(b):  # both change consistently: the leaf no longer matches
    i, slot = _first_measured_slot_after(b, 0, 6)
    b["devices"][0]["raw"]["values"][i] += 1
    b["devices"][0]["values"][slot] += 1


def _imputed_value(b):  # an interpolated value changed, its readings not
    mask = bytes.fromhex(b["devices"][0]["imputedMask"][2:])
    slot = next(k for k in range(len(b["devices"][0]["values"])) if mask[k // 8] >> (k % 8) & 1)
    b["devices"][0]["values"][slot] += 1


def _mask_bit(b):
    mask = bytearray.fromhex(b["devices"][0]["imputedMask"][2:])
    mask[0] ^= 1
    b["devices"][0]["imputedMask"] = "0x" + mask.hex()


def _reading_outside_the_day(b):  # context 6 h before the day, far from any gap: nothing changes
    b["devices"][0]["raw"]["values"][0] += 1


def _reading_off_grid(b):  # a timestamp 2 minutes late snaps back to its quarter hour: nothing changes
    i, _ = _first_measured_slot_after(b, 0, 6)
    b["devices"][0]["raw"]["timestamps"][i] += 120


def _aggregates(b):
    b["aggregates"]["communityLoad"][10] += 1


def _uncapped_total(b):
    b["aggregates"]["uncappedTotal"] = int(b["aggregates"]["uncappedTotal"]) + 1


def _amount(delta: int) -> Callable[[dict], None]:
    def change(b):
        b["reward"]["amount"] = str(int(b["reward"]["amount"]) + delta)
        b["reward"]["leaf"][1] = b["reward"]["amount"]

    return change


def _other_members(field: str) -> Callable[[dict, dict], None]:
    def change(b, other):
        if field == "proof":
            b["reward"]["proof"] = other["reward"]["proof"]
        else:
            b["reward"] = other["reward"]

    return change


def _set(path: str, value) -> Callable[[dict], None]:
    def change(b):
        *parents, last = path.split(".")
        node = b
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value(node[int(last) if last.isdigit() else last])

    return change


def _set_from(path: str, source: str) -> Callable[[dict], None]:
    def change(b):
        node = b
        for key in source.split("."):
            node = node[key]
        _set(path, lambda _: node)(b)

    return change


def _quantity(old: str, new: str) -> Callable[[dict], None]:
    def change(b):
        device = next(d for d in b["devices"] if d["quantity"] == old)
        device["quantity"] = new

    return change


def _drop_device(index: int) -> Callable[[dict], None]:
    def change(b):
        del b["devices"][index]

    return change


# (case, period, member, change, the check both must name or None when both must accept)
CASES = [
    ("raw-reading", "uncapped", 0, _raw_reading, "cleaning"),
    ("raw-and-committed", "uncapped", 0, _raw_and_committed, "data-leaf"),
    ("imputed-value", "uncapped", 0, _imputed_value, "cleaning"),
    ("mask-bit", "uncapped", 0, _mask_bit, "cleaning"),
    ("reading-outside-the-day", "uncapped", 0, _reading_outside_the_day, None),
    ("reading-off-grid", "uncapped", 0, _reading_off_grid, None),
    ("aggregates", "uncapped", 0, _aggregates, "aggregates"),
    ("uncapped-total", "uncapped", 0, _uncapped_total, "aggregates"),
    ("reward-proof-swapped", "uncapped", 0, "proof", "reward-leaf"),
    ("reward-leaf-swapped", "uncapped", 0, "reward", "reward"),
    ("model-hash", "uncapped", 0, _set("model.paramsHash", lambda _: "0x" + "44" * 32), "model"),
    ("model-params", "uncapped", 0, _set("model.params", lambda v: v.replace('"a":', '"a":1')), "model"),
    ("model-params-spaced", "uncapped", 0, _set("model.params", lambda v: json.dumps(json.loads(v))), "model"),
    ("model-id", "uncapped", 0, _set("model.id", lambda v: v + 1), "model"),
    ("model-kind", "uncapped", 0, _set("model.kind", lambda _: "no-peaks"), "model"),
    ("chain-id", "uncapped", 0, _set("chainId", lambda _: 1), "chain"),
    ("chain-id-higher", "uncapped", 0, _set("chainId", lambda v: v + 1), "chain"),  # sorts after the node's
    ("notary-address", "uncapped", 0, _set("contracts.Notary", lambda _: "0x" + "55" * 20), "transaction"),
    ("models-address", "uncapped", 0, _set_from("contracts.RewardModels", "contracts.Registry"), "model"),
    ("models-address-no-code", "uncapped", 0, _set("contracts.RewardModels", lambda _: "0x" + "66" * 20), "model"),
    ("salt", "uncapped", 0, _set("devices.0.salt", lambda _: "0x" + "11" * 32), "data-leaf"),
    # The bundle's own copy of a device leaf must be the recomputed one, whichever way it sorts (the tree and the
    # Notary are asked about the recomputed leaf, so only this comparison sees the copy).
    ("device-leaf-lower", "uncapped", 0, _set("devices.0.leaf.0", lambda _: "0x" + "00" * 32), "data-leaf"),
    ("device-leaf-higher", "uncapped", 0, _set("devices.0.leaf.1", lambda _: "0x" + "ff" * 32), "data-leaf"),
    # start and step follow from periodId (docs/proofs.md §1): both verifiers recompute them, so the bundle's
    # copies change nothing.
    ("start", "uncapped", 0, _set("start", lambda v: v + 3600), None),
    ("step", "uncapped", 0, _set("step", lambda v: 60), None),
    ("period", "uncapped", 0, _set("periodId", lambda v: v + 1), "transaction"),
    ("amount-plus-one", "uncapped", 0, _amount(1), "reward"),
    ("reward-removed", "uncapped", 0, _set("reward", lambda _: None), "reward"),
    ("amount-minus-one", "uncapped", 0, _amount(-1), "reward"),
    ("unknown-transaction", "uncapped", 0, _set("notarisation.txHash", lambda _: "0x" + "33" * 32), "transaction"),
    ("block", "uncapped", 0, _set("notarisation.block", lambda v: v + 1), "transaction"),
    ("version", "uncapped", 0, _set("notarisation.version", lambda v: v + 1), "transaction"),
    ("forged-root", "uncapped", 0, _set("record.dataRoot", lambda _: "0x" + "22" * 32), "record"),
    ("forged-total", "uncapped", 0, _set("record.totalRewards", lambda v: int(v) + 1), "record"),
    ("profile", "uncapped", 0, _set("member.profile", lambda _: "consumer"), "reward"),
    ("inactive", "uncapped", 0, _set("member.active", lambda _: False), "reward"),
    ("device-dropped", "uncapped", 0, _drop_device(1), "reward"),
    ("production-as-load", "uncapped", 0, _quantity("production", "load"), "reward"),
    ("leaf-account", "uncapped", 0, _set("reward.leaf.0", lambda _: "0x" + "77" * 20), "reward-leaf"),
    ("format-version", "uncapped", 0, _set("version", lambda _: 2), "format"),
    ("capped-amount-plus-two", "capped", 0, _amount(2), "reward"),
    # One unit either way may stay within "the floor or one unit more": then only the tree refuses it.
    ("capped-amount-plus-one", "capped", 2, _amount(1), "reward|reward-leaf"),
    ("capped-amount-minus-one", "capped", 2, _amount(-1), "reward|reward-leaf"),
    ("capped-amount-minus-two", "capped", 1, _amount(-2), "reward"),
    ("capped-uncapped-total", "capped", 0, _uncapped_total, "aggregates"),
    ("capped-raw-reading", "capped", 2, _raw_reading, "cleaning"),
    ("battery-as-load", "uncapped", 4, _quantity("storage", "load"), "reward"),
    ("battery-as-production", "uncapped", 4, _quantity("storage", "production"), "reward"),
    ("exchange-as-load", "uncapped", 3, _quantity("exchange", "load"), "reward"),
    ("inactive-made-active", "uncapped", 5, _set("member.active", lambda _: True), "reward"),
]


@pytest.fixture(scope="module")
def run_both(platform, tmp_path_factory):
    """Verify bundles with both verifiers: `lec verify` one by one, the JavaScript verifier all in one process."""
    folder = tmp_path_factory.mktemp("verify")
    node = shutil.which("node")
    assert node, "node is missing: Node 20 is needed for tools/verifier"

    def run(named: dict[str, dict]) -> dict[str, tuple[dict, dict]]:
        paths = {}
        for name, bundle in named.items():
            paths[name] = folder / f"{name}.json"
            paths[name].write_text(json.dumps(bundle))
        js = subprocess.run(
            [node, str(VERIFY_JS), *map(str, paths.values()), "--rpc", platform.url, "--json"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = [json.loads(line) for line in js.stdout.splitlines()]
        assert [line["bundle"] for line in lines] == list(map(str, paths.values())), js.stderr
        assert js.returncode == (0 if all(line["ok"] for line in lines) else 1)
        out = {}
        for (name, path), line in zip(paths.items(), lines, strict=True):
            result = _lec({}, "verify", str(path), "--rpc", platform.url)
            failed = None
            if "failed at check '" in result.output:
                failed = result.output.split("failed at check '", 1)[1].split("'", 1)[0]
            out[name] = ({"ok": result.exit_code == 0, "failed": failed, "output": result.output}, line)
        return out

    return run


@pytest.fixture(scope="module")
def verdicts(bundles, run_both) -> dict[str, tuple[dict, dict]]:
    named = {}
    for period, members in bundles.items():
        for i, bundle in enumerate(members):
            named[f"honest-{period}-{i}"] = bundle
    for case, period, member, change, _ in CASES:
        bundle = json.loads(json.dumps(bundles[period][member]))
        if isinstance(change, str):
            _other_members(change)(bundle, bundles[period][(member + 1) % len(bundles[period])])
        else:
            change(bundle)
        named[case] = bundle
    return run_both(named)


def _agree(python: dict, js: dict) -> None:
    assert (python["ok"], python["failed"]) == (js["ok"], js["failed"]), (python["output"], js)


@pytest.mark.parametrize("period", list(PERIODS))
def test_both_verifiers_accept_every_honest_bundle(bundles, verdicts, period):
    for i in range(len(bundles[period])):
        python, js = verdicts[f"honest-{period}-{i}"]
        _agree(python, js)
        assert js["ok"], js
        assert [c["name"] for c in js["checks"]] == [
            "format",
            "chain",
            "transaction",
            "record",
            "latest-version",
            "model",
            "aggregates",
            "cleaning",
            "data-leaf",
            "reward",
            "reward-leaf",
        ]


@pytest.mark.parametrize("period", list(PERIODS))
def test_the_periods_have_what_the_cases_need(bundles, verdicts, period):
    members = bundles[period]
    assert len(members[0]["devices"][0]["values"]) == (100 if period == "uncapped" else 92)
    assert "storage" in {d["quantity"] for d in members[4]["devices"]}
    assert [d["quantity"] for d in members[3]["devices"]] == ["exchange"]
    assert members[5]["member"]["active"] is False and members[5]["reward"] is None
    details = [{c["name"]: c["detail"] for c in verdicts[f"honest-{period}-{i}"][1]["checks"]} for i in range(5)]
    if period == "capped":
        assert int(members[0]["aggregates"]["uncappedTotal"]) > CAPPED["max_per_period"]
        assert members[0]["record"]["totalRewards"] == CAPPED["max_per_period"]
        assert all(d["reward"].startswith("capped reward") for d in details)
    else:
        assert members[0]["record"]["totalRewards"] == int(members[0]["aggregates"]["uncappedTotal"])
        assert all(d["reward"].startswith("recomputed reward") for d in details)


@pytest.mark.parametrize(("case", "check"), [pytest.param(c[0], c[4], id=c[0]) for c in CASES])
def test_both_verifiers_name_the_same_failing_check(verdicts, case, check):
    python, js = verdicts[case]
    _agree(python, js)
    assert js["failed"] in ([None] if check is None else check.split("|")), (python["output"], js)


def test_the_javascript_verifier_recomputes_the_docs_worked_example():
    result = subprocess.run(
        [shutil.which("node") or "node", "--test", str(ROOT / "tools" / "verifier" / "test")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _period_mode(platform, folder: Path, members: list[dict]) -> dict:
    paths = []
    for i, bundle in enumerate(members):
        paths.append(folder / f"{i}.json")
        paths[-1].write_text(json.dumps(bundle))
    node = shutil.which("node") or "node"
    result = subprocess.run(
        [node, str(VERIFY_JS), *map(str, paths), "--period", "--rpc", platform.url, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    period = json.loads(result.stdout.splitlines()[-1])
    assert period["bundle"] == "period" and result.returncode == (0 if period["ok"] else 1)
    return period


@pytest.mark.parametrize("period", list(PERIODS))
def test_all_the_bundles_of_a_period_rebuild_its_roots_aggregates_and_exact_split(platform, bundles, tmp_path, period):
    """Beyond `lec verify`: with every member's bundle the JavaScript verifier checks the whole period."""
    members = bundles[period]
    whole = _period_mode(platform, tmp_path, members)
    assert whole["ok"], whole
    assert [c["name"] for c in whole["checks"]] == [
        "period-bundles",
        "period-roots",
        "period-aggregates",
        "period-rewards",
    ]
    assert _period_mode(platform, tmp_path, members[:-1])["failed"] == "period-roots"  # a member left out
    assert _period_mode(platform, tmp_path, [*members, members[0]])["failed"] == "period-bundles"


def test_neither_verifier_names_a_check_when_the_node_is_unreachable(bundles, tmp_path):
    from tests.support.ports import free_port

    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundles["uncapped"][0]))
    dead = f"http://127.0.0.1:{free_port()}"
    python = _lec({}, "verify", str(path), "--rpc", dead)
    assert python.exit_code == 1 and "Cannot reach the chain node" in python.output
    assert "failed at check" not in python.output
    js = subprocess.run(
        [shutil.which("node") or "node", str(VERIFY_JS), str(path), "--rpc", dead, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = json.loads(js.stdout)
    assert js.returncode == 1 and out["failed"] is None and out["error"].startswith("Cannot reach the chain node")
