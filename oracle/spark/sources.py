"""Where the Spark engine reads a job's readings, devices and members: the Delta Lake, or PostgreSQL over JDBC.

Both give the same three DataFrames in the lake's columns (``oracle.spark.lake``): readings of the days asked
for and the day either side (a day's cleaning looks 6 h beyond it), and the communities' devices and members.
Over JDBC the readings are read in parallel, one range of device ids per partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy.engine import make_url
from sqlmodel import Session

from lec.calendar import period_start
from lec.settings import get_settings
from oracle.pipeline import PeriodError
from oracle.spark.lake import DEVICES, DEVICES_SCHEMA, MEMBERS, MEMBERS_SCHEMA, READINGS, database_snapshot, read

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class JobInputs:
    readings: DataFrame
    devices: DataFrame
    members: DataFrame


def _span(days: list[date]) -> tuple[date, date]:
    return min(days) - timedelta(days=1), max(days) + timedelta(days=1)


def _communities(communities: list[int]) -> str:
    return ", ".join(str(int(c)) for c in communities)


def lake_inputs(
    spark: SparkSession, chain_community_ids: list[int], days: list[date], lake: str | None = None
) -> JobInputs:
    """The job's inputs from the lake; the partitions outside the span are never read."""
    from pyspark.sql import functions as F

    first, last = _span(days)
    where = F.expr(f"community IN ({_communities(chain_community_ids)})")
    readings = read(spark, READINGS, lake).where(where & F.col("date").between(first, last))
    members = read(spark, MEMBERS, lake).where(where)
    return JobInputs(readings, read(spark, DEVICES, lake).where(where), members)


def jdbc_options(database_url: str) -> dict[str, str]:
    """Spark's JDBC options for the platform's PostgreSQL (``DATABASE_URL`` in SQLAlchemy's form)."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise PeriodError(
            f"LEC_SPARK_SOURCE=jdbc reads PostgreSQL, but DATABASE_URL is {url.drivername}: export to the lake "
            "with `lec lake export` and use LEC_SPARK_SOURCE=lake."
        )
    options = {
        "url": f"jdbc:postgresql://{url.host or '127.0.0.1'}:{url.port or 5432}/{url.database}",
        "driver": "org.postgresql.Driver",
        "user": url.username or "postgres",
    }
    if url.password:
        options["password"] = str(url.password)
    return options


def jdbc_readings(spark: SparkSession, database_ids: dict[int, int], days: list[date], partitions: int) -> DataFrame:
    """The readings of the span straight from PostgreSQL, ``partitions`` ranges of device ids read in parallel.

    ``database_ids`` maps each community's on-chain id (``chain_community_id``) to its database row
    (``community_id``)."""
    from pyspark.sql import functions as F

    settings = get_settings()
    if not settings.database_url:
        raise PeriodError("LEC_SPARK_SOURCE=jdbc needs DATABASE_URL (a PostgreSQL database).")
    options = jdbc_options(settings.database_url)
    first, last = _span(days)
    start = datetime.fromtimestamp(period_start(first), UTC).isoformat()
    end = datetime.fromtimestamp(period_start(last + timedelta(days=1)), UTC).isoformat()
    case = " ".join(f"WHEN {row} THEN {chain}" for chain, row in database_ids.items())
    query = (
        f"SELECT r.id AS seq, r.device_id AS device, r.flow_id AS flow, f.quantity AS quantity, "
        f"CAST(EXTRACT(EPOCH FROM r.timestamp) AS BIGINT) AS ts, r.energy_wh, "
        f"CASE r.community_id {case} END AS community "
        f"FROM counterreading r JOIN flows f ON f.id = r.flow_id "
        f"WHERE r.community_id IN ({_communities(list(database_ids.values()))}) "
        f"AND r.timestamp >= '{start}' AND r.timestamp < '{end}' AND r.energy_wh IS NOT NULL"
    )
    bounds = (
        spark.read.format("jdbc")
        .options(**options, query=f"SELECT MIN(device) AS lo, MAX(device) AS hi FROM ({query}) q")
        .load()
        .collect()[0]
    )
    reader = spark.read.format("jdbc").options(**options, dbtable=f"({query}) AS readings")
    if bounds["lo"] is not None and bounds["hi"] > bounds["lo"]:
        reader = reader.options(
            partitionColumn="device",
            lowerBound=str(bounds["lo"]),
            upperBound=str(bounds["hi"] + 1),
            numPartitions=str(partitions),
        )
    readings = reader.load()
    local_day = F.to_date(F.from_utc_timestamp(F.timestamp_seconds("ts"), "Europe/Rome"))
    return readings.select(
        F.col("community").cast("int"),
        local_day.alias("date"),
        F.col("device").cast("bigint"),
        F.col("flow").cast("int"),
        F.lower(F.col("quantity").cast("string")).alias("quantity"),
        "ts",
        F.col("energy_wh").cast("double"),
        F.col("seq").cast("bigint"),
    ).where(F.col("quantity").isin("load", "production", "exchange", "storage"))


def database_inputs(
    spark: SparkSession, session: Session, chain_community_ids: list[int], days: list[date]
) -> JobInputs:
    """Readings over JDBC; members and devices from the database as the local engine reads them."""
    database_ids, members, devices = {}, [], []
    for chain_community_id in chain_community_ids:
        community_id, m, d = database_snapshot(session, chain_community_id)
        database_ids[chain_community_id] = community_id
        members.append(m)
        devices.append(d)
    readings = jdbc_readings(spark, database_ids, days, get_settings().spark_shuffle_partitions)
    return JobInputs(
        readings,
        spark.createDataFrame(pd.concat(devices, ignore_index=True), DEVICES_SCHEMA),
        spark.createDataFrame(pd.concat(members, ignore_index=True), MEMBERS_SCHEMA),
    )


def job_inputs(spark: SparkSession, session: Session, chain_community_ids: list[int], days: list[date]) -> JobInputs:
    """The inputs from the source the settings name (``LEC_SPARK_SOURCE``: lake or jdbc)."""
    if get_settings().spark_source == "jdbc":
        return database_inputs(spark, session, chain_community_ids, days)
    return lake_inputs(spark, chain_community_ids, days)
