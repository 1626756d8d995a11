"""The caller's own account (report §4.1.1): registration, profile, wallet binding (SIWE), leaving, logout."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import delete, update
from sqlmodel import Session, select

from dapp.api import chain, siwe_binding
from dapp.api.deps import (
    CurrentUserDep,
    PersonDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    get_session,
    not_found,
)
from dapp.api.idp import IdentityProvider, IdentityProviderError
from dapp.api.schemas import AUTH_ERRORS, BodyId, PathId, Problem, StrictModel
from lec.chain.client import ChainError
from lec.db.enums import EnergyProfile, MemberKind
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
    RegistrationRequest,
    RegistrationStatus,
    SiweNonce,
    User,
    UserCommunity,
    UserRole,
)
from lec.market.listings import forget_owners
from oracle.proofs.store import forget_devices

router = APIRouter(tags=["identity"], responses=AUTH_ERRORS)
log = logging.getLogger(__name__)

ERRORS: dict[int | str, dict] = {
    400: {"model": Problem, "description": "The request cannot be honoured as sent."},
    404: {"model": Problem, "description": "Not found."},
    409: {"model": Problem, "description": "Conflicts with the current state."},
    502: {"model": Problem, "description": "Keycloak or the chain refused."},
}


def get_idp(request: Request) -> IdentityProvider:
    idp: IdentityProvider | None = getattr(request.app.state, "idp", None)
    if idp is None:
        idp = request.app.state.idp = IdentityProvider(request.app.state.settings)
    return idp


IdpDep = Annotated[IdentityProvider, Depends(get_idp)]


def idp_failure(exc: IdentityProviderError) -> HTTPException:
    return HTTPException(exc.status, detail=str(exc))


def chain_failure(exc: ChainError) -> HTTPException:
    return HTTPException(status.HTTP_502_BAD_GATEWAY, detail=f"The chain refused: {exc}")


# ---- models ----------------------------------------------------------------------------------------------


Name = Annotated[str, Field(min_length=1, max_length=128)]


class ProfileFields(StrictModel):
    address: str | None = Field(default=None, max_length=255)
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")
    city: str | None = Field(default=None, max_length=64)
    province: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    fiscal_code: str | None = Field(default=None, pattern=r"^[A-Z0-9]{11,16}$")


class RegistrationCreate(ProfileFields):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=255)
    password: str = Field(min_length=12, max_length=128)
    name: Name
    surname: Name
    community_id: BodyId
    member_kind: MemberKind = Field(strict=False)  # enums and dates arrive as JSON strings
    energy_profile: EnergyProfile = Field(strict=False)


class JoinRequest(StrictModel):
    community_id: BodyId
    member_kind: MemberKind = Field(strict=False)
    energy_profile: EnergyProfile = Field(strict=False)


class RegistrationPublic(BaseModel):
    id: int
    community_id: BodyId
    member_kind: MemberKind
    energy_profile: EnergyProfile
    wallet: str | None
    status: RegistrationStatus
    created_at: datetime
    decided_at: datetime | None
    tx_hash: str | None


class RegistrationCreated(BaseModel):
    registration: RegistrationPublic
    email_verification: str


class ProfileUpdate(ProfileFields):
    name: Name | None = None
    surname: Name | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=255)


class ChallengeRequest(StrictModel):
    community_id: BodyId
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")


class Challenge(BaseModel):
    nonce: str
    message: str
    expires_at: datetime


class WalletBinding(StrictModel):
    message: str = Field(min_length=1, max_length=4000)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class LogoutRequest(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=8000)
    client_id: str = Field(default="lec-dapp", max_length=64)


class MembershipPublic(BaseModel):
    community_id: BodyId
    wallet: str | None
    member_kind: MemberKind
    energy_profile: EnergyProfile
    active: bool


class MePublic(BaseModel):
    subject: str
    username: str
    roles: list[str]
    registered: bool
    name: str | None = None
    surname: str | None = None
    email: str | None = None
    address: str | None = None
    zip: str | None = None
    city: str | None = None
    province: str | None = None
    memberships: list[MembershipPublic] = []
    registrations: list[RegistrationPublic] = []


def registration_public(r: RegistrationRequest) -> RegistrationPublic:
    assert r.id is not None
    return RegistrationPublic(**r.model_dump(include=set(RegistrationPublic.model_fields)))


# ---- profile ------------------------------------------------------------------------------------------------


@router.get("/me", response_model=MePublic)
def read_me(principal: PrincipalDep, session: SessionDep) -> MePublic:
    """Who the token says you are, your roles, and your registry data, memberships and requests if registered."""
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
            "memberships": [MembershipPublic(**r.model_dump(include=set(MembershipPublic.model_fields))) for r in rows],
            "registrations": [registration_public(r) for r in requests],
        }
    )


@router.patch("/me", response_model=MePublic, responses=ERRORS)
def update_me(
    changes: ProfileUpdate, principal: PersonDep, user: CurrentUserDep, session: SessionDep, idp: IdpDep
) -> MePublic:
    """Edit your registry data; name and e-mail are also changed in Keycloak (a new e-mail is verified again)."""
    fields = changes.model_dump(exclude_unset=True)
    keycloak_changes = {
        key: fields[field]
        for field, key in (("name", "firstName"), ("surname", "lastName"), ("email", "email"))
        if field in fields and fields[field] is not None
    }
    if "email" in keycloak_changes:
        keycloak_changes["emailVerified"] = False
    try:
        if keycloak_changes:
            idp.update_profile(principal.subject, keycloak_changes)
        if "email" in keycloak_changes:
            idp._call("send the verification e-mail", idp.admin().send_verify_email, principal.subject)
    except IdentityProviderError as exc:
        raise idp_failure(exc) from exc
    for field, value in fields.items():
        if value is not None or field not in ("name", "surname", "email"):
            setattr(user, field, value)
    session.add(user)
    session.commit()
    return read_me(principal, session)


def _erase_personal_rows(session: Session, user: User) -> list[str]:
    """Delete the person's rows, marketplace listings, readings and salts; returns the PODs whose salts were
    shredded."""
    wallets = session.exec(select(UserCommunity.wallet).where(UserCommunity.user_id == user.id)).all()
    forget_owners(session, [w for w in wallets if w])
    devices = session.exec(select(Device).where(Device.user_id == user.id)).all()
    device_ids = [d.id for d in devices if d.id is not None]
    pods = [d.pod for d in devices]
    forget_devices(session, pods)
    if device_ids:
        for table in (CounterReading, Anomaly, DeviceFlow, DerivedTimeSeriesDevice, ClusterDevice):
            session.exec(delete(table).where(table.device_id.in_(device_ids)))  # type: ignore[attr-defined,call-overload]
        session.exec(delete(Device).where(Device.id.in_(device_ids)))  # type: ignore[union-attr,call-overload]
    for table in (
        DerivedTimeSeriesUser,
        ClusterUser,
        MemberDailyKpi,
        RegistrationRequest,
        UserRole,
        UserCommunity,
    ):
        session.exec(delete(table).where(table.user_id == user.id))  # type: ignore[attr-defined,call-overload]
    session.exec(delete(SiweNonce).where(SiweNonce.subject == user.external_id))  # type: ignore[arg-type,call-overload]
    session.delete(user)
    return pods


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_me(
    principal: PersonDep, user: CurrentUserDep, session: SessionDep, settings: SettingsDep, idp: IdpDep
) -> Response:
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
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/logout", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def logout(body: LogoutRequest, _principal: PersonDep, idp: IdpDep) -> Response:
    """End your Keycloak session (single sign-out for every webapp of the platform)."""
    try:
        idp.logout(body.refresh_token, body.client_id)
    except IdentityProviderError as exc:
        raise idp_failure(exc) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- registration --------------------------------------------------------------------------------------------


@router.post(
    "/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationCreated,
    responses={**ERRORS, 422: {"model": Problem, "description": "Invalid fields."}},
    openapi_extra={"security": []},
)
def register(body: RegistrationCreate, session: Annotated[Session, Depends(get_session)], idp: IdpDep):  # noqa: ANN201
    """Create an account in Keycloak (a verification e-mail is sent) and ask to join a community.

    Next steps: verify the e-mail, log in, bind a wallet (`/me/wallet-challenges`, `/me/wallets`), then wait for
    the community admin's approval.
    """
    if session.get(Community, body.community_id) is None:
        raise not_found(f"There is no community {body.community_id}; list them with GET /api/v1/communities.")
    try:
        subject = idp.register(body.email.lower(), body.password, body.name, body.surname)
    except IdentityProviderError as exc:
        raise idp_failure(exc) from exc
    try:
        user = User(
            external_id=subject,
            email=body.email.lower(),
            **body.model_dump(include={"name", "surname", "address", "zip", "city", "province", "fiscal_code"}),
        )
        session.add(user)
        session.flush()
        assert user.id is not None
        request = RegistrationRequest(
            user_id=user.id,
            community_id=body.community_id,
            member_kind=body.member_kind,
            energy_profile=body.energy_profile,
        )
        session.add(request)
        session.commit()
    except Exception:
        session.rollback()
        # Keep Keycloak and the registry consistent: an account without registry data would be stranded.
        idp.delete_user(subject)
        raise
    return RegistrationCreated(registration=registration_public(request), email_verification="sent")


@router.post(
    "/me/registrations", status_code=status.HTTP_201_CREATED, response_model=RegistrationPublic, responses=ERRORS
)
def join(body: JoinRequest, user: CurrentUserDep, session: SessionDep) -> RegistrationPublic:
    """Ask to join one more community (a different wallet is bound for each community)."""
    if session.get(Community, body.community_id) is None:
        raise not_found(f"There is no community {body.community_id}.")
    existing = session.exec(
        select(RegistrationRequest).where(
            RegistrationRequest.user_id == user.id, RegistrationRequest.community_id == body.community_id
        )
    ).first()
    if existing is not None:
        raise HTTPException(409, detail=f"You already asked to join community {body.community_id} ({existing.status}).")
    assert user.id is not None
    request = RegistrationRequest(user_id=user.id, **body.model_dump())
    session.add(request)
    session.commit()
    return registration_public(request)


# ---- wallets ---------------------------------------------------------------------------------------------------


def _own_request(session: Session, user: User, community_id: PathId) -> RegistrationRequest:
    request = session.exec(
        select(RegistrationRequest).where(
            RegistrationRequest.user_id == user.id, RegistrationRequest.community_id == community_id
        )
    ).first()
    if request is None:
        raise not_found(f"You have no registration for community {community_id}: ask to join it first.")
    return request


@router.post("/me/wallet-challenges", status_code=201, response_model=Challenge, responses=ERRORS)
def wallet_challenge(
    body: ChallengeRequest, principal: PersonDep, user: CurrentUserDep, session: SessionDep, settings: SettingsDep
) -> Challenge:
    """A Sign-In-With-Ethereum message (EIP-4361) for `address` to sign with personal_sign; valid once, briefly."""
    request = _own_request(session, user, body.community_id)
    if request.status != RegistrationStatus.PENDING:
        raise HTTPException(409, detail=f"Your registration in community {body.community_id} is {request.status}.")
    now = datetime.now(UTC).replace(microsecond=0)
    nonce = siwe_binding.new_nonce()
    expires = siwe_binding.nonce_expiry(now, settings.siwe_nonce_ttl_seconds)
    session.add(
        SiweNonce(
            nonce=nonce, subject=principal.subject, community_id=body.community_id, issued_at=now, expires_at=expires
        )
    )
    session.commit()
    message = siwe_binding.build_message(
        body.address, settings.siwe_domain, settings.siwe_uri, settings.chain_id, nonce, now, expires
    )
    return Challenge(nonce=nonce, message=message, expires_at=expires)


@router.post("/me/wallets", response_model=RegistrationPublic, responses=ERRORS)
def bind_wallet(
    body: WalletBinding, principal: PersonDep, user: CurrentUserDep, session: SessionDep, settings: SettingsDep
) -> RegistrationPublic:
    """Bind the wallet that signed a challenge to your registration; each nonce works once."""
    try:
        verified = siwe_binding.verify(body.message, body.signature, settings.siwe_domain, settings.chain_id)
    except siwe_binding.BindingError as exc:
        raise HTTPException(400, detail=str(exc)) from exc
    nonce = session.get(SiweNonce, verified.nonce)
    if nonce is None or nonce.subject != principal.subject:
        raise HTTPException(400, detail="The message's nonce was not issued to you: ask for a new challenge.")
    now = datetime.now(UTC)
    if nonce.expires_at < now:
        raise HTTPException(400, detail="The challenge has expired: ask for a new one and sign again.")
    # Mark used with a conditional update, so two concurrent submissions of one signature cannot both win.
    used = session.exec(
        update(SiweNonce).where(SiweNonce.nonce == nonce.nonce, SiweNonce.used_at.is_(None)).values(used_at=now)  # type: ignore[union-attr,call-overload]
    )
    if used.rowcount != 1:
        raise HTTPException(409, detail="This signed message was already used; replays are refused. Sign a new one.")
    request = _own_request(session, user, nonce.community_id)
    if request.status != RegistrationStatus.PENDING:
        raise HTTPException(409, detail=f"Your registration in community {nonce.community_id} is {request.status}.")
    taken = session.exec(
        select(UserCommunity).where(
            UserCommunity.community_id == nonce.community_id, UserCommunity.wallet == verified.address
        )
    ).first()
    other = session.exec(
        select(RegistrationRequest).where(
            RegistrationRequest.community_id == nonce.community_id,
            RegistrationRequest.wallet == verified.address,
            RegistrationRequest.user_id != user.id,
        )
    ).first()
    if taken is not None or other is not None:
        raise HTTPException(409, detail="That wallet is already bound to another account in this community.")
    request.wallet = verified.address
    session.add(request)
    session.commit()
    return registration_public(request)


@router.delete("/me/communities/{community_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def leave_community(community_id: PathId, user: CurrentUserDep, session: SessionDep, settings: SettingsDep) -> Response:
    """Remove your blockchain account in one community: the wallet is deactivated on chain (balance to the
    treasury), the membership ends; your other communities and your account stay."""
    membership = session.get(UserCommunity, (community_id, user.id))
    request = session.exec(
        select(RegistrationRequest).where(
            RegistrationRequest.user_id == user.id, RegistrationRequest.community_id == community_id
        )
    ).first()
    if membership is None and request is None:
        raise not_found(f"You have no account in community {community_id}.")
    community = session.get(Community, community_id)
    tx = None
    if membership is not None and membership.wallet and membership.active:
        if community is None or community.chain_community_id is None:
            raise HTTPException(409, detail=f"Community {community_id} is not deployed on chain.")
        try:
            tx = chain.remove_member(settings, community.chain_community_id, membership.wallet)
        except ChainError as exc:
            raise chain_failure(exc) from exc
    if membership is not None:
        session.delete(membership)
    if request is not None:
        session.delete(request)
    session.exec(delete(UserRole).where(UserRole.user_id == user.id, UserRole.community_id == community_id))  # type: ignore[arg-type,call-overload]
    session.add(AuditEntry(action="member.left", community_id=community_id, tx_hash=tx))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
