"""The GSE incentive of a community and its split among members (docs/incentive.md): for the community admin,
auditors and platform admins. Euros never touch the chain; this is the report the admin pays members from."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from dapp.api.deps import CommunityAccess, SessionDep, community_access
from dapp.api.errors import AUTH_ERRORS, ERRORS
from dapp.api.guards import GuardedRoute
from dapp.api.roles import AUDITOR, COMMUNITY_ADMIN, PLATFORM_ADMIN
from dapp.api.schemas.incentive import IncentiveReport, IncentiveRequest
from dapp.api.services.incentive import incentive_report

router = APIRouter(
    prefix="/communities", tags=["incentive"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute
)

Overseer = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, AUDITOR, PLATFORM_ADMIN))]


@router.get("/{community_id}/incentive", response_model=IncentiveReport, response_model_by_alias=True)
def get_incentive(
    access: Overseer,
    session: SessionDep,
    start: Annotated[date, Query(alias="from", description="First local day, YYYY-MM-DD.")],
    end: Annotated[date, Query(alias="to", description="Last local day (included).")],
    key: Annotated[Literal["pro_rata", "equal", "producers_consumers"] | None, Query()] = None,
    allocation: Annotated[Literal["seniority", "pro_rata"] | None, Query()] = None,
) -> dict:
    """The incentive with one zonal price for every hour (flagged in `approximations`); POST hourly prices for
    the exact TIP."""
    return incentive_report(session, access.community, start, end, None, key, allocation)


@router.post("/{community_id}/incentive", response_model=IncentiveReport, response_model_by_alias=True)
def post_incentive(access: Overseer, session: SessionDep, body: IncentiveRequest) -> dict:
    """The incentive with GME's hourly zonal prices given as CSV text (`datetime,zone,pzo_eur_mwh`)."""
    return incentive_report(session, access.community, body.from_, body.to, body.prices_csv, body.key, body.allocation)
