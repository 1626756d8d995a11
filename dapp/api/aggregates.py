"""The dashboards' read model: each member's energy per local day, pre-aggregated from the readings.

Dashboards ask for a year of a member's days at a time; reading 35 000 quarter hours per request would not
keep p95 under 100 ms, so days are summed once (after ingestion, or on demand) into `api_member_daily_kpis`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, delete, select

from lec.calendar import day_window, period_id
from lec.db.models import CounterReading, Device, Flow, MemberDailyKpi
from lec.energy import grid_exchange, grid_point


def member_day_rows(frame: pd.DataFrame, community_id: int, day: int) -> list[MemberDailyKpi]:
    """Pure: readings (user_id, device_id, quantity, timestamp, energy_wh) of one day → one row per member.

    Each member's devices are put on the day's quarter hours and turned into load, production and grid
    exchange by the platform's one rule (:func:`lec.energy.grid_point`, :func:`lec.energy.grid_exchange`): an
    exchange meter's own readings win, a battery's charge is load, and self-consumption, injection and
    withdrawal are per quarter hour, never netted over the day, as the GSE definition wants.
    """
    rows = []
    for user_id, readings in frame.groupby("user_id"):
        by_device = readings.pivot_table(
            index="timestamp", columns=["device_id", "quantity"], values="energy_wh", aggfunc="sum", fill_value=0.0
        )
        n = len(by_device.index)
        point = grid_point(
            (
                (quantity, np.rint(by_device[(device, quantity)].to_numpy(dtype=float)))
                for device, quantity in by_device
            ),
            n,
        )
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


def refresh(session: Session, community_id: int, days: Iterable[date]) -> int:
    """Recompute the members' rows of these days; returns how many rows were written."""
    written = 0
    for day in sorted(set(days)):
        start, end = day_window(day)
        query = (
            select(Device.user_id, Device.id, Flow.quantity, CounterReading.timestamp, CounterReading.energy_wh)
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
        frame = pd.DataFrame(
            session.exec(query).all(),
            columns=["user_id", "device_id", "quantity", "timestamp", "energy_wh"],  # type: ignore[call-overload]
        )
        if not frame.empty:
            frame["quantity"] = frame["quantity"].map(lambda q: q.value if hasattr(q, "value") else q)
        key = period_id(day)
        session.exec(
            delete(MemberDailyKpi).where(MemberDailyKpi.community_id == community_id, MemberDailyKpi.day == key)
        )  # type: ignore[arg-type,call-overload]
        rows = member_day_rows(frame, community_id, key) if not frame.empty else []
        session.add_all(rows)
        written += len(rows)
    session.commit()
    return written


def community_daily(session: Session, community_id: int, first: int, last: int) -> list[dict[str, int]]:
    """The community's totals per day (sums over members) between two YYYYMMDD days, inclusive."""
    t = MemberDailyKpi
    cols = ("load_wh", "production_wh", "self_consumption_wh", "injection_wh", "withdrawal_wh")
    query = (
        sa.select(t.day, sa.func.count(), *[sa.func.sum(getattr(t, c)) for c in cols])  # type: ignore[arg-type]
        .where(t.community_id == community_id, t.day >= first, t.day <= last)  # type: ignore[arg-type]
        .group_by(t.day)  # type: ignore[arg-type]
        .order_by(t.day)  # type: ignore[arg-type]
    )
    return [
        {"day": day, "members": members, **{c: int(v or 0) for c, v in zip(cols, sums, strict=True)}}
        for day, members, *sums in session.exec(query).all()  # type: ignore[call-overload]
    ]
