"""Readings that never came (report §4.3.9, *mancanza di rilevazione*) as anomalies: a member's device silent for
a whole day, and each run of quarter hours a device left without a reading (filled by interpolation or left
missing). Found by the period run after cleaning; recorded once, so a re-run adds nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlmodel import Session, select

from lec.calendar import ROME, STEP_SECONDS, period_start, quarter_hours
from lec.db.enums import AnomalyReason, DeviceKind, ReadingSource
from lec.db.models import Anomaly, Device
from oracle.clean import CleanDay


@dataclass(frozen=True)
class Silence:
    pod: str
    reason: AnomalyReason
    start: datetime
    message: str


def _local(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%H:%M")


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return [(int(a), int(b - a)) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)]


def find_silences(day: date, expected: Iterable[str], cleaned: dict[str, CleanDay]) -> list[Silence]:
    """Pure: the day's silent devices (``expected`` PODs with nothing at all) and every gap of the others.
    ``cleaned`` is keyed as the period run keys leaves (``POD`` or ``POD#quantity``)."""
    start = period_start(day)
    out = []
    heard: dict[str, list[tuple[str, CleanDay]]] = {}
    for leaf, clean in cleaned.items():
        heard.setdefault(leaf.split("#", 1)[0], []).append((leaf, clean))
    for pod in sorted(set(expected) | set(heard)):
        days = heard.get(pod, [])
        absent = [c.missing & ~c.imputed for _, c in days]
        if not days or all(a.all() for a in absent):
            midnight = datetime.fromtimestamp(start, UTC)
            out.append(Silence(pod, AnomalyReason.SILENT_DEVICE, midnight, f"The device sent no reading on {day}."))
            continue
        for leaf, clean in days:
            for first, length in _runs(clean.missing | clean.imputed):
                begin = datetime.fromtimestamp(start + first * STEP_SECONDS, UTC)
                end = datetime.fromtimestamp(start + (first + length) * STEP_SECONDS, UTC)
                filled = bool(clean.imputed[first : first + length].all())
                what = "filled by interpolation" if filled else "left missing"
                name = leaf.split("#", 1)[1] + " " if "#" in leaf else ""
                out.append(
                    Silence(
                        pod,
                        AnomalyReason.MISSING_READINGS,
                        begin,
                        f"No {name}reading from {_local(begin)} to {_local(end)} on {day} "
                        f"({length} of {quarter_hours(day)} quarter hours, {what}).",
                    )
                )
    return out


def record_silences(session: Session, community_id: int, day: date, cleaned: dict[str, CleanDay]) -> int:
    """Store the day's silences of the community's member devices as anomalies (each once); how many were new."""
    devices = session.exec(select(Device).where(Device.community_id == community_id)).all()
    by_pod = {d.pod: d for d in devices}
    expected = [d.pod for d in devices if d.user_id is not None and d.kind != DeviceKind.WEATHER_STATION]
    new = 0
    for silence in find_silences(day, expected, cleaned):
        device = by_pod.get(silence.pod)
        known = session.exec(
            select(Anomaly.id).where(
                Anomaly.community_id == community_id,
                Anomaly.device_ref == silence.pod,
                Anomaly.reason == silence.reason,
                Anomaly.timestamp == silence.start,
                Anomaly.message == silence.message,
            )
        ).first()
        if known is not None:
            continue
        session.add(
            Anomaly(
                community_id=community_id,
                device_id=device.id if device else None,
                device_ref=silence.pod,
                timestamp=silence.start,
                reason=silence.reason,
                message=silence.message,
                source=ReadingSource.FILE,
                source_ref=f"period {day.isoformat()}",
            )
        )
        new += 1
    session.commit()
    return new
