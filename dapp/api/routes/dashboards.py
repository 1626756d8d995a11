"""KPIs and time series for dashboards, from the pre-aggregated daily rows (paginated)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.engine import Engine

from dapp.api import aggregates
from dapp.api.deps import CommunityAccess, CommunityAdmin, CommunityReader, PrincipalDep, SessionDep, community_access
from dapp.api.errors import AUTH_ERRORS, ERRORS, not_found
from dapp.api.guards import GuardedRoute
from dapp.api.roles import COMMUNITY_ADMIN, ORACLE_ADMIN, PLATFORM_ADMIN
from dapp.api.schemas.common import Offset, PathId
from dapp.api.schemas.dashboards import CommunityDay, DailyPage, RefreshRequest, RefreshResult
from dapp.api.services import dashboards
from lec.db.models import UserCommunity

router = APIRouter(
    prefix="/communities", tags=["dashboards"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute
)

Refresher = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, ORACLE_ADMIN, PLATFORM_ADMIN))]

Start = Annotated[date, Query(alias="from", description="First local day (YYYY-MM-DD).")]
End = Annotated[date, Query(alias="to", description="Last local day, inclusive (YYYY-MM-DD).")]
Limit = Annotated[int, Query(ge=1, le=400)]
JSON = "application/json"


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
    # On PostgreSQL the usual request (a token holder's first page) is one statement awaited on the event loop.
    pages = _first_pages(request)
    if pages is not None and (body := await pages.read(principal, community_id, start, end, limit, offset)):
        return Response(body, media_type=JSON)
    # Every other case, and SQLite: the database work (membership check, then the page) in one worker thread
    # instead of one per dependency, and at most `DASHBOARD_READERS` at once: the work is CPU-bound under the
    # GIL, so more threads only add switching and pool overflow connections (docs/identity.md, performance).
    body = await anyio.to_thread.run_sync(
        dashboards.my_page,
        _reader_engine(request),
        principal,
        community_id,
        start,
        end,
        limit,
        offset,
        limiter=_readers(request),
    )
    return Response(body, media_type=JSON)


def _reader_engine(request: Request) -> Engine:
    state = request.app.state
    engine: Engine | None = getattr(state, "dashboard_engine", None)
    if engine is None:
        engine = state.dashboard_engine = dashboards.reader_engine(state.engine)
    return engine


def _first_pages(request: Request) -> dashboards.FirstPages | None:
    state = request.app.state
    if not hasattr(state, "dashboard_pages"):
        state.dashboard_pages = dashboards.first_pages(
            state.engine, dashboards.reader_count(state.settings, state.engine)
        )
    pages: dashboards.FirstPages | None = state.dashboard_pages
    return pages


def _readers(request: Request) -> anyio.CapacityLimiter:
    # Made on first use, inside the server's event loop (anyio's limiter belongs to it); no await between the
    # check and the assignment, so concurrent first requests share one limiter.
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "dashboard_readers", None)
    if limiter is None:
        limiter = state.dashboard_readers = anyio.CapacityLimiter(dashboards.reader_count(state.settings, state.engine))
    return limiter


@router.get("/{community_id}/members/{user_id}/daily", response_model=DailyPage)
def member_daily(
    user_id: PathId,
    access: CommunityAdmin,
    session: SessionDep,
    start: Start,
    end: End,
    limit: Limit = 366,
    offset: Offset = 0,
) -> Response:
    """One member's days (community admin)."""
    first, last = dashboards.day_bounds(start, end)
    assert access.community.id is not None
    if session.get(UserCommunity, (access.community.id, user_id)) is None:
        raise not_found(f"User {user_id} is not a member of community {access.community.id}.")
    body = dashboards.member_page(session, access.community.id, user_id, first, last, limit, offset)
    return Response(body, media_type=JSON)


@router.get("/{community_id}/kpis", response_model=list[CommunityDay])
def community_kpis(access: CommunityReader, session: SessionDep, start: Start, end: End) -> list[CommunityDay]:
    """The community's totals per day (no personal data: sums over members)."""
    first, last = dashboards.day_bounds(start, end)
    assert access.community.id is not None
    return [CommunityDay(**row) for row in aggregates.community_daily(session, access.community.id, first, last)]


@router.post("/{community_id}/kpis/refresh", response_model=RefreshResult)
def refresh_kpis(body: RefreshRequest, access: Refresher, session: SessionDep) -> RefreshResult:
    """Recompute the daily rows from the readings (after a bulk file import, for instance)."""
    dashboards.day_bounds(body.start, body.end)
    assert access.community.id is not None
    days = [date.fromordinal(o) for o in range(body.start.toordinal(), body.end.toordinal() + 1)]
    return RefreshResult(rows=aggregates.refresh(session, access.community.id, days))
