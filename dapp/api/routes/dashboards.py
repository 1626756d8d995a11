"""KPIs and time series for dashboards, from the pre-aggregated daily rows (paginated)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlmodel import func, select

from dapp.api import aggregates
from dapp.api.deps import (
    AUDITOR,
    COMMUNITY_ADMIN,
    ORACLE_ADMIN,
    PLATFORM_ADMIN,
    TOKEN_HOLDER,
    CommunityAccess,
    SessionDep,
    community_access,
    not_found,
)
from dapp.api.models import MemberDailyKpi
from dapp.api.routes.identity import ERRORS
from dapp.api.schemas import AUTH_ERRORS, Offset, PathId, StrictModel
from oracle.db.models import UserCommunity
from oracle.proofs.encoding import period_id

router = APIRouter(prefix="/communities", tags=["dashboards"], responses={**AUTH_ERRORS, **ERRORS})

Holder = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER))]
Viewer = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, AUDITOR, PLATFORM_ADMIN))]
Admin = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, PLATFORM_ADMIN))]
Refresher = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, ORACLE_ADMIN, PLATFORM_ADMIN))]

Start = Annotated[date, Query(alias="from", description="First local day (YYYY-MM-DD).")]
End = Annotated[date, Query(alias="to", description="Last local day, inclusive (YYYY-MM-DD).")]
Limit = Annotated[int, Query(ge=1, le=400)]


class DailyKpi(BaseModel):
    day: int
    load_wh: int
    production_wh: int
    self_consumption_wh: int
    injection_wh: int
    withdrawal_wh: int
    peak_w: int
    samples: int


class DailyPage(BaseModel):
    items: list[DailyKpi]
    total: int
    limit: int
    offset: int
    totals: dict[str, int]
    self_consumption_pct: float | None
    self_sufficiency_pct: float | None


class CommunityDay(BaseModel):
    day: int
    members: int
    load_wh: int
    production_wh: int
    self_consumption_wh: int
    injection_wh: int
    withdrawal_wh: int


class RefreshRequest(StrictModel):
    start: date = Field(strict=False)  # ISO dates arrive as JSON strings
    end: date = Field(strict=False)


class RefreshResult(BaseModel):
    rows: int


def _bounds(start: date, end: date) -> tuple[int, int]:
    if end < start:
        raise HTTPException(422, detail="'to' is before 'from'; swap them.")
    if (end - start).days > 731:
        raise HTTPException(422, detail="Ask for at most two years at a time.")
    return period_id(start), period_id(end)


_COLUMNS = tuple(DailyKpi.model_fields)
_TOTALS = ("load_wh", "production_wh", "self_consumption_wh", "injection_wh", "withdrawal_wh")


def _member_page(  # noqa: ANN202
    session: SessionDep, community_id: int, user_id: int, first: int, last: int, limit: int, offset: int
):
    # The hot path of the member dashboard: plain column tuples (no ORM objects), totals summed in Python when the
    # page holds the whole range (the usual case: a year fits one page), otherwise in SQL.
    t = MemberDailyKpi
    where = (t.community_id == community_id, t.user_id == user_id, t.day >= first, t.day <= last)
    columns = [getattr(t, c) for c in _COLUMNS]
    rows = session.exec(select(*columns).where(*where).order_by(t.day).offset(offset).limit(limit)).all()  # type: ignore[call-overload,arg-type]
    items = [DailyKpi.model_construct(**dict(zip(_COLUMNS, r, strict=True))) for r in rows]
    if offset == 0 and len(rows) < limit:
        total = len(rows)
        sums = {c: sum(getattr(i, c) for i in items) for c in _TOTALS}
    else:
        result = session.exec(select(func.count(), *[func.sum(getattr(t, c)) for c in _TOTALS]).where(*where)).one()  # type: ignore[call-overload]
        total, sums = int(result[0]), {c: int(v or 0) for c, v in zip(_TOTALS, result[1:], strict=True)}
    load, prod, sc = sums["load_wh"], sums["production_wh"], sums["self_consumption_wh"]
    return DailyPage(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        totals=sums,
        self_consumption_pct=round(100 * sc / prod, 2) if prod else None,
        self_sufficiency_pct=round(100 * sc / load, 2) if load else None,
    )


@router.get("/{community_id}/me/daily", response_model=DailyPage)
def my_daily(
    access: Holder, session: SessionDep, start: Start, end: End, limit: Limit = 366, offset: Offset = 0
) -> DailyPage:
    """The member dashboard: your energy per day, totals, self-consumption and self-sufficiency."""
    first, last = _bounds(start, end)
    assert access.user is not None and access.user.id is not None and access.community.id is not None
    return _member_page(session, access.community.id, access.user.id, first, last, limit, offset)


@router.get("/{community_id}/members/{user_id}/daily", response_model=DailyPage)
def member_daily(
    user_id: PathId, access: Admin, session: SessionDep, start: Start, end: End, limit: Limit = 366, offset: Offset = 0
) -> DailyPage:
    """One member's days (community admin)."""
    first, last = _bounds(start, end)
    assert access.community.id is not None
    if session.get(UserCommunity, (access.community.id, user_id)) is None:
        raise not_found(f"User {user_id} is not a member of community {access.community.id}.")
    return _member_page(session, access.community.id, user_id, first, last, limit, offset)


@router.get("/{community_id}/kpis", response_model=list[CommunityDay])
def community_kpis(access: Viewer, session: SessionDep, start: Start, end: End) -> list[CommunityDay]:
    """The community's totals per day (no personal data: sums over members)."""
    first, last = _bounds(start, end)
    assert access.community.id is not None
    return [CommunityDay(**row) for row in aggregates.community_daily(session, access.community.id, first, last)]


@router.post("/{community_id}/kpis/refresh", response_model=RefreshResult)
def refresh_kpis(body: RefreshRequest, access: Refresher, session: SessionDep) -> RefreshResult:
    """Recompute the daily rows from the readings (after a bulk file import, for instance)."""
    _bounds(body.start, body.end)
    assert access.community.id is not None
    days = [date.fromordinal(o) for o in range(body.start.toordinal(), body.end.toordinal() + 1)]
    return RefreshResult(rows=aggregates.refresh(session, access.community.id, days))
