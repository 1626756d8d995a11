"""Joining a community: sign-up, requests to join, and the community admin's decision (→ on-chain membership)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import HTTPException, status
from sqlmodel import Session, select

from dapp.api import chain
from dapp.api.deps import CommunityAccess
from dapp.api.errors import chain_failure, conflict, idp_failure, not_found
from dapp.api.idp import IdentityProvider, IdentityProviderError
from dapp.api.roles import TOKEN_HOLDER
from dapp.api.schemas.identity import RegistrationCreate, UserRegister
from dapp.api.services.communities import chain_community_id
from lec.chain.client import ChainError
from lec.db.models import (
    AuditEntry,
    Community,
    RegistrationRequest,
    RegistrationStatus,
    Role,
    User,
    UserCommunity,
    UserRole,
)
from lec.settings import Settings

PROFILE = {"name", "surname", "address", "zip", "city", "province", "fiscal_code"}


def register(session: Session, idp: IdentityProvider, form: UserRegister) -> RegistrationRequest:
    """Create the Keycloak account (a verification e-mail is sent), the registry row and the first request."""
    if session.get(Community, form.community_id) is None:
        raise not_found(f"There is no community {form.community_id}; list them with GET /api/v1/communities.")
    email = form.email.lower()
    try:
        subject = idp.register(email, form.password, form.name, form.surname)
    except IdentityProviderError as exc:
        raise idp_failure(exc) from exc
    try:
        user = User(external_id=subject, email=email, **form.model_dump(include=PROFILE))
        session.add(user)
        session.flush()
        assert user.id is not None
        request = RegistrationRequest(user_id=user.id, **form.model_dump(include=set(RegistrationCreate.model_fields)))
        session.add(request)
        session.commit()
    except Exception:
        session.rollback()
        # Keep Keycloak and the registry consistent: an account without registry data would be stranded.
        idp.delete_user(subject)
        raise
    return request


def join(session: Session, user: User, body: RegistrationCreate) -> RegistrationRequest:
    """Ask to join one more community (a different wallet is bound for each community)."""
    if session.get(Community, body.community_id) is None:
        raise not_found(f"There is no community {body.community_id}.")
    existing = session.exec(
        select(RegistrationRequest).where(
            RegistrationRequest.user_id == user.id, RegistrationRequest.community_id == body.community_id
        )
    ).first()
    if existing is not None:
        raise conflict(f"You already asked to join community {body.community_id} ({existing.status}).")
    assert user.id is not None
    request = RegistrationRequest(user_id=user.id, **body.model_dump())
    session.add(request)
    session.commit()
    return request


def own_request(session: Session, user: User, community_id: int) -> RegistrationRequest:
    """The caller's request to join `community_id`; a 404 says to ask first."""
    request = session.exec(
        select(RegistrationRequest).where(
            RegistrationRequest.user_id == user.id, RegistrationRequest.community_id == community_id
        )
    ).first()
    if request is None:
        raise not_found(f"You have no registration for community {community_id}: ask to join it first.")
    return request


def pending(session: Session, access: CommunityAccess, registration_id: int) -> RegistrationRequest:
    """A request of the community still waiting for a decision."""
    request = session.get(RegistrationRequest, registration_id)
    if request is None or request.community_id != access.community.id:
        raise not_found(f"There is no registration {registration_id} in community {access.community.id}.")
    if request.status != RegistrationStatus.PENDING:
        raise conflict(f"Registration {registration_id} is already {request.status}.")
    return request


def approve(
    session: Session, settings: Settings, idp: IdentityProvider, access: CommunityAccess, registration_id: int
) -> RegistrationRequest:
    """The wallet becomes a member on chain (the contract mints the welcome bonus), the account a token holder.

    The applicant must have bound a wallet and verified the e-mail; the chain and Keycloak are done before the
    database, so a failure leaves the request pending and the approval can be repeated.
    """
    request = pending(session, access, registration_id)
    if request.wallet is None:
        raise conflict("The applicant has not bound a wallet yet (Sign-In with Ethereum).")
    user = session.get(User, request.user_id)
    assert user is not None
    try:
        verified = bool(idp.admin().get_user(user.external_id).get("emailVerified"))
    except Exception as exc:  # python-keycloak raises its own errors and requests' ones
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, detail=f"Keycloak could not tell whether the e-mail is verified: {exc}"
        ) from exc
    if not verified:
        raise conflict("The applicant has not verified the e-mail address yet.")
    on_chain = chain_community_id(access.community, "members cannot be added")
    try:
        tx = chain.add_member(settings, on_chain, request.wallet, request.member_kind, request.energy_profile)
        idp.grant_realm_role(user.external_id, TOKEN_HOLDER)
    except ChainError as exc:
        raise chain_failure(exc) from exc
    except IdentityProviderError as exc:
        raise idp_failure(exc) from exc
    community_id = access.community.id
    assert user.id is not None and community_id is not None
    membership = session.get(UserCommunity, (community_id, user.id)) or UserCommunity(
        community_id=community_id, user_id=user.id
    )
    membership.wallet, membership.active = request.wallet, True
    membership.member_kind, membership.energy_profile = request.member_kind, request.energy_profile
    session.add(membership)
    role = session.exec(select(Role).where(Role.name == TOKEN_HOLDER)).one()
    if session.get(UserRole, (user.id, community_id, role.id)) is None:
        session.add(UserRole(user_id=user.id, community_id=community_id, role_id=role.id))
    request.status, request.decided_at, request.tx_hash = RegistrationStatus.APPROVED, datetime.now(UTC), tx
    session.add(request)
    session.add(AuditEntry(action="member.approved", community_id=community_id, tx_hash=tx))
    session.commit()
    return request


def reject(session: Session, access: CommunityAccess, registration_id: int) -> RegistrationRequest:
    request = pending(session, access, registration_id)
    request.status, request.decided_at = RegistrationStatus.REJECTED, datetime.now(UTC)
    session.add(request)
    session.commit()
    return request
