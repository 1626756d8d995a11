"""Communities, their members, registration decisions (→ on-chain membership) and devices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel import select

from dapp.api import chain
from dapp.api.deps import (
    AUDITOR,
    COMMUNITY_ADMIN,
    PLATFORM_ADMIN,
    TOKEN_HOLDER,
    CommunityAccess,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    community_access,
    not_found,
)
from dapp.api.idp import IdentityProviderError
from dapp.api.routes.identity import ERRORS, IdpDep, RegistrationPublic, chain_failure, idp_failure, registration_public
from dapp.api.schemas import AUTH_ERRORS, BodyId, Offset, PathId, StrictModel
from lec.chain.client import ChainError
from lec.db.enums import DeviceKind, DeviceStatus, EnergyProfile, MemberKind
from lec.db.models import (
    AuditEntry,
    Community,
    Device,
    Flow,
    RegistrationRequest,
    RegistrationStatus,
    Role,
    Supplier,
    User,
    UserCommunity,
    UserRole,
)

T = TypeVar("T")

router = APIRouter(prefix="/communities", tags=["communities"], responses={**AUTH_ERRORS, **ERRORS})

Member = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, AUDITOR, PLATFORM_ADMIN))]
Admin = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, PLATFORM_ADMIN))]
Holder = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, PLATFORM_ADMIN))]


class CommunityPublic(BaseModel):
    id: int
    name: str
    description: str | None
    chain_community_id: int | None


class MemberPublic(BaseModel):
    user_id: BodyId
    name: str
    surname: str
    wallet: str | None
    member_kind: MemberKind
    energy_profile: EnergyProfile
    active: bool
    joined_at: datetime


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class DevicePublic(BaseModel):
    id: int
    pod: str
    name: str
    kind: DeviceKind
    status: DeviceStatus
    user_id: BodyId | None
    gateway: str | None
    default_flow_id: BodyId | None
    latitude: float | None = None
    longitude: float | None = None


class DeviceCreate(StrictModel):
    pod: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    name: str = Field(min_length=1, max_length=128)
    kind: DeviceKind = Field(strict=False)  # enums arrive as JSON strings
    user_id: BodyId | None = None
    gateway: str | None = Field(default=None, min_length=1, max_length=64, description="Client id of its gateway.")
    default_flow_id: BodyId | None = None
    min_energy_wh: float | None = None
    max_energy_wh: float | None = None
    max_power_w: float | None = Field(default=None, gt=0)


Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("", response_model=list[CommunityPublic])
def list_communities(_principal: PrincipalDep, session: SessionDep) -> list[CommunityPublic]:
    """Every community (public information: name and on-chain id)."""
    rows = session.exec(select(Community).order_by(Community.id)).all()  # type: ignore[arg-type]
    return [CommunityPublic(**c.model_dump(include=set(CommunityPublic.model_fields))) for c in rows]


@router.get("/{community_id}", response_model=CommunityPublic)
def read_community(access: Member) -> CommunityPublic:
    return CommunityPublic(**access.community.model_dump(include=set(CommunityPublic.model_fields)))


@router.get("/{community_id}/members", response_model=Page[MemberPublic])
def list_members(access: Admin, session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page[MemberPublic]:
    """The community's members (community admin)."""
    query = select(UserCommunity, User).join(User, User.id == UserCommunity.user_id)  # type: ignore[arg-type]
    query = query.where(UserCommunity.community_id == access.community.id)
    rows = session.exec(query.order_by(UserCommunity.user_id).offset(offset).limit(limit)).all()  # type: ignore[arg-type]
    total = len(
        session.exec(select(UserCommunity.user_id).where(UserCommunity.community_id == access.community.id)).all()
    )
    items = [
        MemberPublic(
            user_id=m.user_id,
            name=u.name,
            surname=u.surname,
            wallet=m.wallet,
            member_kind=m.member_kind,
            energy_profile=m.energy_profile,
            active=m.active,
            joined_at=m.joined_at,
        )
        for m, u in rows
    ]
    return Page[MemberPublic](items=items, total=total, limit=limit, offset=offset)


@router.get("/{community_id}/registrations", response_model=list[RegistrationPublic])
def list_registrations(
    access: Admin,
    session: SessionDep,
    status_filter: Annotated[RegistrationStatus | None, Query(alias="status")] = None,
) -> list[RegistrationPublic]:
    """Requests to join (community admin), optionally only those with a status."""
    query = select(RegistrationRequest).where(RegistrationRequest.community_id == access.community.id)
    if status_filter is not None:
        query = query.where(RegistrationRequest.status == status_filter)
    return [registration_public(r) for r in session.exec(query.order_by(RegistrationRequest.id)).all()]  # type: ignore[arg-type]


def _pending(session: SessionDep, access: CommunityAccess, registration_id: PathId) -> RegistrationRequest:
    request = session.get(RegistrationRequest, registration_id)
    if request is None or request.community_id != access.community.id:
        raise not_found(f"There is no registration {registration_id} in community {access.community.id}.")
    if request.status != RegistrationStatus.PENDING:
        raise HTTPException(409, detail=f"Registration {registration_id} is already {request.status}.")
    return request


@router.post("/{community_id}/registrations/{registration_id}/approve", response_model=RegistrationPublic)
def approve(
    registration_id: PathId, access: Admin, session: SessionDep, settings: SettingsDep, idp: IdpDep
) -> RegistrationPublic:
    """Approve a request: the wallet becomes a member on chain (welcome bonus minted), the account a token holder."""
    request = _pending(session, access, registration_id)
    if request.wallet is None:
        raise HTTPException(409, detail="The applicant has not bound a wallet yet (Sign-In with Ethereum).")
    user = session.get(User, request.user_id)
    assert user is not None
    try:
        verified = bool(idp.admin().get_user(user.external_id).get("emailVerified"))
    except Exception as exc:  # python-keycloak raises its own errors and requests' ones
        raise HTTPException(502, detail=f"Keycloak could not tell whether the e-mail is verified: {exc}") from exc
    if not verified:
        raise HTTPException(409, detail="The applicant has not verified the e-mail address yet.")
    if access.community.chain_community_id is None:
        raise HTTPException(409, detail=f"Community {access.community.id} is not deployed on chain yet.")
    try:
        tx = chain.add_member(
            settings, access.community.chain_community_id, request.wallet, request.member_kind, request.energy_profile
        )
        idp.grant_realm_role(user.external_id, TOKEN_HOLDER)
    except ChainError as exc:
        raise chain_failure(exc) from exc
    except IdentityProviderError as exc:
        raise idp_failure(exc) from exc
    now = datetime.now(UTC)
    assert user.id is not None and access.community.id is not None
    membership = session.get(UserCommunity, (access.community.id, user.id)) or UserCommunity(
        community_id=access.community.id, user_id=user.id
    )
    membership.wallet, membership.active = request.wallet, True
    membership.member_kind, membership.energy_profile = request.member_kind, request.energy_profile
    session.add(membership)
    role = session.exec(select(Role).where(Role.name == TOKEN_HOLDER)).one()
    if session.get(UserRole, (user.id, access.community.id, role.id)) is None:
        session.add(UserRole(user_id=user.id, community_id=access.community.id, role_id=role.id))
    request.status, request.decided_at, request.tx_hash = RegistrationStatus.APPROVED, now, tx
    session.add(request)
    session.add(AuditEntry(action="member.approved", community_id=access.community.id, tx_hash=tx))
    session.commit()
    return registration_public(request)


@router.post("/{community_id}/registrations/{registration_id}/reject", response_model=RegistrationPublic)
def reject(registration_id: PathId, access: Admin, session: SessionDep) -> RegistrationPublic:
    request = _pending(session, access, registration_id)
    request.status, request.decided_at = RegistrationStatus.REJECTED, datetime.now(UTC)
    session.add(request)
    session.commit()
    return registration_public(request)


def _device_public(d: Device, gateway: str | None) -> DevicePublic:
    assert d.id is not None
    return DevicePublic(
        id=d.id,
        pod=d.pod,
        name=d.name,
        kind=d.kind,
        status=d.status,
        user_id=d.user_id,
        gateway=gateway,
        default_flow_id=d.default_flow_id,
        # The community map needs the neighbourhood, not the doorstep: about 100 m of precision.
        latitude=None if d.latitude is None else round(d.latitude, 3),
        longitude=None if d.longitude is None else round(d.longitude, 3),
    )


@router.get("/{community_id}/devices", response_model=Page[DevicePublic])
def list_devices(access: Holder, session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page[DevicePublic]:
    """All devices for the community admin; a member sees only their own."""
    query = select(Device, Supplier.name).join(Supplier, isouter=True).where(Device.community_id == access.community.id)  # type: ignore[arg-type,call-overload]
    if not access.is_admin:
        query = query.where(Device.user_id == (access.user.id if access.user else -1))
    rows = session.exec(query.order_by(Device.id)).all()  # type: ignore[arg-type]
    page = [_device_public(d, g) for d, g in rows[offset : offset + limit]]
    return Page[DevicePublic](items=page, total=len(rows), limit=limit, offset=offset)


@router.post("/{community_id}/devices", status_code=status.HTTP_201_CREATED, response_model=DevicePublic)
def create_device(body: DeviceCreate, access: Admin, session: SessionDep) -> DevicePublic:
    """Register a device (community admin); `gateway` names the client id of the gateway allowed to send for it."""
    if session.exec(select(Device).where(Device.pod == body.pod)).first() is not None:
        raise HTTPException(409, detail=f"A device with POD {body.pod} is already registered.")
    if body.user_id is not None and session.get(UserCommunity, (access.community.id, body.user_id)) is None:
        raise HTTPException(409, detail=f"User {body.user_id} is not a member of community {access.community.id}.")
    if body.default_flow_id is not None and session.get(Flow, body.default_flow_id) is None:
        raise HTTPException(409, detail=f"There is no flow {body.default_flow_id}.")
    supplier_id = None
    if body.gateway is not None:
        supplier = session.exec(select(Supplier).where(Supplier.name == body.gateway)).first()
        if supplier is None:
            supplier = Supplier(name=body.gateway, description="Meter gateway (Keycloak client)")
            session.add(supplier)
            session.flush()
        supplier_id = supplier.id
    assert access.community.id is not None
    device = Device(
        community_id=access.community.id,
        supplier_id=supplier_id,
        **body.model_dump(exclude={"gateway"}),
    )
    session.add(device)
    session.commit()
    return _device_public(device, body.gateway)
