"""The caller's own account: what the platform knows of them, profile changes, leaving a community, and the
right to be forgotten."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from dapp.api import chain
from dapp.api.errors import chain_failure, idp_failure, not_found
from dapp.api.idp import IdentityProvider, IdentityProviderError
from dapp.api.roles import TOKEN_HOLDER
from dapp.api.schemas.identity import MembershipPublic, MePublic, ProfileUpdate, RegistrationPublic
from dapp.api.security import Principal
from dapp.api.services.communities import chain_community_id
from dapp.api.services.disputes import forget_reasons
from dapp.api.services.lab import forget_person
from dapp.api.services.lab_voice import forget_voice
from dapp.api.services.social import forget_ratings
from lec.chain.client import ChainError
from lec.db.models import (
    Anomaly,
    AuditEntry,
    ClusterDevice,
    ClusterUser,
    Community,
    CounterReading,
    DerivedTimeSeriesDevice,
    DerivedTimeSeriesUser,
    Device,
    DeviceFlow,
    MemberDailyKpi,
    MemberTarget,
    RegistrationRequest,
    SiweNonce,
    User,
    UserCommunity,
    UserRole,
)
from lec.db.models.flex import FlexDeclaration, FlexDispatch
from lec.market.listings import forget_owners
from lec.settings import Settings
from oracle.flex.service import forget_flex_salts
from oracle.proofs.store import forget_devices

# Profile fields Keycloak holds too, with its names; the API keeps both in step.
KEYCLOAK_FIELDS = (("name", "firstName"), ("surname", "lastName"), ("email", "email"))


def read_me(session: Session, principal: Principal) -> MePublic:
    """Who the token says the caller is, their roles, and their registry data, memberships and requests."""
    user = session.exec(select(User).where(User.external_id == principal.subject)).first()
    me = MePublic(
        subject=principal.subject,
        username=principal.username,
        roles=sorted(principal.roles),
        registered=user is not None,
    )
    if user is None:
        return me
    rows = session.exec(select(UserCommunity).where(UserCommunity.user_id == user.id)).all()
    requests = session.exec(select(RegistrationRequest).where(RegistrationRequest.user_id == user.id)).all()
    return me.model_copy(
        update={
            **user.model_dump(include={"name", "surname", "email", "address", "zip", "city", "province"}),
            "memberships": [MembershipPublic.model_validate(r) for r in rows],
            "registrations": [RegistrationPublic.model_validate(r) for r in requests],
        }
    )


def update_profile(
    session: Session, idp: IdentityProvider, principal: Principal, user: User, changes: ProfileUpdate
) -> None:
    """Registry data changed; name and e-mail in Keycloak too (a new e-mail must be verified again)."""
    fields = changes.model_dump(exclude_unset=True)
    keycloak_changes = {
        key: fields[field] for field, key in KEYCLOAK_FIELDS if field in fields and fields[field] is not None
    }
    if "email" in keycloak_changes:
        keycloak_changes["emailVerified"] = False
    try:
        if keycloak_changes:
            idp.update_profile(principal.subject, keycloak_changes)
        if "email" in keycloak_changes:
            idp.send_verification(principal.subject)
    except IdentityProviderError as exc:
        raise idp_failure(exc) from exc
    for field, value in fields.items():
        # Name, surname and e-mail cannot be blanked; the other fields can.
        if value is not None or field not in ("name", "surname", "email"):
            setattr(user, field, value)
    session.add(user)
    session.commit()


def erase_account(
    session: Session, settings: Settings, idp: IdentityProvider, principal: Principal, user: User
) -> None:
    """Right to be forgotten: wallets removed on chain, Keycloak account deleted, personal rows and salts erased.

    The chain is done first: if it fails nothing is deleted and the request can be repeated. An audit entry
    records that a deletion happened, with the transactions, but nothing about the person.
    """
    memberships = session.exec(select(UserCommunity).where(UserCommunity.user_id == user.id)).all()
    txs: list[tuple[int, str | None]] = []
    for m in memberships:
        community = session.get(Community, m.community_id)
        if m.wallet and m.active and community is not None and community.chain_community_id is not None:
            try:
                txs.append((m.community_id, chain.remove_member(settings, community.chain_community_id, m.wallet)))
            except ChainError as exc:
                raise chain_failure(exc) from exc
    try:
        idp.delete_user(principal.subject)
    except IdentityProviderError as exc:
        if exc.status != 404:
            raise idp_failure(exc) from exc
    shredded = _erase_personal_rows(session, user)
    for community_id, tx in txs or [(None, None)]:
        session.add(
            AuditEntry(
                action="user.deleted",
                community_id=community_id,
                tx_hash=tx,
                detail=f"account, registry data, {len(shredded)} device(s) with their readings and salts erased",
            )
        )
    session.commit()


def _erase_personal_rows(session: Session, user: User) -> list[str]:
    """Delete the person's rows, marketplace listings, readings and salts; returns the PODs whose salts were
    shredded."""
    assert user.id is not None
    forget_person(session, user.id)  # living lab: ballot salts and links, projects, comments, ratings
    forget_voice(session, user.id)  # living lab: inbox and feedback deleted, sent messages unsigned
    wallets = session.exec(select(UserCommunity.wallet).where(UserCommunity.user_id == user.id)).all()
    forget_owners(session, [w for w in wallets if w])
    forget_ratings(session, [w for w in wallets if w])
    forget_flex_salts(session, [w for w in wallets if w])
    forget_reasons(session, user.id, [w for w in wallets if w])
    devices = session.exec(select(Device).where(Device.user_id == user.id)).all()
    device_ids = [d.id for d in devices if d.id is not None]
    pods = [d.pod for d in devices]
    forget_devices(session, pods)
    if device_ids:
        for table in (CounterReading, Anomaly, DeviceFlow, DerivedTimeSeriesDevice, ClusterDevice):
            session.exec(delete(table).where(table.device_id.in_(device_ids)))  # type: ignore[attr-defined,call-overload]
        session.exec(delete(Device).where(Device.id.in_(device_ids)))  # type: ignore[union-attr,call-overload]
    for table in (
        FlexDispatch,
        FlexDeclaration,
        DerivedTimeSeriesUser,
        ClusterUser,
        MemberDailyKpi,
        MemberTarget,
        RegistrationRequest,
        UserRole,
        UserCommunity,
    ):
        session.exec(delete(table).where(table.user_id == user.id))  # type: ignore[attr-defined,call-overload]
    session.exec(delete(SiweNonce).where(SiweNonce.subject == user.external_id))  # type: ignore[arg-type,call-overload]
    session.delete(user)
    return pods


def leave_community(
    session: Session, settings: Settings, user: User, community_id: int, idp: IdentityProvider | None = None
) -> None:
    """The caller's wallet in the community is deactivated on chain (balance to the treasury) and the membership
    ends; their other communities and their account stay. Leaving the last community also takes back the
    `token-holder` realm role in Keycloak, so the member's pages and routes close with it."""
    membership = session.get(UserCommunity, (community_id, user.id))
    request = session.exec(
        select(RegistrationRequest).where(
            RegistrationRequest.user_id == user.id, RegistrationRequest.community_id == community_id
        )
    ).first()
    if membership is None and request is None:
        raise not_found(f"You have no account in community {community_id}.")
    tx = None
    if membership is not None and membership.wallet and membership.active:
        community = session.get(Community, community_id)
        if community is None:
            raise not_found(f"There is no community {community_id}.")
        on_chain = chain_community_id(community, "your wallet cannot be removed from it")
        try:
            tx = chain.remove_member(settings, on_chain, membership.wallet)
        except ChainError as exc:
            raise chain_failure(exc) from exc
    if membership is not None:
        session.delete(membership)
    if request is not None:
        session.delete(request)
    session.exec(delete(UserRole).where(UserRole.user_id == user.id, UserRole.community_id == community_id))  # type: ignore[arg-type,call-overload]
    session.add(AuditEntry(action="member.left", community_id=community_id, tx_hash=tx))
    session.flush()
    still_member = session.exec(
        select(UserCommunity).where(UserCommunity.user_id == user.id, col(UserCommunity.active).is_(True))
    ).first()
    if idp is not None and still_member is None:
        try:
            idp.revoke_realm_role(user.external_id, TOKEN_HOLDER)
        except IdentityProviderError as exc:
            session.rollback()
            raise idp_failure(exc) from exc
    session.commit()
