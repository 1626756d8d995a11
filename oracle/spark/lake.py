"""The Delta Lake: readings, devices and members of every community, with pseudonymous ids only.

Three Delta tables under the lake's root (``LEC_LAKE``: a folder or an object-store URI):

- ``readings`` — one row per reading as stored by the oracle: ``community`` (on-chain id), ``date`` (the local
  day in Europe/Rome the reading's quarter hour starts in), ``device`` (the database's device id), ``flow``,
  ``quantity``, ``ts`` (Unix seconds), ``energy_wh`` and ``seq`` (the row id: arrival order, which cleaning
  needs — the last reading of a quarter hour wins). Partitioned by community and date.
- ``devices`` — ``community``, ``device``, ``pod`` (the meter's id the data leaves commit to), ``member``.
- ``members`` — ``community``, ``member`` (the wallet), ``user_id`` (the database row), ``profile``, ``active``.

No name, address or e-mail ever reaches the lake, and no salt: salts stay in the oracle's database. Export is
incremental (days already in the lake are skipped, but for the newest, which may have been exported before it
was over) and idempotent (a day is written with ``replaceWhere`` on its partition, in one Delta commit). A
member erased from the database is erased from the lake by the next export, or at once by :func:`forget`;
:func:`vacuum` then removes the files that still held their rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from lec.calendar import ROME, local_date, period_start
from lec.db.models import CounterReading, Flow
from lec.settings import lake_uri
from oracle.pipeline import PeriodError
from oracle.sources import community_row, member_devices

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

READINGS, DEVICES, MEMBERS = "readings", "devices", "members"
ENERGY_QUANTITIES = ("load", "production", "exchange", "storage")

READINGS_SCHEMA = (
    "community INT, date DATE, device BIGINT, flow INT, quantity STRING, ts BIGINT, energy_wh DOUBLE, seq BIGINT"
)
DEVICES_SCHEMA = "community INT, device BIGINT, pod STRING, member STRING"
MEMBERS_SCHEMA = "community INT, member STRING, user_id BIGINT, profile STRING, active BOOLEAN"

Say = Callable[[str], None]


def _quiet(_message: str) -> None:
    """The default ``say``: no progress lines."""


def table_path(name: str, lake: str | None = None) -> str:
    return f"{(lake or lake_uri()).rstrip('/')}/{name}"


def exists(spark: SparkSession, name: str, lake: str | None = None) -> bool:
    from delta.tables import DeltaTable

    return bool(DeltaTable.isDeltaTable(spark, table_path(name, lake)))


def read(spark: SparkSession, name: str, lake: str | None = None) -> DataFrame:
    """A lake table, or an empty frame of its schema when nothing was exported yet."""
    if exists(spark, name, lake):
        return spark.read.format("delta").load(table_path(name, lake))
    schema = {READINGS: READINGS_SCHEMA, DEVICES: DEVICES_SCHEMA, MEMBERS: MEMBERS_SCHEMA}[name]
    return spark.createDataFrame([], schema)


def local_dates(seconds: np.ndarray) -> np.ndarray:
    """The local day (Europe/Rome) each Unix second belongs to."""
    return pd.to_datetime(seconds, unit="s", utc=True).tz_convert(ROME).date


# ------------------------------------------------------------------------------------------------- export


@dataclass
class ExportReport:
    community: int
    days: list[date] = field(default_factory=list)  # days written this time
    readings: int = 0
    skipped: int = 0  # days already in the lake
    purged_devices: list[int] = field(default_factory=list)  # devices gone from the database, erased here


def database_snapshot(session: Session, chain_community_id: int) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    """The community's database row id, its members and their devices as the lake stores them."""
    community = community_row(session, chain_community_id)
    assert community.id is not None  # a row read from the database has its key
    members, devices = [], []
    for wallet, (membership, owned) in sorted(member_devices(session, community).items()):
        profile = membership.energy_profile
        members.append(
            {
                "community": chain_community_id,
                "member": wallet,
                "user_id": membership.user_id,
                "profile": str(profile.value if hasattr(profile, "value") else profile),
                "active": bool(membership.active),
            }
        )
        devices += [{"community": chain_community_id, "device": d.id, "pod": d.pod, "member": wallet} for d in owned]
    return (
        community.id,
        pd.DataFrame(members, columns=["community", "member", "user_id", "profile", "active"]),
        pd.DataFrame(devices, columns=["community", "device", "pod", "member"]),
    )


def _stored_days(session: Session, community_id: int) -> list[date]:
    """Every local day between the community's first and last reading in the database."""
    first, last = session.execute(
        sa.select(sa.func.min(CounterReading.timestamp), sa.func.max(CounterReading.timestamp)).where(
            CounterReading.community_id == community_id
        )
    ).one()
    if first is None:
        return []
    first, last = (t if isinstance(t, datetime) else datetime.fromisoformat(str(t)) for t in (first, last))
    start, end = (local_date(t if t.tzinfo else t.replace(tzinfo=UTC)) for t in (first, last))
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _readings_frame(session: Session, community_id: int, chain_community_id: int, days: list[date]) -> pd.DataFrame:
    """The readings of these local days, from the database, in the lake's columns."""
    flows = {
        f.id: str(f.quantity.value if hasattr(f.quantity, "value") else f.quantity) for f in session.exec(select(Flow))
    }
    frames = []
    # One query per run of consecutive days keeps each result small; days come sorted.
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    for run in runs:
        start = datetime.fromtimestamp(period_start(run[0]), UTC)
        end = datetime.fromtimestamp(period_start(run[-1] + timedelta(days=1)), UTC)
        rows = session.execute(
            sa.select(
                CounterReading.id,
                CounterReading.device_id,
                CounterReading.flow_id,
                sa.type_coerce(CounterReading.timestamp, sa.String),
                CounterReading.energy_wh,
            ).where(
                CounterReading.community_id == community_id,
                CounterReading.timestamp >= start,
                CounterReading.timestamp < end,
                CounterReading.energy_wh.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
        if rows:
            frames.append(pd.DataFrame.from_records(rows, columns=["seq", "device", "flow", "timestamp", "energy_wh"]))
    if not frames:
        return pd.DataFrame(columns=["community", "date", "device", "flow", "quantity", "ts", "energy_wh", "seq"])
    frame = pd.concat(frames, ignore_index=True)
    stamps = frame.pop("timestamp")
    parsed = pd.to_datetime(stamps, utc=True, format="ISO8601" if isinstance(stamps.iloc[0], str) else None)
    frame["ts"] = (parsed.astype("int64") // 1_000_000_000).to_numpy()
    frame["quantity"] = frame["flow"].map(flows)
    frame = frame[frame["quantity"].isin(ENERGY_QUANTITIES)]
    frame["date"] = local_dates(frame["ts"].to_numpy())
    frame["community"] = chain_community_id
    return frame[["community", "date", "device", "flow", "quantity", "ts", "energy_wh", "seq"]]


def _in_list(values: Iterable[object]) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, date | str) else str(v) for v in values)


def _overwrite(frame: DataFrame, name: str, where: str, partitions: list[str], lake: str | None) -> None:
    """Replace exactly the rows matching ``where`` with ``frame``, in one Delta commit (idempotent)."""
    (
        frame.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", where)
        .partitionBy(*partitions)
        .save(table_path(name, lake))
    )


def _rows(rows: Iterable[Iterable[object]]) -> set[tuple]:
    """Rows as comparable tuples (numpy scalars as Python values)."""
    return {tuple(v.item() if hasattr(v, "item") else v for v in row) for row in rows}


def _unchanged(spark: SparkSession, frame: pd.DataFrame, community: int, day: date, lake: str | None) -> bool:
    """Whether the lake already holds exactly the database's readings of this community's day. Readings are
    never updated in place (a re-sent reading is a no-op), so the count and the last row id tell."""
    from pyspark.sql import functions as F

    mine = frame[frame["date"] == day]
    stored = (
        read(spark, READINGS, lake)
        .where((F.col("community") == community) & (F.col("date") == day))
        .agg(F.count(F.lit(1)).alias("n"), F.max("seq").alias("last"))
        .collect()[0]
    )
    return int(stored["n"]) == len(mine) and (not len(mine) or int(stored["last"]) == int(mine["seq"].max()))


def exported_days(spark: SparkSession, chain_community_ids: list[int], lake: str | None = None) -> dict[int, set[date]]:
    """The local days each community already has in the lake."""
    readings = read(spark, READINGS, lake)
    rows = (
        readings.where(f"community IN ({_in_list(chain_community_ids)})")
        .select("community", "date")
        .distinct()
        .collect()
    )
    days: dict[int, set[date]] = {c: set() for c in chain_community_ids}
    for row in rows:
        days[int(row["community"])].add(row["date"])
    return days


def export(
    spark: SparkSession,
    session: Session,
    chain_community_ids: list[int],
    start: date | None = None,
    end: date | None = None,
    replace: bool = False,
    lake: str | None = None,
    say: Say = _quiet,
) -> list[ExportReport]:
    """Write the communities' members, devices and the readings of the days not yet in the lake.

    Days run from the first reading (or ``start``) to ``end`` (default today). The newest day already in the
    lake is written again if it changed (it may have been exported before it was over); with ``replace`` every
    day in the span is. Members and devices are written when they changed. Each table gets one Delta commit
    for all the communities, so a crash leaves a table as it was or fully written, and writing a day again
    replaces its partition: no reading is ever there twice.
    """
    if not chain_community_ids:
        return []
    reports = {c: ExportReport(c) for c in chain_community_ids}
    snapshots = {c: database_snapshot(session, c) for c in chain_community_ids}
    where = f"community IN ({_in_list(chain_community_ids)})"

    previous_devices = read(spark, DEVICES, lake).where(where).collect()
    for row in previous_devices:
        report = reports[int(row["community"])]
        if int(row["device"]) not in set(snapshots[report.community][2]["device"]):
            report.purged_devices.append(int(row["device"]))
    for report in reports.values():
        if report.purged_devices:
            # Devices erased from the database (right to be forgotten): their readings leave the lake too.
            forget_devices(spark, report.community, sorted(report.purged_devices), lake)
    members = pd.concat([m for _, m, _ in snapshots.values()], ignore_index=True)
    devices = pd.concat([d for _, _, d in snapshots.values()], ignore_index=True)
    previous_members = read(spark, MEMBERS, lake).where(where).collect()
    if _rows(previous_members) != _rows(members.itertuples(index=False)):
        _overwrite(spark.createDataFrame(members, MEMBERS_SCHEMA), MEMBERS, where, ["community"], lake)
    if _rows(previous_devices) != _rows(devices.itertuples(index=False)):
        _overwrite(spark.createDataFrame(devices, DEVICES_SCHEMA), DEVICES, where, ["community"], lake)

    last = end or local_date(datetime.now(UTC))
    done = {c: set() for c in chain_community_ids} if replace else exported_days(spark, chain_community_ids, lake)
    # The newest day in the lake may have been exported while it was still being measured (today, whose first
    # hours are also the context of yesterday's last gaps): it is read again, and written if it changed.
    newest = {c: max(days) for c, days in done.items() if days}
    for community, day in newest.items():
        done[community].discard(day)
    frames, partitions = [], []
    for community, (community_id, _, _) in snapshots.items():
        report = reports[community]
        days = [d for d in _stored_days(session, community_id) if (start is None or d >= start) and d <= last]
        report.skipped = sum(d in done[community] for d in days)
        days = [d for d in days if d not in done[community]]
        frame = _readings_frame(session, community_id, community, days) if days else None
        if frame is not None and community in newest and _unchanged(spark, frame, community, newest[community], lake):
            frame = frame[frame["date"] != newest[community]]
            report.skipped += 1
        if frame is not None and len(frame):
            report.readings = len(frame)
            report.days = sorted(set(frame["date"]))
            frames.append(frame)
            partitions.append(f"(community = {community} AND date IN ({_in_list(report.days)}))")
    if frames:
        data = spark.createDataFrame(pd.concat(frames, ignore_index=True), READINGS_SCHEMA)
        _overwrite(data, READINGS, " OR ".join(partitions), ["community", "date"], lake)
    for community, report in reports.items():
        say(
            f"Community {community}: {report.readings} readings of {len(report.days)} new day(s) exported, "
            f"{report.skipped} day(s) already in the lake, {len(snapshots[community][1])} members, "
            f"{len(snapshots[community][2])} devices"
            + (f", {len(report.purged_devices)} erased device(s) removed." if report.purged_devices else ".")
        )
    return list(reports.values())


# ---------------------------------------------------------------------------------------- forget, vacuum


def forget_devices(spark: SparkSession, chain_community_id: int, devices: list[int], lake: str | None = None) -> None:
    """Delete every reading of these devices and the devices themselves from the current tables."""
    from delta.tables import DeltaTable

    if not devices:
        return
    where = f"community = {int(chain_community_id)} AND device IN ({_in_list(int(d) for d in devices)})"
    for name in (READINGS, DEVICES):
        if exists(spark, name, lake):
            DeltaTable.forPath(spark, table_path(name, lake)).delete(where)


def forget(spark: SparkSession, chain_community_id: int, member: str, lake: str | None = None) -> list[int]:
    """Right to be forgotten: the member's readings, devices and membership leave the lake's current tables.

    Older versions of the tables still hold them until :func:`vacuum` removes those files. Returns the devices.
    """
    from delta.tables import DeltaTable

    wallet = member.lower()
    where = f"community = {int(chain_community_id)} AND lower(member) = '{wallet}'"
    if not all(c in "0123456789abcdefx" for c in wallet):
        raise PeriodError(f"{member!r} is not a wallet address.")
    devices = [int(r["device"]) for r in read(spark, DEVICES, lake).where(where).select("device").collect()]
    forget_devices(spark, chain_community_id, devices, lake)
    if exists(spark, MEMBERS, lake):
        DeltaTable.forPath(spark, table_path(MEMBERS, lake)).delete(where)
    return devices


def vacuum(spark: SparkSession, retain_hours: float, lake: str | None = None) -> dict[str, int]:
    """Remove the files no current table version needs and that are older than ``retain_hours``.

    Delta refuses a retention under 7 days unless its safety check is turned off for the session: a shorter
    one can break readers that still use an older version. The right to be forgotten may need it (docs/scale.md).
    """
    from delta.tables import DeltaTable

    if retain_hours < 168:
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    removed = {}
    for name in (READINGS, DEVICES, MEMBERS):
        if exists(spark, name, lake):
            before = _files(spark, name, lake)
            DeltaTable.forPath(spark, table_path(name, lake)).vacuum(retain_hours)
            removed[name] = before - _files(spark, name, lake)
    return removed


def _files(spark: SparkSession, name: str, lake: str | None) -> int:
    """How many data files are under a table's folder (current or not)."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    path = jvm.org.apache.hadoop.fs.Path(table_path(name, lake))
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())  # type: ignore[attr-defined]
    files = fs.listFiles(path, True)
    count = 0
    while files.hasNext():
        if files.next().getPath().getName().endswith(".parquet"):
            count += 1
    return count
