"""Joining a community: sign-up, requests to join, and the community admin's decision (→ on-chain membership)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import HTTPException, status
from keycloak.exceptions import KeycloakError
from sqlmodel import Session, select

from dapp.api import chain
from dapp.api.deps import CommunityAccess
from dapp.api.errors import chain_failure, conflict, idp_failure, not_found
from dapp.api.idp import IdentityProvider, IdentityProviderError
from dapp.api.roles import TOKEN_HOLDER
from dapp.api.schemas.identity import RegistrationCreate, UserRegister
from dapp.api.security import Principal
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
DAPP_CLIENT = "lec-dapp"  # the client whose pages Keycloak's e-mails link to

log = logging.getLogger(__name__)


def register(session: Session, idp: IdentityProvider, form: UserRegister) -> RegistrationRequest | None:
    """Create the Keycloak account (a verification e-mail is sent), the registry row and the first request.

    An address that already has an account gets an e-mail instead (`tell_existing_account`) and `None` is
    returned: the route answers both cases alike, so the answer does not tell whether an address is known.
    """
    if session.get(Community, form.community_id) is None:
        raise not_found(f"There is no community {form.community_id}; list them with GET /api/v1/communities.")
    email = form.email.lower()
    try:
        subject = idp.register(email, form.password, form.name, form.surname)
    except IdentityProviderError as exc:
        if exc.status == status.HTTP_409_CONFLICT:
            tell_existing_account(idp, email)
            return None
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


def tell_existing_account(idp: IdentityProvider, email: str) -> None:
    """E-mail the owner of `email` that someone asked to register it, through Keycloak's own e-mails: the
    verification link if the address was never verified, else the account e-mail to set a new password (the
    person may have forgotten they have an account). A failure is logged, never answered: the caller of an
    anonymous registration must not learn that the address is known."""
    try:
        admin = idp.admin()
        for user in admin.get_users({"email": email, "exact": True})[:1]:
            if user.get("emailVerified"):
                admin.send_update_account(user_id=user["id"], payload=["UPDATE_PASSWORD"], client_id=DAPP_CLIENT)
            else:
                admin.send_verify_email(user["id"], client_id=DAPP_CLIENT)
    except (KeycloakError, IdentityProviderError, OSError) as exc:
        log.warning("Could not e-mail the owner of an existing account about a new registration: %s", exc)


def active_membership(session: Session, user: User, community_id: int) -> UserCommunity | None:
    membership = session.get(UserCommunity, (community_id, user.id))
    return membership if membership is not None and membership.active else None


def refuse_if_member(session: Session, user: User, community_id: int) -> None:
    """A 409 for an active member of `community_id`: a second request or wallet there would, once approved, mint
    a second welcome bonus and leave the first wallet a member on chain that nobody uses."""
    membership = active_membership(session, user, community_id)
    if membership is not None:
        raise conflict(
            f"You are already a member of community {community_id} with wallet {membership.wallet}; one account "
            "has one wallet per community. To use another wallet, leave the community first "
            f"(DELETE /api/v1/me/communities/{community_id}) and ask to join again."
        )


def user_of(session: Session, principal: Principal) -> User:
    """The caller's row in `users`; created from the token for an account made on Keycloak's registration page
    (the e-mail must be verified there first, so the platform never keeps an address nobody confirmed)."""
    user = session.exec(select(User).where(User.external_id == principal.subject)).first()
    if user is not None:
        return user
    if not principal.email or not principal.email_verified:
        raise conflict("Verify your e-mail address first: follow the link Keycloak sent you, then sign in again.")
    user = User(
        external_id=principal.subject,
        name=principal.given_name or principal.username,
        surname=principal.family_name or "",
        email=principal.email,
    )
    session.add(user)
    session.flush()
    return user


def join(session: Session, user: User, body: RegistrationCreate) -> RegistrationRequest:
    """Ask to join one more community (a different wallet is bound for each community)."""
    if session.get(Community, body.community_id) is None:
        raise not_found(f"There is no community {body.community_id}.")
    refuse_if_member(session, user, body.community_id)
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
    assert access.community.id is not None
    if active_membership(session, user, access.community.id) is not None:
        raise conflict(
            f"The applicant is already an active member of community {access.community.id}: approving would mint "
            "a second welcome bonus. Reject this request."
        )
    try:
        verified = bool(idp.admin().get_user(user.external_id).get("emailVerified"))
    except Exception as exc:  # python-keycloak raises its own errors and requests' ones
        log.error("Keycloak could not tell whether user %s verified the e-mail: %s", user.id, exc)
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY,
            detail="Keycloak could not tell whether the applicant's e-mail is verified; retry in a while.",
        ) from exc
    if not verified:
        raise conflict("The applicant has not verified the e-mail address yet.")
    on_chain = chain_community_id(access.community, "members cannot be added")
    try:
        tx = chain.add_member(settings, on_chain, request.wallet, request.member_kind, request.energy_profile)
        idp.grant_realm_role(user.external_id, TOKEN_HOLDER)
    except chain.NoAdminKey as exc:
        raise conflict(
            "The applicant's wallet is not a member on chain yet: add it from your wallet first (the button "
            "“Add on chain”), then approve."
        ) from exc
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
