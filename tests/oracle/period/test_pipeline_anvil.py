"""The whole period against a real anvil chain: run, publish, claim, re-run, bundle, verify, tamper, forget."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from period_helpers import populate_community
from sqlmodel import Session
from web3 import Web3

from lec.calendar import period_id
from oracle.audit.cli import verify_command
from oracle.commands import bundle_command, cluster_command, kpi_command, register_model_command, run_command
from tests.support.anvil import KEYS

pytestmark = pytest.mark.services

DAY = date(2026, 10, 25)  # autumn DST: 100 quarter hours
PARAMS = {"a": 10**17, "b": 5 * 10**16, "c": 5 * 10**16, "max_per_period": 10**21, "bonus_prosumer": 10**15}


@pytest.fixture(scope="module")
def env(platform, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    mp = pytest.MonkeyPatch()
    mp.setenv("LEC_DATA_DIR", str(data))
    mp.setenv("LEC_RPC_URL", platform.url)
    mp.setenv("LEC_DEPLOYMENTS_DIR", platform.deployments["dir"])
    mp.setenv("LEC_ORACLE_PRIVATE_KEY", platform.admin_key)
    mp.delenv("DATABASE_URL", raising=False)
    from lec.db.session import init_db

    engine = init_db()
    with Session(engine) as session:
        pods = populate_community(session, platform.members, DAY)
    yield {"data": data, "engine": engine, "pods": pods}
    mp.undo()


def _invoke(command, *args: str):
    result = CliRunner().invoke(command, list(args), catch_exceptions=False)
    return result


def _period_json(env) -> dict:
    return json.loads((env["data"] / "periods" / "1" / DAY.isoformat() / "period.json").read_text())


def test_register_model_is_idempotent(platform, env):
    first = _invoke(
        register_model_command, "--name", "lec-default", "--kind", "self-consumption", "--params", json.dumps(PARAMS)
    )
    assert first.exit_code == 0, first.output
    again = _invoke(
        register_model_command, "--name", "lec-default", "--kind", "self-consumption", "--params", json.dumps(PARAMS)
    )
    assert again.exit_code == 0 and "already registered" in again.output


def test_run_publish_claim_then_rerun_sends_nothing(platform, env):
    result = _invoke(run_command, "--community", "1", "--period", DAY.isoformat(), "--claim")
    assert result.exit_code == 0, result.output
    summary = _period_json(env)
    notary = platform.w3.eth.contract(
        address=platform.deployments["contracts"]["Notary"],
        abi=__import__("lec.chain.contracts", fromlist=["abi"]).abi("Notary"),
    )
    record = notary.functions.record(1, period_id(DAY), 1).call()
    assert "0x" + bytes(record[0]).hex() == summary["dataRoot"]
    assert "0x" + bytes(record[1]).hex() == summary["rewardsRoot"]
    assert summary["leafCount"] == 9 and summary["totalRewards"] > 0
    assert len(summary["aggregates"]["communityLoad"]) == 100 and len(summary["aggregates"]["hourlyShared"]) == 25
    assert summary["kpis"]["imputed_intervals"] == 3 and summary["kpis"]["missing_intervals"] > 0
    rewards = json.loads((env["data"] / "periods" / "1" / DAY.isoformat() / "rewards.json").read_text())
    for entry in rewards["values"]:
        account, amount = entry["value"]
        assert platform.token.functions.claimed(period_id(DAY), Web3.to_checksum_address(account)).call() == int(amount)
    assert platform.token.functions.claimedTotal(period_id(DAY)).call() == summary["totalRewards"]

    oracle = platform.w3.eth.account.from_key(KEYS[0]).address
    nonce = platform.w3.eth.get_transaction_count(oracle)
    again = _invoke(run_command, "--community", "1", "--period", DAY.isoformat(), "--claim")
    assert again.exit_code == 0, again.output
    leaves = len(json.loads((env["data"] / "periods" / "1" / DAY.isoformat() / "rewards.json").read_text())["values"])
    assert "already notarised" in again.output and f"0 sent, {leaves} already paid, 0 refused" in again.output
    assert platform.w3.eth.get_transaction_count(oracle) == nonce


def test_crash_before_publishing_reproduces_the_same_roots(platform, env):
    before = _period_json(env)
    folder = env["data"] / "periods" / "1" / DAY.isoformat()
    for name in ("data.json", "rewards.json", "period.json"):
        (folder / name).unlink()
    rerun = _invoke(run_command, "--community", "1", "--period", DAY.isoformat(), "--publish")
    assert rerun.exit_code == 0, rerun.output
    after = _period_json(env)
    for key in ("dataRoot", "rewardsRoot", "aggregatesHash", "totalRewards", "leafCount"):
        assert after[key] == before[key]
    assert after["notarisation"]["txHash"] == before["notarisation"]["txHash"]


def test_schedule_runs_every_community_idempotently(platform, env):
    from oracle.schedule import run_all

    oracle = platform.w3.eth.account.from_key(KEYS[0]).address
    nonce = platform.w3.eth.get_transaction_count(oracle)
    assert run_all(DAY, "lec-default", platform.url) == []
    assert platform.w3.eth.get_transaction_count(oracle) == nonce


def test_kpi_command_prints_every_field(platform, env):
    result = _invoke(kpi_command, "--community", "1", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    kpis = json.loads(result.output)
    assert kpis["f1_kwh"] + kpis["f2_kwh"] + kpis["f3_kwh"] == pytest.approx(kpis["load_kwh"])
    assert kpis["f3_kwh"] == pytest.approx(kpis["load_kwh"])  # 25 October 2026 is a Sunday
    assert 0 < kpis["self_consumption_pct"] <= 100 and kpis["imputed_intervals"] == 3
    assert kpis["shared_energy_kwh"] <= min(kpis["injection_kwh"], kpis["withdrawal_kwh"])
    one = _invoke(
        kpi_command,
        "--community",
        "1",
        "--from",
        DAY.isoformat(),
        "--to",
        DAY.isoformat(),
        "--member",
        platform.members[1],
        "--json",
    )
    assert json.loads(one.output)["production_kwh"] == 0  # a consumer
    from sqlmodel import select

    from lec.db.models import DerivedTimeSeries, DerivedTimeSeriesData, DerivedTimeSeriesUser

    with Session(env["engine"]) as session:
        series = {s.name: s for s in session.exec(select(DerivedTimeSeries))}
        curve = series["community mean daily curve"]
        points = session.exec(select(DerivedTimeSeriesData).where(DerivedTimeSeriesData.series_id == curve.id)).all()
        assert len(points) == 96 and curve.update_scheduling
        hourly = series["community hourly load"]
        hours = session.exec(select(DerivedTimeSeriesData).where(DerivedTimeSeriesData.series_id == hourly.id)).all()
        assert len(hours) == 25  # the DST day
        assert sum(p.y_value for p in hours) == pytest.approx(kpis["load_kwh"] * 1000)
        member_series = series[f"member {platform.members[1].lower()} daily load"]
        assert session.exec(
            select(DerivedTimeSeriesUser).where(DerivedTimeSeriesUser.series_id == member_series.id)
        ).first()


def test_cluster_command_assigns_every_member(platform, env):
    result = _invoke(
        cluster_command, "--community", "1", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "-k", "2", "--json"
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert len(out["assignments"]) == 6 and sum(c["size"] for c in out["clusters"]) == 6
    from sqlmodel import select

    from lec.db.models import Cluster, ClusterDerivedTimeSeries, ClusterUser

    with Session(env["engine"]) as session:
        clusters = session.exec(select(Cluster).where(Cluster.group_id == out["group"])).all()
        assert len(clusters) == 2
        ids = [c.id for c in clusters]
        assert len(session.exec(select(ClusterUser).where(ClusterUser.cluster_id.in_(ids))).all()) == 6
        assert (
            len(
                session.exec(select(ClusterDerivedTimeSeries).where(ClusterDerivedTimeSeries.cluster_id.in_(ids))).all()
            )
            == 4
        )


@pytest.fixture(scope="module")
def bundle(platform, env, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles") / "member.json"
    member = platform.members[0]  # a prosumer with an imputed gap
    result = _invoke(
        bundle_command, "--community", "1", "--period", DAY.isoformat(), "--member", member, "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def _verify(bundle: dict, tmp_path, platform):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    return CliRunner().invoke(verify_command, [str(path), "--rpc", platform.url])


def test_verify_accepts_an_honest_bundle(platform, env, bundle, tmp_path):
    assert len(bundle["devices"]) == 2 and bundle["reward"] is not None
    result = _verify(bundle, tmp_path, platform)
    assert result.exit_code == 0, result.output
    assert "All checks hold" in result.output


def _tampered(bundle: dict, change) -> dict:
    copy = json.loads(json.dumps(bundle))
    change(copy)
    return copy


def _change_reading(b):
    b["devices"][0]["raw"]["values"][30] += 1
    b["devices"][0]["values"][6] += 1


def _change_committed_value(b):
    b["devices"][0]["values"][6] += 1
    b["devices"][0]["raw"]["values"][30] += 1


def _wrong_salt(b):
    b["devices"][0]["salt"] = "0x" + "11" * 32


def _forged_root(b):
    b["record"]["dataRoot"] = "0x" + "22" * 32


def _unknown_transaction(b):
    b["notarisation"]["txHash"] = "0x" + "33" * 32


def _more_reward(b):
    b["reward"]["amount"] = str(int(b["reward"]["amount"]) + 1)
    b["reward"]["leaf"][1] = b["reward"]["amount"]


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (_change_reading, "data-leaf"),
        (_wrong_salt, "data-leaf"),
        (_forged_root, "record"),
        (_unknown_transaction, "transaction"),
        (_more_reward, "reward"),
    ],
)
def test_verify_names_the_failed_check(platform, env, bundle, tmp_path, change, check):
    result = _verify(_tampered(bundle, change), tmp_path, platform)
    assert result.exit_code != 0
    assert f"failed at check '{check}'" in result.output


def test_verify_catches_another_model_version(platform, env, bundle, tmp_path):
    newer = {**PARAMS, "a": 2 * 10**17}
    result = _invoke(
        register_model_command, "--name", "lec-default", "--kind", "self-consumption", "--params", json.dumps(newer)
    )
    assert result.exit_code == 0, result.output

    def other_model(b):
        b["model"]["id"] = b["model"]["id"] + 1
        b["model"]["params"] = json.dumps(newer, sort_keys=True, separators=(",", ":"))

    outcome = _verify(_tampered(bundle, other_model), tmp_path, platform)
    assert outcome.exit_code != 0 and "failed at check 'model'" in outcome.output


def test_right_to_be_forgotten_erases_salts_but_roots_stay_valid(platform, env, bundle, tmp_path):
    from oracle.proofs.store import forget_devices, get_salts

    member = platform.members[0]
    with Session(env["engine"]) as session:
        assert forget_devices(session, env["pods"][member]) == 2
        remaining = get_salts(session, 1, period_id(DAY))
    assert not set(env["pods"][member]) & set(remaining) and len(remaining) == 7
    out = tmp_path / "again.json"
    refused = CliRunner().invoke(
        bundle_command, ["--community", "1", "--period", DAY.isoformat(), "--member", member, "--out", str(out)]
    )
    assert refused.exit_code != 0 and "No salt" in refused.output
    # The chain is untouched: a bundle exported before the deletion still verifies.
    assert _verify(bundle, tmp_path, platform).exit_code == 0


def test_the_web3_only_procedure_of_docs_proofs_runs(platform, env, bundle, tmp_path):
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "proofs.md").read_text()
    code = re.search(r"### With web3 only.*?```python\n(.*?)```", doc, re.S).group(1)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    code = code.replace('"bundle.json"', repr(str(path))).replace('"http://127.0.0.1:8545"', repr(platform.url))
    exec(compile(code, "docs/proofs.md", "exec"), {})  # the asserts of the page are the test


def test_without_a_key_a_local_dev_node_signs_with_its_unlocked_account(platform, env, monkeypatch):
    from lec.chain.client import ChainClient

    monkeypatch.delenv("LEC_ORACLE_PRIVATE_KEY")
    client = ChainClient.connect(platform.url)
    assert client.account is None
    model_id, tx = client.register_model("unlocked", "no-peaks", '{"max_per_period":1,"par_ref_bps":1,"rate":1}')
    assert tx is not None and client.model(model_id).name == "unlocked"


def test_verify_explains_an_unreachable_node(bundle, tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    from tests.support.ports import free_port

    result = CliRunner().invoke(verify_command, [str(path), "--rpc", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code != 0 and "Cannot reach the chain node" in result.output


def test_a_changed_reading_needs_a_correction_which_pays_only_the_difference(platform, env, bundle, tmp_path):
    from sqlmodel import select

    from lec.db.models import CounterReading, Device

    pod = env["pods"][platform.members[3]][0]
    with Session(env["engine"]) as session:
        device = session.exec(select(Device).where(Device.pod == pod)).one()
        readings = session.exec(
            select(CounterReading).where(CounterReading.device_id == device.id).order_by(CounterReading.timestamp)
        ).all()
        for reading in readings[24 + 40 : 24 + 48]:  # midday, when the prosumers export
            reading.energy_wh = (reading.energy_wh or 0) + 400
            session.add(reading)
        session.commit()
    refused = CliRunner().invoke(run_command, ["--community", "1", "--period", DAY.isoformat(), "--publish"])
    assert refused.exit_code != 0 and "--correct" in refused.output and "dataRoot" in refused.output

    corrected = _invoke(
        run_command, "--community", "1", "--period", DAY.isoformat(), "--claim", "--correct", "meter 3 re-read"
    )
    assert corrected.exit_code == 0, corrected.output
    summary = _period_json(env)
    assert summary["notarisation"]["version"] == 2
    # Every leaf of the corrected tree is now claimed in full; the period never pays more than its total.
    rewards = json.loads((env["data"] / "periods" / "1" / DAY.isoformat() / "rewards.json").read_text())
    for entry in rewards["values"]:
        account, amount = entry["value"]
        claimed = platform.token.functions.claimed(period_id(DAY), Web3.to_checksum_address(account)).call()
        assert claimed >= int(amount)
    paid = [platform.token.functions.claimed(period_id(DAY), m).call() for m in platform.members]
    assert platform.token.functions.claimedTotal(period_id(DAY)).call() == sum(paid)
    # A member the correction lowered keeps what it was paid; the claim run recorded the over-payment.
    amounts = {Web3.to_checksum_address(e["value"][0]): int(e["value"][1]) for e in rewards["values"]}
    overpaid = {m: p - amounts.get(m, p) for m, p in zip(platform.members, paid, strict=True) if p > amounts.get(m, p)}
    for member, extra in overpaid.items():
        assert platform.token.functions.overpaid(period_id(DAY), member).call() == extra
    assert platform.token.functions.overpaidTotal(period_id(DAY)).call() == sum(overpaid.values())
    # A bundle of the first version is now stale.
    stale = _verify(bundle, tmp_path, platform)
    assert stale.exit_code != 0 and "failed at check 'latest-version'" in stale.output


def test_a_crash_after_sending_is_resumed_by_waiting_for_the_same_transaction(platform, env, monkeypatch):
    from lec.chain.client import ChainClient

    day = date(2026, 3, 29)  # no readings that day: an empty period is notarised with zero roots
    oracle = platform.w3.eth.account.from_key(KEYS[0]).address
    nonce = platform.w3.eth.get_transaction_count(oracle)
    real_wait = ChainClient.wait

    class PowerLoss(Exception):
        pass

    def crash(self, tx_hash):
        raise PowerLoss("the oracle host lost power right after sending")

    monkeypatch.setattr(ChainClient, "wait", crash)
    with pytest.raises(PowerLoss):
        CliRunner().invoke(
            run_command, ["--community", "1", "--period", day.isoformat(), "--publish"], catch_exceptions=False
        )
    summary = json.loads((env["data"] / "periods" / "1" / day.isoformat() / "period.json").read_text())
    pending = summary["notarisation"]["pendingTx"]
    assert platform.w3.eth.get_transaction_count(oracle) == nonce + 1

    monkeypatch.setattr(ChainClient, "wait", real_wait)
    resumed = _invoke(run_command, "--community", "1", "--period", day.isoformat(), "--publish")
    assert resumed.exit_code == 0, resumed.output
    assert "sent earlier" in resumed.output and "already notarised" in resumed.output
    assert platform.w3.eth.get_transaction_count(oracle) == nonce + 1  # nothing sent twice
    after = json.loads((env["data"] / "periods" / "1" / day.isoformat() / "period.json").read_text())
    assert after["notarisation"]["txHash"] == pending and after["leafCount"] == 0
    assert after["dataRoot"] == "0x" + "00" * 32
