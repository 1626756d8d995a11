"""KPIs and time series for dashboards, from the pre-aggregated daily rows (paginated)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

import anyio
import anyio.to_thread
import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from pydantic_core import to_json
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dapp.api import aggregates
from dapp.api.deps import (
    AUDITOR,
    COMMUNITY_ADMIN,
    ORACLE_ADMIN,
    PLATFORM_ADMIN,
    TOKEN_HOLDER,
    CommunityAccess,
    PrincipalDep,
    SessionDep,
    active_holder_id,
    authorise,
    community_access,
    load_access,
    not_found,
)
from dapp.api.routes.identity import ERRORS
from dapp.api.schemas import AUTH_ERRORS, Offset, PathId, StrictModel
from dapp.api.security import Principal
from lec.calendar import period_id
from lec.db.models import MemberDailyKpi, UserCommunity
from lec.settings import Settings

router = APIRouter(prefix="/communities", tags=["dashboards"], responses={**AUTH_ERRORS, **ERRORS})

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
_ITEM = ("{" + ",".join(f'"{c}":%d' for c in _COLUMNS) + "}").encode()
_TOTAL_INDEX = tuple((c, _COLUMNS.index(c)) for c in _TOTALS)
_KPIS = MemberDailyKpi.__table__.c  # type: ignore[attr-defined]
_WHERE = (
    _KPIS.community_id == sa.bindparam("community_id"),
    _KPIS.user_id == sa.bindparam("user_id"),
    _KPIS.day >= sa.bindparam("first"),
    _KPIS.day <= sa.bindparam("last"),
)
# Built once: a Core statement with bound parameters is compiled once per engine and then found in
# SQLAlchemy's cache without rebuilding the expression per request.
_PAGE = (
    sa.select(*[_KPIS[c] for c in _COLUMNS])
    .where(*_WHERE)
    .order_by(_KPIS.day)
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset"))
)
_SUMS = sa.select(sa.func.count(), *[sa.func.sum(_KPIS[c]) for c in _TOTALS]).where(*_WHERE)


def page_body(rows: Sequence[Sequence[int]], total: int, sums: dict[str, int], limit: int, offset: int) -> bytes:
    """Pure: the `DailyPage` JSON of one page of (day, load_wh, …, samples) tuples, serialised in one call.

    The member dashboard is the API's hottest path; building 365 pydantic objects and letting FastAPI validate
    and re-serialise them took most of each request's CPU. The keys and values are those of `DailyPage`
    (tests/api/test_dashboard_page.py checks the body against the model).
    """
    load, prod, sc = sums["load_wh"], sums["production_wh"], sums["self_consumption_wh"]
    rest = to_json(
        {
            "total": total,
            "limit": limit,
            "offset": offset,
            "totals": sums,
            "self_consumption_pct": round(100 * sc / prod, 2) if prod else None,
            "self_sufficiency_pct": round(100 * sc / load, 2) if load else None,
        }
    )
    # Every item is eight integers (NOT NULL columns): one bytes format per row is about 3× faster than building
    # a dict per row for the JSON encoder, and writes the same bytes.
    return b'{"items":[' + b",".join([_ITEM % tuple(r) for r in rows]) + b"]," + rest[1:]


def _member_page(
    session: Session, community_id: int, user_id: int, first: int, last: int, limit: int, offset: int
) -> Response:
    # Plain Core tuples (no ORM objects); totals summed in Python when the page holds the whole range (the usual
    # case: a year fits one page), otherwise in SQL.
    params = {"community_id": community_id, "user_id": user_id, "first": first, "last": last}
    connection = session.connection()
    rows = connection.execute(_PAGE, {**params, "limit": limit, "offset": offset}).all()
    if offset == 0 and len(rows) < limit:
        total = len(rows)
        sums = {c: sum(r[i] for r in rows) for c, i in _TOTAL_INDEX}
    else:
        result = connection.execute(_SUMS, params).one()
        total, sums = int(result[0]), {c: int(v or 0) for c, v in zip(_TOTALS, result[1:], strict=True)}
    return Response(page_body(rows, total, sums, limit, offset), media_type="application/json")


@router.get("/{community_id}/me/daily", response_model=DailyPage)
async def my_daily(
    community_id: PathId,
    principal: PrincipalDep,
    request: Request,
    start: Start,
    end: End,
    limit: Limit = 366,
    offset: Offset = 0,
) -> Response:
    """The member dashboard: your energy per day, totals, self-consumption and self-sufficiency."""
    # The API's hottest route does its database work (membership check, then the page) in one worker thread
    # instead of one per dependency, and at most `DASHBOARD_READERS` at once: the work is CPU-bound under the
    # GIL, so more threads only add switching and pool overflow connections (docs/identity.md, performance).
    return await anyio.to_thread.run_sync(
        _my_page,
        request.app.state.engine,
        principal,
        community_id,
        start,
        end,
        limit,
        offset,
        limiter=_readers(request),
    )


def reader_count(settings: Settings, engine: Engine) -> int:
    """How many member dashboard pages are read at once (measured best: docs/identity.md, performance)."""
    if settings.dashboard_readers is not None:
        return settings.dashboard_readers
    return 2 if engine.dialect.name == "sqlite" else 4


def _readers(request: Request) -> anyio.CapacityLimiter:
    # Made on first use, inside the server's event loop (anyio's limiter belongs to it); no await between the
    # check and the assignment, so concurrent first requests share one limiter.
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "dashboard_readers", None)
    if limiter is None:
        limiter = state.dashboard_readers = anyio.CapacityLimiter(reader_count(state.settings, state.engine))
    return limiter


def _my_page(
    engine: Engine, principal: Principal, community_id: int, start: date, end: date, limit: int, offset: int
) -> Response:
    # Only reads: in autocommit mode the driver sends no BEGIN and no ROLLBACK, two of a request's round trips to
    # PostgreSQL. The two reads may then see different commits, as two requests a moment apart would.
    with (
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
        Session(bind=connection, expire_on_commit=False) as session,
    ):
        user_id = active_holder_id(session, principal, community_id)
        if user_id is None:
            access = authorise(load_access(session, principal, community_id), (TOKEN_HOLDER,))
            assert access.user is not None and access.user.id is not None
            user_id = access.user.id
        first, last = _bounds(start, end)
        return _member_page(session, community_id, user_id, first, last, limit, offset)


@router.get("/{community_id}/members/{user_id}/daily", response_model=DailyPage)
def member_daily(
    user_id: PathId, access: Admin, session: SessionDep, start: Start, end: End, limit: Limit = 366, offset: Offset = 0
) -> Response:
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
