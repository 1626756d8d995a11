"""Communities, their members, registration decisions (→ on-chain membership) and devices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlmodel import select

from dapp.api.deps import (
    CommunityAccess,
    CommunityAdmin,
    CommunityReader,
    IdpDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    community_access,
)
from dapp.api.errors import AUTH_ERRORS, ERRORS
from dapp.api.guards import GuardedRoute
from dapp.api.roles import COMMUNITY_ADMIN, PLATFORM_ADMIN, TOKEN_HOLDER
from dapp.api.schemas.common import Offset, Page, PathId
from dapp.api.schemas.communities import CommunityPublic, DeviceCreate, DevicePublic, MemberPublic, device_public
from dapp.api.schemas.identity import RegistrationPublic
from dapp.api.services import communities, registrations
from lec.db.models import Community, RegistrationRequest, RegistrationStatus

router = APIRouter(
    prefix="/communities", tags=["communities"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute
)

# Devices: members see their own, the admin every one.
Holder = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, PLATFORM_ADMIN))]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("", response_model=list[CommunityPublic])
def list_communities(_principal: PrincipalDep, session: SessionDep) -> list[CommunityPublic]:
    """Every community (public information: name and on-chain id)."""
    rows = session.exec(select(Community).order_by(Community.id)).all()  # type: ignore[arg-type]
    return [CommunityPublic.model_validate(c) for c in rows]


@router.get("/{community_id}", response_model=CommunityPublic)
def read_community(access: CommunityReader) -> CommunityPublic:
    return CommunityPublic.model_validate(access.community)


@router.get("/{community_id}/members", response_model=Page[MemberPublic])
def list_members(
    access: CommunityAdmin, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> Page[MemberPublic]:
    """The community's members (community admin)."""
    assert access.community.id is not None
    return communities.members_page(session, access.community.id, limit, offset)


@router.get("/{community_id}/registrations", response_model=list[RegistrationPublic])
def list_registrations(
    access: CommunityAdmin,
    session: SessionDep,
    status_filter: Annotated[RegistrationStatus | None, Query(alias="status")] = None,
) -> list[RegistrationPublic]:
    """Requests to join (community admin), optionally only those with a status."""
    query = select(RegistrationRequest).where(RegistrationRequest.community_id == access.community.id)
    if status_filter is not None:
        query = query.where(RegistrationRequest.status == status_filter)
    rows = session.exec(query.order_by(RegistrationRequest.id)).all()  # type: ignore[arg-type]
    return [RegistrationPublic.model_validate(r) for r in rows]


@router.post("/{community_id}/registrations/{registration_id}/approve", response_model=RegistrationPublic)
def approve(
    registration_id: PathId, access: CommunityAdmin, session: SessionDep, settings: SettingsDep, idp: IdpDep
) -> RegistrationPublic:
    """Approve a request: the wallet becomes a member on chain (welcome bonus minted), the account a token holder."""
    return RegistrationPublic.model_validate(registrations.approve(session, settings, idp, access, registration_id))


@router.post("/{community_id}/registrations/{registration_id}/reject", response_model=RegistrationPublic)
def reject(registration_id: PathId, access: CommunityAdmin, session: SessionDep) -> RegistrationPublic:
    return RegistrationPublic.model_validate(registrations.reject(session, access, registration_id))


@router.get("/{community_id}/devices", response_model=Page[DevicePublic])
def list_devices(access: Holder, session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page[DevicePublic]:
    """All devices for the community admin; a member sees only their own."""
    return communities.devices_page(session, access, limit, offset)


@router.post("/{community_id}/devices", status_code=status.HTTP_201_CREATED, response_model=DevicePublic)
def create_device(body: DeviceCreate, access: CommunityAdmin, session: SessionDep) -> DevicePublic:
    """Register a device (community admin); `gateway` names the client id of the gateway allowed to send for it."""
    assert access.community.id is not None
    return device_public(communities.create_device(session, access.community.id, body), body.gateway)
