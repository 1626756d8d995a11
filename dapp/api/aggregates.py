"""The dashboards' read model: each member's energy per local day, pre-aggregated from the readings.

Dashboards ask for a year of a member's days at a time; reading 35 000 quarter hours per request would not
keep p95 under 100 ms, so days are summed once into `api_member_daily_kpis` — by every ingestion path and every
period run (:mod:`oracle.readmodel`, where the computation lives so that the oracle's paths can call it), or on
demand (`POST /communities/{id}/kpis/refresh`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from lec.db.models import MemberDailyKpi
from oracle.readmodel import member_day_rows, refresh

__all__ = ["community_daily", "member_day_rows", "refresh"]


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
