"""Storing validated readings: duplicates are no-ops, conflicting duplicates anomalies, rejections anomalies.

One call stores one batch in one transaction: the valid readings, and an `anomalies` row for every
rejection. Existing rows are looked up once per batch (one indexed range query), so a re-sent batch costs a
read, not a failed insert per row. Bulk paths: PostgreSQL's binary COPY, SQLite's executemany.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from lec.calendar import local_date
from lec.db.enums import AnomalyReason, ReadingSource
from lec.db.models import Anomaly, Community, CounterReading, Device, DeviceFlow, Flow
from oracle.validation import Catalogue, DeviceInfo, Reading, Rejection

_COLUMNS = (
    "device_id",
    "flow_id",
    "community_id",
    "timestamp",
    "energy_wh",
    "power_active_w",
    "power_reactive_var",
    "current_a",
    "voltage_v",
    "charge_status",
    "tsi",
    "source",
)
_VALUE_COLUMNS = ("energy_wh", "power_active_w", "power_reactive_var", "current_a", "voltage_v", "charge_status")


@dataclass
class BatchOutcome:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # (community, local day, device) of the readings newly stored: what the dashboards' read model must refresh
    touched: set[tuple[int, date, int]] = field(default_factory=set)

    def merge(self, other: BatchOutcome) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.touched |= other.touched


def load_catalogue(engine: Engine) -> Catalogue:
    """Read communities, devices (with their flows and bounds) and flows' quantities."""
    with Session(engine) as session:
        flows_of: dict[int, set[int]] = {}
        for device_id, flow_id in session.exec(select(DeviceFlow.device_id, DeviceFlow.flow_id)).all():
            flows_of.setdefault(device_id, set()).add(flow_id)
        devices = {}
        for d in session.exec(select(Device)).all():
            assert d.id is not None
            ids = set(flows_of.get(d.id, set()))
            if d.default_flow_id is not None:
                ids.add(d.default_flow_id)
            devices[d.pod] = DeviceInfo(
                id=d.id,
                pod=d.pod,
                community_id=d.community_id,
                default_flow_id=d.default_flow_id,
                flow_ids=frozenset(ids),
                activated_at=d.activated_at,
                min_energy_wh=d.min_energy_wh,
                max_energy_wh=d.max_energy_wh,
                max_power_w=d.max_power_w,
            )
        return Catalogue(
            communities={c for c in session.exec(select(Community.id)).all() if c is not None},
            devices=devices,
            flows={f.id: f.quantity for f in session.exec(select(Flow)).all() if f.id is not None},
        )


def _existing(connection: Connection, readings: Sequence[Reading]) -> dict[tuple[int, int, datetime], tuple]:
    table = CounterReading.__table__  # type: ignore[attr-defined]
    device_ids = sorted({r.device_id for r in readings})
    lo = min(r.timestamp for r in readings)
    hi = max(r.timestamp for r in readings)
    query = sa.select(
        table.c.device_id, table.c.flow_id, table.c.timestamp, *[table.c[c] for c in _VALUE_COLUMNS]
    ).where(table.c.device_id.in_(device_ids), table.c.timestamp >= lo, table.c.timestamp <= hi)
    return {(row[0], row[1], row[2]): tuple(row[3:]) for row in connection.execute(query)}


def _conflict(reading: Reading, stored: tuple, where_hint: str | None) -> Rejection:
    return Rejection(
        reason=AnomalyReason.CONFLICTING_DUPLICATE,
        message=(
            f"A reading for the same device, flow and time ({reading.timestamp.isoformat()}) is already stored with "
            f"different values (stored energy_wh {stored[0]}, received {reading.energy_wh}); the stored one is kept "
            "and this one is held for review."
        ),
        raw={
            "received": dict(zip(_VALUE_COLUMNS, reading.values, strict=True)),
            "stored": dict(zip(_VALUE_COLUMNS, stored, strict=True)),
            "timestamp": reading.timestamp.isoformat(),
        },
        device_id=reading.device_id,
        community_id=reading.community_id,
        flow_id=reading.flow_id,
        timestamp=reading.timestamp,
        where=where_hint,
    )


def _sqlite_time(ts: datetime) -> str:
    # SQLAlchemy's storage format for SQLite DATETIME, so rows written here read back like ORM-written ones.
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert_sqlite(connection: Connection, rows: Sequence[Reading], tsi: int, source: str) -> None:
    placeholders = ", ".join("?" for _ in _COLUMNS)
    sql = (
        f"INSERT INTO counterreading ({', '.join(_COLUMNS)}) VALUES ({placeholders}) "
        "ON CONFLICT (device_id, timestamp, flow_id) DO NOTHING"
    )
    connection.exec_driver_sql(
        sql,
        [_row_values(r, tsi, source, _sqlite_time) for r in rows],
    )


def _row_values(r, tsi, source, timestamp: Callable[[Any], Any] = lambda t: t) -> tuple:
    """A reading as the counterreading row every bulk path writes, in `_COLUMNS` order; `timestamp` adapts the
    time to the driver (SQLite stores text)."""
    return (
        r.device_id,
        r.flow_id,
        r.community_id,
        timestamp(r.timestamp),
        r.energy_wh,
        r.power_active_w,
        r.power_reactive_var,
        r.current_a,
        r.voltage_v,
        r.charge_status,
        tsi,
        source,
    )


def _copy_postgres(connection: Connection, rows: Sequence[Reading], tsi: int, source: str) -> None:
    raw = connection.connection.driver_connection
    assert raw is not None  # a live psycopg connection inside the caller's transaction
    types = [
        "int4",
        "int4",
        "int4",
        "timestamptz",
        "float8",
        "float8",
        "float8",
        "float8",
        "float8",
        "float8",
        "int8",
        "text",
    ]
    # A savepoint, so a row written meanwhile by another ingester (unique violation) falls back to the
    # conflict-tolerant path instead of failing the batch.
    try:
        copy_sql = f"COPY counterreading ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        with raw.transaction(), raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            copy.set_types(types)
            for r in rows:
                copy.write_row(_row_values(r, tsi, source))
    except Exception as error:  # psycopg.errors.UniqueViolation, imported lazily with the driver
        if type(error).__name__ != "UniqueViolation":
            raise
        with raw.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO counterreading ({', '.join(_COLUMNS)}) VALUES ({', '.join('%s' for _ in _COLUMNS)}) "
                "ON CONFLICT (device_id, timestamp, flow_id) DO NOTHING",
                [_row_values(r, tsi, source) for r in rows],
            )


def _anomaly_rows(rejections: Sequence[Rejection], source: ReadingSource, source_ref: str | None) -> list[dict]:
    now = datetime.now(UTC)
    return [
        {
            "detected_at": now,
            "community_id": r.community_id,
            "device_id": r.device_id,
            "flow_id": r.flow_id,
            "device_ref": r.device_ref,
            "timestamp": r.timestamp,
            "reason": r.reason,
            "message": r.message,
            "source": source,
            "source_ref": " ".join(part for part in (source_ref, r.where) if part)[:255] or None,
            "payload": r.payload_text(),
        }
        for r in rejections
    ]


def store_batch(
    connection: Connection,
    readings: Sequence[Reading],
    rejections: Sequence[Rejection],
    source: ReadingSource,
    source_ref: str | None = None,
) -> BatchOutcome:
    """Store one batch inside the caller's transaction; returns what was accepted, duplicate and rejected."""
    return store_groups(connection, [(readings, rejections)], source, source_ref)[0]


def store_groups(
    connection: Connection,
    groups: Sequence[tuple[Sequence[Reading], Sequence[Rejection]]],
    source: ReadingSource,
    source_ref: str | None = None,
) -> list[BatchOutcome]:
    """Store several groups (e.g. MQTT messages) with one look-up and one bulk write; one outcome per group.

    Within the whole call the first occurrence of a (device, flow, timestamp) wins, in group order.
    """
    outcomes = [BatchOutcome(rejected=list(rejections)) for _, rejections in groups]
    flat = [(g, reading) for g, (readings, _) in enumerate(groups) for reading in readings]
    if flat:
        seen = _existing(connection, [reading for _, reading in flat])
        new: list[Reading] = []
        for g, reading in flat:
            stored = seen.get(reading.key)
            if stored is None:
                seen[reading.key] = reading.values
                new.append(reading)
                outcomes[g].accepted += 1
                outcomes[g].touched.add((reading.community_id, local_date(reading.timestamp), reading.device_id))
            elif stored == reading.values:
                outcomes[g].duplicates += 1
            else:
                outcomes[g].rejected.append(_conflict(reading, stored, None))
        if new:
            tsi = time.time_ns() // 1_000_000
            if connection.dialect.name == "postgresql":
                _copy_postgres(connection, new, tsi, source.value)
            else:
                _insert_sqlite(connection, new, tsi, source.value)
    rejected = [r for outcome in outcomes for r in outcome.rejected]
    if rejected:
        connection.execute(sa.insert(Anomaly.__table__), _anomaly_rows(rejected, source, source_ref))  # type: ignore[attr-defined]
    return outcomes
