"""Weather data (the report's table "Meteo", measurement table 2) from CSV or JSON files, like readings:
``device`` (a weather station's id), ``timestamp`` (ISO 8601 with offset, or Unix seconds) and any of
``temperature_c``, ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2``, ``cloud_cover`` (0–1), ``wind_speed_m_s``,
``humidity`` (%). Stored in `weatherdata` for the PV forecasts; a re-sent row is a no-op; a bad row is an anomaly
with its reason and row, and the good rows beside it are kept."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lec.db.enums import AnomalyReason, DeviceKind, FlowQuantity, ReadingSource
from lec.db.models import Device, DeviceFlow, Flow, WeatherData
from oracle.ingest.files import parse
from oracle.ingest.store import store_batch
from oracle.validation import CLOCK_SKEW, Rejection, parse_timestamp

# Plausible ranges (the signal labels of the report's weather table).
FIELDS = {
    "temperature_c": (-60.0, 60.0),
    "ghi_w_m2": (0.0, 1_500.0),
    "dni_w_m2": (0.0, 1_500.0),
    "dhi_w_m2": (0.0, 1_000.0),
    "cloud_cover": (0.0, 1.0),
    "wind_speed_m_s": (0.0, 100.0),
    "humidity": (0.0, 100.0),
}


@dataclass
class WeatherReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def summary(self, name: str) -> str:
        return (
            f"{name}: {self.accepted} weather rows stored, {self.duplicates} already stored, "
            f"{len(self.rejected)} rejected"
        )


@dataclass(frozen=True)
class Station:
    device_id: int
    community_id: int
    flow_id: int


def _stations(session: Session) -> dict[str, Station]:
    weather_flows = {f.id for f in session.exec(select(Flow).where(Flow.quantity == FlowQuantity.WEATHER))}
    links = session.exec(select(DeviceFlow)).all()
    out = {}
    for device in session.exec(select(Device).where(Device.kind == DeviceKind.WEATHER_STATION)):
        assert device.id is not None
        flows = sorted({link.flow_id for link in links if link.device_id == device.id} & weather_flows)
        flow_id = device.default_flow_id if device.default_flow_id in weather_flows else (flows[0] if flows else None)
        if flow_id is not None:
            out[device.pod] = Station(device.id, device.community_id, flow_id)
    return out


def check_row(raw: Any, stations: dict[str, Station], now: datetime, where: str) -> dict[str, Any] | Rejection:
    """One weather row as a `weatherdata` row, or the rejection that says why not."""
    if not isinstance(raw, dict):
        return Rejection(
            AnomalyReason.MALFORMED, "A weather row must be an object with device and timestamp.", raw, where=where
        )
    pod = str(raw.get("device") or "").strip()
    station = stations.get(pod)
    if station is None:
        return Rejection(
            AnomalyReason.UNKNOWN_DEVICE,
            f"{pod or 'A row without device'} is not a weather station of the platform: add it to the manifest.",
            raw,
            device_ref=pod or None,
            where=where,
        )
    try:
        moment = parse_timestamp(raw.get("timestamp"))
    except Exception as exc:  # validation's own refusal, carrying its reason
        return Rejection(
            getattr(exc, "reason", AnomalyReason.MALFORMED),
            str(exc),
            raw,
            pod,
            station.device_id,
            station.community_id,
            where=where,
        )
    base: dict[str, Any] = {
        "device_ref": pod,
        "device_id": station.device_id,
        "community_id": station.community_id,
        "where": where,
    }
    if moment > now + CLOCK_SKEW:
        return Rejection(
            AnomalyReason.FUTURE_TIMESTAMP, f"The row is dated {moment.isoformat()}, in the future.", raw, **base
        )
    row: dict[str, Any] = {
        "device_id": station.device_id,
        "flow_id": station.flow_id,
        "community_id": station.community_id,
        "timestamp": moment,
    }
    for name, (low, high) in FIELDS.items():
        value = raw.get(name)
        if value in (None, ""):
            row[name] = None
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            return Rejection(AnomalyReason.WRONG_TYPE, f"'{name}' is {str(value)[:40]!r}, not a number.", raw, **base)
        if not math.isfinite(number):
            return Rejection(AnomalyReason.NOT_FINITE, f"'{name}' is {number}.", raw, **base)
        if not low <= number <= high:
            return Rejection(
                AnomalyReason.OUT_OF_BOUNDS, f"'{name}' is {number}, outside {low:g}…{high:g}.", raw, **base
            )
        row[name] = number
    if all(row[name] is None for name in FIELDS):
        return Rejection(AnomalyReason.MALFORMED, f"The row has none of {', '.join(FIELDS)}.", raw, **base)
    return row


def ingest_weather(path: Path, engine: Engine, now: datetime | None = None) -> WeatherReport:
    """Store a file of weather rows (CSV or JSON, as readings); bad rows become anomalies."""
    _, rows = parse(path, path.read_bytes())  # UnreadableFile for a file that is not readings at all
    now = now or datetime.now(UTC)
    first = 2 if path.suffix.lower() == ".csv" else 1
    with Session(engine) as session:
        stations = _stations(session)
    checked = [check_row(raw, stations, now, f"row {first + i}") for i, raw in enumerate(rows)]
    good = [r for r in checked if isinstance(r, dict)]
    report = WeatherReport(rejected=[r for r in checked if isinstance(r, Rejection)])
    table = WeatherData.__table__  # type: ignore[attr-defined]
    tsi = int(now.timestamp() * 1000)
    with engine.begin() as connection:
        fresh = []
        seen = set()
        for row in good:
            key = (row["device_id"], row["flow_id"], row["timestamp"])
            exists = connection.execute(
                sa.select(table.c.id).where(
                    table.c.device_id == key[0], table.c.flow_id == key[1], table.c.timestamp == key[2]
                )
            ).first()
            if exists is not None or key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            fresh.append({**row, "tsi": tsi})
        if fresh:
            connection.execute(sa.insert(table), fresh)
        report.accepted = len(fresh)
        if report.rejected:
            store_batch(connection, [], report.rejected, ReadingSource.FILE, path.name)
    return report
