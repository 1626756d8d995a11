"""The community dashboard's second level for its overseers: electrical quantities and temperature the devices
send beside energy, and the month's ranking of members by self-sufficiency."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dapp.api.deps import CommunityAccess, SessionDep, community_access
from dapp.api.errors import AUTH_ERRORS, ERRORS
from dapp.api.guards import GuardedRoute
from dapp.api.roles import AUDITOR, COMMUNITY_ADMIN, PLATFORM_ADMIN
from dapp.api.schemas.details import CommunityDetails
from dapp.api.services.details import community_details

router = APIRouter(
    prefix="/communities", tags=["dashboards"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute
)

Overseer = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, AUDITOR, PLATFORM_ADMIN))]


@router.get("/{community_id}/details", response_model=CommunityDetails)
def details(
    access: Overseer,
    session: SessionDep,
    month: Annotated[str, Query(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
) -> dict[str, Any]:
    """Per device: voltage, current, reactive power and battery state of charge over the month (samples, mean,
    min, max); the weather stations' temperature; members ranked by self-sufficiency (community admin, auditor)."""
    assert access.community.id is not None
    return community_details(session, access.community.id, month)
