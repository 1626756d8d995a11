"""Wallet binding by Sign-In-With-Ethereum: a one-time challenge, then the signed message binds the wallet to
the caller's pending request to join a community."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, update
from sqlmodel import Session, select

from dapp.api import siwe_binding
from dapp.api.errors import bad_request, conflict
from dapp.api.schemas.identity import Challenge, ChallengeRequest, WalletBinding
from dapp.api.security import Principal
from dapp.api.services.registrations import own_request, refuse_if_member
from lec.db.models import RegistrationRequest, RegistrationStatus, SiweNonce, User, UserCommunity
from lec.settings import Settings


def issue_challenge(
    session: Session, settings: Settings, principal: Principal, user: User, body: ChallengeRequest
) -> Challenge:
    """An EIP-4361 message for `body.address` to sign; its nonce is stored, valid once and briefly."""
    request = own_request(session, user, body.community_id)
    refuse_if_member(session, user, body.community_id)
    if request.status != RegistrationStatus.PENDING:
        raise conflict(f"Your registration in community {body.community_id} is {request.status}.")
    now = datetime.now(UTC).replace(microsecond=0)
    nonce = siwe_binding.new_nonce()
    expires = siwe_binding.nonce_expiry(now, settings.siwe_nonce_ttl_seconds)
    _make_room(session, principal.subject, now, settings.siwe_open_nonces_max - 1)
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


def _make_room(session: Session, subject: str, now: datetime, keep_open: int) -> None:
    """Forget the subject's expired nonces (their messages expired with them, so no replay needs them any more)
    and all but the newest `keep_open` of those still open: the table holds a few rows per person, whatever
    they ask for. Used nonces stay until they expire, to refuse replays with a 409."""
    session.exec(delete(SiweNonce).where(SiweNonce.subject == subject, SiweNonce.expires_at < now))  # type: ignore[call-overload,arg-type]
    open_nonces = session.exec(
        select(SiweNonce.nonce)
        .where(SiweNonce.subject == subject, SiweNonce.used_at.is_(None))  # type: ignore[union-attr]
        .order_by(SiweNonce.issued_at.desc(), SiweNonce.nonce)  # type: ignore[attr-defined]
    ).all()
    stale = list(open_nonces[keep_open:])
    if stale:
        session.exec(delete(SiweNonce).where(SiweNonce.nonce.in_(stale)))  # type: ignore[call-overload,attr-defined]


def bind_wallet(
    session: Session, settings: Settings, principal: Principal, user: User, body: WalletBinding
) -> RegistrationRequest:
    """The wallet that signed a challenge, bound to the caller's pending request; each nonce works once."""
    try:
        verified = siwe_binding.verify(
            body.message, body.signature, settings.siwe_domain, settings.chain_id, uri=settings.siwe_uri
        )
    except siwe_binding.BindingError as exc:
        raise bad_request(str(exc)) from exc
    nonce = session.get(SiweNonce, verified.nonce)
    if nonce is None or nonce.subject != principal.subject:
        raise bad_request("The message's nonce was not issued to you: ask for a new challenge.")
    now = datetime.now(UTC)
    if nonce.expires_at < now:
        raise bad_request("The challenge has expired: ask for a new one and sign again.")
    # Mark used with a conditional update, so two concurrent submissions of one signature cannot both win.
    used = session.exec(
        update(SiweNonce).where(SiweNonce.nonce == nonce.nonce, SiweNonce.used_at.is_(None)).values(used_at=now)  # type: ignore[union-attr,call-overload]
    )
    if used.rowcount != 1:
        raise conflict("This signed message was already used; replays are refused. Sign a new one.")
    request = own_request(session, user, nonce.community_id)
    refuse_if_member(session, user, nonce.community_id)
    if request.status != RegistrationStatus.PENDING:
        raise conflict(f"Your registration in community {nonce.community_id} is {request.status}.")
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
        raise conflict("That wallet is already bound to another account in this community.")
    request.wallet = verified.address
    session.add(request)
    session.commit()
    return request
