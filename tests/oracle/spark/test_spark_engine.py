"""The Spark engine gives the local engine's period files, roots, KPIs and clusters byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time

import pytest
from spark_world import DST_DAY, NORMAL_DAY, SMALL, populate, wallet

from lec.calendar import ROME, period_id, quarter_hours
from lec.db.enums import AnomalyReason
from oracle.flex.rewards import FlexibilityModel
from oracle.flex.settlement import FlexModelRef, flex_model
from oracle.gaps import find_silences
from oracle.pipeline import ModelRef, compute_period, write_period_files
from oracle.proofs.store import ensure_salts
from oracle.rewards.models import RewardModel
from oracle.series import cluster_report, kpi_report
from oracle.sources import load_inputs, open_session
from tests.support.flex import dr_event

pytestmark = pytest.mark.services

CAPPED = ModelRef(
    7,
    RewardModel(
        "sc-capped",
        "self-consumption",
        {"a": 10**15, "b": 5 * 10**14, "c": 5 * 10**14, "max_per_period": 10**15, "bonus_prosumer": 10**15},
    ),
)
COMBINED = ModelRef(
    8,
    RewardModel(
        "combined",
        "combined",
        {
            "a": 10**15,
            "b": 10**14,
            "c": 10**14,
            "rate": 10**15,
            "par_ref_bps": 30_000,
            "w_sc_bps": 6_000,
            "w_peak_bps": 4_000,
            "max_per_period": 10**24,
            "bonus_consumer": 10**12,
        },
    ),
)


def _local(community: int, day: date, model: ModelRef):
    with open_session() as session:
        inputs = load_inputs(session, community, day)
        salts = ensure_salts(
            session, community, period_id(day), [d.device_id for m in inputs.members for d in m.devices]
        )
    return compute_period(inputs, model, salts)


def _files(result, folder) -> dict[str, bytes]:
    written = write_period_files(result, 1981, folder)
    return {p.name: p.read_bytes() for p in sorted(written.iterdir())}


@pytest.mark.parametrize(("day", "model"), [(DST_DAY, CAPPED), (NORMAL_DAY, COMBINED)], ids=["dst-day", "normal-day"])
def test_one_spark_job_settles_two_communities_as_the_local_engine(spark, in_world, tmp_path, day, model):
    from oracle.spark.engine import compute_periods

    with open_session() as session:
        spark_results = compute_periods(spark, session, [1, 2], day, model)
    for community in (1, 2):
        local = _local(community, day, model)
        remote = spark_results[community]
        assert remote.onchain_fields() == local.onchain_fields()
        local_files = _files(local, tmp_path / "local")
        spark_files = _files(remote, tmp_path / "spark")
        assert set(local_files) == {"data.json", "rewards.json", "period.json"}
        assert spark_files == local_files  # data.json, rewards.json (standard-v1 dumps) and period.json, byte for byte
    one = spark_results[1]
    assert one.kpis.imputed_intervals > 0 and one.kpis.missing_intervals >= 28  # gaps: interpolated, and left missing
    assert one.leaf_count == 12  # a meter with two flows commits two leaves; the member without devices none
    assert len(json.loads(local_files["period.json"])["aggregates"]["communityLoad"]) == quarter_hours(day)
    if model is CAPPED:
        assert one.rewards.capped and one.total_rewards == 10**15
    # The silences the period run records as anomalies are the local engine's, gaps and silent devices alike.
    for community in (1, 2):
        expected = [pod for pods in in_world.pods[community].values() for pod in pods]
        local = find_silences(day, expected, _local(community, day, model).cleaned)
        assert find_silences(day, expected, spark_results[community].cleaned) == local
        if community == 1:
            assert any(s.reason == AnomalyReason.MISSING_READINGS for s in local)


FLEX_PARAMS = {"rate": 10**18, "min_performance_bps": 2_000, "max_per_period": 10**21}
FLEX_MODEL = FlexModelRef(
    9, FlexibilityModel("lec-flexibility", FLEX_PARAMS), flex_model("lec-flexibility", FLEX_PARAMS)[1]
)


def test_a_demand_response_day_on_spark_is_the_local_engines(spark, world, db_copy, monkeypatch):
    """A DR event 15–16 on the normal day (members 0, 1, 3, 4 dispatched 1 kW each, member 3 opting out; their
    history's event hours four times the day's load, so members deliver without the day's readings changing):
    `lec oracle run`'s computation on Spark commits the delivery leaves and the flexibility period leaf in the data
    tree and energy + flexibility in each member's reward leaf, files (flex.json too) and roots byte for byte the
    local engine's."""
    from oracle.period import compute_results

    monkeypatch.setenv("LEC_LAKE", world.lake)  # the world's lake, read only: the event day's readings are its own
    members = [wallet(i) for i in (0, 1, 3, 4)]
    start = datetime.combine(NORMAL_DAY, time(15), tzinfo=ROME).astimezone(UTC)
    with open_session() as session:
        dr_event(session, members, start, 4_000, opted_out=wallet(3), history_boost=4)
    quiet = lambda _m: None  # noqa: E731
    [remote] = compute_results([1], NORMAL_DAY, COMBINED, "spark", None, quiet, FLEX_MODEL)
    [local] = compute_results([1], NORMAL_DAY, COMBINED, "local", None, quiet, FLEX_MODEL)
    assert remote.flex is not None and local.flex is not None
    assert remote.onchain_fields() == local.onchain_fields()
    local_files = _files(local, db_copy / "local")
    assert set(local_files) == {"data.json", "rewards.json", "period.json", "flex.json"}
    assert _files(remote, db_copy / "spark") == local_files
    # Three measured deliveries (member 3 opted out) and the period leaf beside the 12 device-days' leaves.
    assert remote.flex.event_leaves == 3 and remote.leaf_count == 12 + 3 + 1
    assert {k for k in remote.leaves if k.startswith("flex:")} == set(remote.flex.leaves)
    # Each reward leaf is the member's energy reward (the same day without the event) plus its flexibility reward.
    energy = _local(1, NORMAL_DAY, COMBINED)
    assert remote.flex.total > 0 and set(remote.flex.amounts) <= {m for m in members if m != wallet(3)}
    paid = {a: x for a, x in zip(remote.rewards.accounts, remote.rewards.amounts, strict=True)}
    alone = {a: x for a, x in zip(energy.rewards.accounts, energy.rewards.amounts, strict=True)}
    assert paid == {a: alone[a] + remote.flex.amounts.get(a, 0) for a in alone}
    assert remote.total_rewards == energy.total_rewards + remote.flex.total


def test_kpis_and_clusters_on_spark_are_the_local_ones(spark, in_world):
    first, last = date(2026, 11, 23), NORMAL_DAY
    member = next(iter(in_world.pods[1]))
    assert kpi_report(1, first, last, engine="spark") == kpi_report(1, first, last)
    assert kpi_report(1, first, last, member, engine="spark") == kpi_report(1, first, last, member)
    local = cluster_report(1, first, last, 3, "euclidean")
    remote = cluster_report(1, first, last, 3, "euclidean", engine="spark")
    assert {k: v for k, v in remote.items() if k != "group"} == {k: v for k, v in local.items() if k != "group"}


def test_clusters_of_days_around_a_dst_day_on_spark_are_the_local_ones(spark, in_world):
    """Three days around the autumn change (24, 100 and 24 quarter hours of readings' margins): the DST day's
    repeated hour, a member's 7-hour gap left missing and another's imputed gap, the days before and after known
    only at their edges (the readings' 6 h margins, so mostly missing), a member without devices — each member
    cleaned and reduced to its curve in one member pass on Spark, the local engine day by day."""
    first, last = date(2026, 10, 24), date(2026, 10, 26)
    local = cluster_report(1, first, last, 3, "euclidean")
    remote = cluster_report(1, first, last, 3, "euclidean", engine="spark")
    assert {k: v for k, v in remote.items() if k != "group"} == {k: v for k, v in local.items() if k != "group"}
    assert local["k"] == 3 and len(local["assignments"]) == 8
    assert len({tuple(c["mean_wh"]) for c in local["clusters"]}) == 3  # three distinct curves, not all zero


@pytest.fixture
def chain(in_world, monkeypatch):
    """anvil with the platform deployed, the world's two communities in the Registry and COMBINED registered as
    ``spark-combined``: what `lec oracle run` reads its model from and notarises on."""
    from eth_account import Account
    from web3 import Web3

    from lec.chain.contracts import abi
    from oracle.period import register_model
    from tests.support.anvil import KEYS, anvil
    from tests.support.platform import deploy_platform, send

    with anvil() as url:
        w3 = Web3(Web3.HTTPProvider(url))
        admin = Account.from_key(KEYS[0])
        deployments = deploy_platform(w3, admin, "Spark LEC 1", "SLEC1")
        registry = w3.eth.contract(address=deployments["contracts"]["Registry"], abi=abi("Registry"))
        send(w3, registry.functions.createCommunity("Spark LEC 2", "SLEC2", admin.address), admin)
        folder = in_world.data_dir / "deployments"
        folder.mkdir(exist_ok=True)
        (folder / "1981.json").write_text(json.dumps(deployments))
        env = {"LEC_RPC_URL": url, "LEC_DEPLOYMENTS_DIR": str(folder), "LEC_ORACLE_PRIVATE_KEY": KEYS[0]}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        register_model("spark-combined", COMBINED.model.kind, COMBINED.model.params, url)
        notary = w3.eth.contract(address=deployments["contracts"]["Notary"], abi=abi("Notary"))
        yield env, notary


def test_lec_oracle_run_on_a_standalone_cluster_settles_and_notarises_each_community(
    in_world, chain, standalone_cluster, tmp_path
):
    """`lec oracle run --engine spark --master spark://…` with two communities: one job on the cluster (a driver
    of its own, executors on the worker), then each community's files and its own notarisation — the files
    byte for byte the local engine's, the records on chain its roots."""
    from lec.chain.client import ChainClient
    from oracle.period import compute_results, model_ref

    env, notary = chain
    model = model_ref(ChainClient.connect(None), "spark-combined")
    results = compute_results([1, 2], NORMAL_DAY, model, "local", None, lambda _m: None)
    local = {r.chain_community_id: r for r in results}
    command = {
        **os.environ,
        **env,
        "LEC_DATA_DIR": str(in_world.data_dir),
        "LEC_SPARK_DRIVER_MEMORY": "1g",
        "LEC_SPARK_SHUFFLE_PARTITIONS": "2",
        "LEC_SPARK_CONF": json.dumps({k: v for k, v in SMALL.items() if k != "spark.driver.memory"}),
    }
    command.pop("DATABASE_URL", None)
    lec = os.path.join(os.path.dirname(sys.executable), "lec")
    out = subprocess.run(
        [lec, "oracle", "run", "--community", "1", "--community", "2", "--period", NORMAL_DAY.isoformat()]
        + ["--model", "spark-combined", "--publish", "--engine", "spark", "--master", standalone_cluster.url],
        capture_output=True,
        text=True,
        env=command,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "device-days cleaned in 2 community(ies)." in out.stdout  # one Spark job for both
    for community in (1, 2):
        folder = in_world.data_dir / "periods" / str(community) / NORMAL_DAY.isoformat()
        expected = _files(local[community], tmp_path / "local")
        summary, computed = json.loads((folder / "period.json").read_text()), json.loads(expected["period.json"])
        assert summary.pop("notarisation")["version"] == 1 and computed.pop("notarisation") is None
        assert summary == computed
        assert (folder / "data.json").read_bytes() == expected["data.json"]
        assert (folder / "rewards.json").read_bytes() == expected["rewards.json"]
        record = notary.functions.record(community, period_id(NORMAL_DAY), 1).call()
        assert "0x" + bytes(record[0]).hex() == local[community].data_root
        assert "0x" + bytes(record[1]).hex() == local[community].rewards_root


def test_the_jdbc_source_reads_postgresql_as_the_local_engine(spark, make_postgres_db, monkeypatch, tmp_path):
    """Readings straight from PostgreSQL over JDBC, partitioned by device id, settle the same period."""
    from lec.db.session import dispose_engines
    from oracle.spark.engine import compute_periods

    monkeypatch.setenv("LEC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", make_postgres_db())
    monkeypatch.setenv("LEC_SPARK_SOURCE", "jdbc")
    try:
        with open_session() as session:
            populate(session, [NORMAL_DAY])
        with open_session() as session:
            remote = compute_periods(spark, session, [1], NORMAL_DAY, COMBINED)[1]
        local = _local(1, NORMAL_DAY, COMBINED)
        assert _files(remote, tmp_path / "spark") == _files(local, tmp_path / "local")
    finally:
        dispose_engines()
