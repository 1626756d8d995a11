"""A community's on-chain id, its members and its devices."""

from __future__ import annotations

from sqlmodel import Session, select

from dapp.api.deps import CommunityAccess
from dapp.api.errors import conflict
from dapp.api.schemas.common import Page
from dapp.api.schemas.communities import DeviceCreate, DevicePublic, MemberPublic, device_public
from lec.db.models import Community, Device, Flow, Supplier, User, UserCommunity


def chain_community_id(community: Community, consequence: str) -> int:
    """The Registry's id of the community; a 409 with the `consequence` while it is not deployed on chain."""
    if community.chain_community_id is None:
        raise conflict(f"Community {community.id} is not deployed on chain yet: {consequence}.")
    return community.chain_community_id


def members_page(session: Session, community_id: int, limit: int, offset: int) -> Page[MemberPublic]:
    query = select(UserCommunity, User).join(User, User.id == UserCommunity.user_id)  # type: ignore[arg-type]
    query = query.where(UserCommunity.community_id == community_id)
    rows = session.exec(query.order_by(UserCommunity.user_id).offset(offset).limit(limit)).all()  # type: ignore[arg-type]
    total = len(session.exec(select(UserCommunity.user_id).where(UserCommunity.community_id == community_id)).all())
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


def devices_page(session: Session, access: CommunityAccess, limit: int, offset: int) -> Page[DevicePublic]:
    """All devices for the community admin; a member sees only their own."""
    query = select(Device, Supplier.name).join(Supplier, isouter=True).where(Device.community_id == access.community.id)  # type: ignore[arg-type,call-overload]
    if not access.is_admin:
        query = query.where(Device.user_id == (access.user.id if access.user else -1))
    rows = session.exec(query.order_by(Device.id)).all()  # type: ignore[arg-type]
    page = [device_public(d, g) for d, g in rows[offset : offset + limit]]
    return Page[DevicePublic](items=page, total=len(rows), limit=limit, offset=offset)


def create_device(session: Session, community_id: int, body: DeviceCreate) -> Device:
    """Register a device; its gateway (a Keycloak client id) becomes a supplier the first time it is named."""
    if session.exec(select(Device).where(Device.pod == body.pod)).first() is not None:
        raise conflict(f"A device with POD {body.pod} is already registered.")
    if body.user_id is not None and session.get(UserCommunity, (community_id, body.user_id)) is None:
        raise conflict(f"User {body.user_id} is not a member of community {community_id}.")
    if body.default_flow_id is not None and session.get(Flow, body.default_flow_id) is None:
        raise conflict(f"There is no flow {body.default_flow_id}.")
    supplier_id = None
    if body.gateway is not None:
        supplier = session.exec(select(Supplier).where(Supplier.name == body.gateway)).first()
        if supplier is None:
            supplier = Supplier(name=body.gateway, description="Meter gateway (Keycloak client)")
            session.add(supplier)
            session.flush()
        supplier_id = supplier.id
    device = Device(community_id=community_id, supplier_id=supplier_id, **body.model_dump(exclude={"gateway"}))
    session.add(device)
    session.commit()
    return device
