"""The dashboards' read model (`api_member_daily_kpis`): each member's energy per local day, summed from the
readings. Kept fresh by every path that writes readings — files, MQTT, the REST API, the simulator — and by every
period run, for just the days (and members) they touched; the API's dashboards only read it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from lec.calendar import day_window, period_id
from lec.db.models import CounterReading, Device, Flow, MemberDailyKpi
from lec.energy import GridPoint, grid_exchange, grid_point

# (community_id, local day, device_id) of readings just stored
Touched = set[tuple[int, date, int]]


def member_day_rows(frame: pd.DataFrame, community_id: int, day: int) -> list[MemberDailyKpi]:
    """Pure: readings (user_id, device_id, quantity, timestamp, energy_wh) of one day → one row per member.

    Each member's devices are put on the day's quarter hours and turned into load, production and grid
    exchange by the platform's one rule (:func:`lec.energy.grid_point`, :func:`lec.energy.grid_exchange`): an
    exchange meter's own readings win, a battery's charge is load, and self-consumption, injection and
    withdrawal are per quarter hour, never netted over the day, as the GSE definition wants.
    """
    rows = []
    for user_id, readings, _, point in _member_points(frame):
        n = point.load.size
        injection, withdrawal = grid_exchange(point.load, point.production, point.injection, point.withdrawal)
        rows.append(
            MemberDailyKpi(
                community_id=community_id,
                user_id=int(user_id),
                day=day,
                load_wh=int(point.load.sum()),
                production_wh=int(point.production.sum()),
                self_consumption_wh=int(np.minimum(point.load, point.production).sum()),
                injection_wh=int(injection.sum()),
                withdrawal_wh=int(withdrawal.sum()),
                peak_w=int(point.load.max()) * 4 if n else 0,  # Wh in 15 min → mean W
                samples=len(readings),
            )
        )
    return rows


def _member_points(frame: pd.DataFrame) -> Iterator[tuple[int, pd.DataFrame, pd.Index, GridPoint]]:
    """Each member's readings of a day put on their quarter hours and turned into a grid point (one rule)."""
    for user_id, readings in frame.groupby("user_id"):
        by_device = readings.pivot_table(
            index="timestamp", columns=["device_id", "quantity"], values="energy_wh", aggfunc="sum", fill_value=0.0
        )
        point = grid_point(
            (
                (quantity, np.rint(by_device[(device, quantity)].to_numpy(dtype=float)))
                for device, quantity in by_device
            ),
            len(by_device.index),
        )
        yield int(user_id), readings, by_device.index, point


def _day_readings(session: Session, community_id: int, day: date, users: list[int] | None) -> pd.DataFrame:
    """The day's readings (user_id, device_id, quantity, timestamp, energy_wh) of the community's members' devices
    (only these members' when `users` is given)."""
    start, end = day_window(day)
    query = (
        select(Device.user_id, Device.id, Flow.quantity, CounterReading.timestamp, CounterReading.energy_wh)  # type: ignore[call-overload]
        .join(Device, Device.id == CounterReading.device_id)  # type: ignore[arg-type]
        .join(Flow, Flow.id == CounterReading.flow_id)  # type: ignore[arg-type]
        .where(
            CounterReading.community_id == community_id,
            CounterReading.timestamp >= start,
            CounterReading.timestamp < end,
            Device.user_id.is_not(None),  # type: ignore[union-attr]
            CounterReading.energy_wh.is_not(None),  # type: ignore[union-attr]
        )
    )
    if users is not None:
        query = query.where(col(Device.user_id).in_(users))
    frame = pd.DataFrame(
        session.exec(query).all(),
        columns=["user_id", "device_id", "quantity", "timestamp", "energy_wh"],  # type: ignore[call-overload]
    )
    if not frame.empty:
        frame["quantity"] = frame["quantity"].map(lambda q: q.value if hasattr(q, "value") else q)
    return frame


def members_load(
    session: Session, community_id: int, user_ids: Iterable[int], days: Iterable[date]
) -> tuple[np.ndarray, np.ndarray, int]:
    """These members' load summed per quarter hour over the days: (Unix seconds, Wh, days with readings), for a
    group's mean daily curve (``oracle.kpi.mean_daily_curve``). Load by the platform's one rule (`grid_point`)."""
    users = sorted(set(user_ids))
    total: dict[int, float] = defaultdict(float)
    with_data = 0
    for day in sorted(set(days)):
        frame = _day_readings(session, community_id, day, users) if users else pd.DataFrame()
        if frame.empty:
            continue
        with_data += 1
        for _, _, index, point in _member_points(frame):
            for stamp, wh in zip(index, point.load, strict=True):
                total[int(pd.Timestamp(stamp).timestamp())] += float(wh)
    stamps = sorted(total)
    return np.array(stamps, dtype=np.int64), np.array([total[t] for t in stamps], dtype=float), with_data


def refresh(session: Session, community_id: int, days: Iterable[date], user_ids: Iterable[int] | None = None) -> int:
    """Recompute the members' rows of these days (only these members' when ``user_ids`` is given); returns how
    many rows were written."""
    users = None if user_ids is None else sorted(set(user_ids))
    if users == []:
        return 0
    written = 0
    for day in sorted(set(days)):
        frame = _day_readings(session, community_id, day, users)
        key = period_id(day)
        stale = delete(MemberDailyKpi).where(MemberDailyKpi.community_id == community_id, MemberDailyKpi.day == key)  # type: ignore[arg-type]
        if users is not None:
            stale = stale.where(col(MemberDailyKpi.user_id).in_(users))
        session.exec(stale)  # type: ignore[call-overload]
        rows = member_day_rows(frame, community_id, key) if not frame.empty else []
        session.add_all(rows)
        written += len(rows)
    session.commit()
    return written


def refresh_touched(engine: Engine, touched: Touched) -> int:
    """Refresh the days and members that newly stored readings touched (their devices' owners)."""
    if not touched:
        return 0
    days: dict[int, set[date]] = defaultdict(set)
    devices: dict[int, set[int]] = defaultdict(set)
    for community_id, day, device_id in touched:
        days[community_id].add(day)
        devices[community_id].add(device_id)
    written = 0
    with Session(engine) as session:
        for community_id in sorted(days):
            owners = session.exec(
                select(Device.user_id).where(
                    col(Device.id).in_(sorted(devices[community_id])),
                    col(Device.user_id).is_not(None),
                )
            ).all()
            written += refresh(session, community_id, days[community_id], {int(u) for u in owners if u is not None})
    return written
