"""The community dashboard's second level (report §4.3.9): per device the electrical quantities readings carry
beside energy (voltage, current, reactive power, battery state of charge), the weather stations' temperature,
and the month's ranking of members by self-sufficiency — from the tables, no personal data beyond wallets."""

from __future__ import annotations

import calendar as month_calendar
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from lec.calendar import day_window, period_id
from lec.db.models import CounterReading, Device, MemberDailyKpi, UserCommunity, WeatherData

SIGNALS = ("voltage_v", "current_a", "power_reactive_var", "charge_status")


def _stats(count: Any, mean: Any, low: Any, high: Any) -> dict[str, Any]:
    return {
        "samples": int(count or 0),
        "mean": None if mean is None else round(float(mean), 3),
        "min": None if low is None else float(low),
        "max": None if high is None else float(high),
    }


def month_bounds(month: str) -> tuple[date, date]:
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1), date(year, number, month_calendar.monthrange(year, number)[1])


def community_details(session: Session, community_id: int, month: str) -> dict[str, Any]:
    first, last = month_bounds(month)
    start, end = day_window(first)[0], day_window(last)[1]
    readings, devices_t = CounterReading.__table__, Device.__table__  # type: ignore[attr-defined]
    r, d = readings.c, devices_t.c
    columns = [d.pod, d.kind]
    for name in SIGNALS:
        c = r[name]
        columns += [sa.func.count(c), sa.func.avg(c), sa.func.min(c), sa.func.max(c)]
    window = (r.community_id == community_id, r.timestamp >= start, r.timestamp < end)
    rows = (
        session.connection()
        .execute(
            sa.select(*columns)
            .select_from(readings.join(devices_t, d.id == r.device_id))
            .where(*window, sa.or_(*(r[name].is_not(None) for name in SIGNALS)))
            .group_by(d.pod, d.kind)
            .order_by(d.pod)
        )
        .all()
    )
    devices = [
        {
            "pod": row[0],
            "kind": str(row[1].value if hasattr(row[1], "value") else row[1]),
            **{name: _stats(*row[2 + 4 * i : 6 + 4 * i]) for i, name in enumerate(SIGNALS)},
        }
        for row in rows
    ]
    weather_t = WeatherData.__table__  # type: ignore[attr-defined]
    w = weather_t.c
    weather = [
        {"pod": pod, "temperature_c": _stats(n, mean, low, high)}
        for pod, n, mean, low, high in session.connection()
        .execute(
            sa.select(
                d.pod,
                sa.func.count(w.temperature_c),
                sa.func.avg(w.temperature_c),
                sa.func.min(w.temperature_c),
                sa.func.max(w.temperature_c),
            )
            .select_from(weather_t.join(devices_t, d.id == w.device_id))
            .where(w.community_id == community_id, w.timestamp >= start, w.timestamp < end)
            .group_by(d.pod)
            .order_by(d.pod)
        )
        .all()
    ]
    kpis_t, members_t = MemberDailyKpi.__table__, UserCommunity.__table__  # type: ignore[attr-defined]
    k, m = kpis_t.c, members_t.c
    totals = (
        session.connection()
        .execute(
            sa.select(
                m.wallet, sa.func.sum(k.load_wh), sa.func.sum(k.production_wh), sa.func.sum(k.self_consumption_wh)
            )
            .select_from(kpis_t.join(members_t, sa.and_(m.user_id == k.user_id, m.community_id == k.community_id)))
            .where(k.community_id == community_id, k.day >= period_id(first), k.day <= period_id(last))
            .group_by(m.wallet)
        )
        .all()
    )
    ranked = sorted(
        (
            {
                "wallet": wallet,
                "load_kwh": int(load or 0) / 1000,
                "production_kwh": int(prod or 0) / 1000,
                "self_sufficiency_pct": None if not load else round(100 * int(sc or 0) / int(load), 1),
            }
            for wallet, load, prod, sc in totals
        ),
        key=lambda x: (-(x["self_sufficiency_pct"] or -1.0), int(x["wallet"] or "0x0", 16)),
    )
    ranking = [{"rank": i + 1, **row} for i, row in enumerate(ranked)]
    return {"month": month, "devices": devices, "weather": weather, "ranking": ranking}
