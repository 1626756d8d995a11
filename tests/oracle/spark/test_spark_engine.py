"""The Spark engine gives the local engine's period files, roots, KPIs and clusters byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from spark_world import DST_DAY, NORMAL_DAY, SMALL, populate

from lec.calendar import period_id, quarter_hours
from oracle.pipeline import ModelRef, compute_period, write_period_files
from oracle.proofs.store import ensure_salts
from oracle.rewards.models import RewardModel
from oracle.series import cluster_report, kpi_report
from oracle.sources import load_inputs, open_session

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


def test_kpis_and_clusters_on_spark_are_the_local_ones(spark, in_world):
    first, last = date(2026, 11, 23), NORMAL_DAY
    member = next(iter(in_world.pods[1]))
    assert kpi_report(1, first, last, engine="spark") == kpi_report(1, first, last)
    assert kpi_report(1, first, last, member, engine="spark") == kpi_report(1, first, last, member)
    local = cluster_report(1, first, last, 3, "euclidean")
    remote = cluster_report(1, first, last, 3, "euclidean", engine="spark")
    assert {k: v for k, v in remote.items() if k != "group"} == {k: v for k, v in local.items() if k != "group"}


def test_the_period_command_runs_on_a_standalone_cluster(in_world, standalone_cluster, tmp_path):
    """`lec oracle kpi --engine spark --master spark://…`: a driver of its own, executors on the worker."""
    env = {
        **os.environ,
        "LEC_DATA_DIR": str(in_world.data_dir),
        "LEC_SPARK_DRIVER_MEMORY": "1g",
        "LEC_SPARK_SHUFFLE_PARTITIONS": "2",
        "LEC_SPARK_CONF": json.dumps({k: v for k, v in SMALL.items() if k != "spark.driver.memory"}),
    }
    env.pop("DATABASE_URL", None)
    lec = os.path.join(os.path.dirname(sys.executable), "lec")
    day = NORMAL_DAY.isoformat()
    out = subprocess.run(
        [lec, "oracle", "kpi", "--community", "2", "--from", day, "--to", day, "--json"]
        + ["--engine", "spark", "--master", standalone_cluster.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == kpi_report(2, NORMAL_DAY, NORMAL_DAY)


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
