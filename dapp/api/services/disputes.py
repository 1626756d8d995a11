"""Why a deal was disputed: the words a side writes (off chain, with the deal id and who wrote them) and the
list the community admin reads before resolving. The chain keeps the dispute itself; only a side of a deal
that can still be disputed (accepted, completed or already disputed) may give a reason, once per side (a new
one replaces it until the deal is resolved)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from dapp.api.deps import CommunityAccess
from dapp.api.errors import conflict, forbidden, invalid, not_found
from dapp.api.services.listings import market_of
from dapp.api.services.social import chain_deals
from lec.db.models.market import MAX_REASON, DisputeReason
from lec.market.policy import DealState
from lec.settings import Settings

DISPUTABLE = (DealState.ACCEPTED, DealState.COMPLETED, DealState.DISPUTED)


def give_reason(
    session: Session, settings: Settings, access: CommunityAccess, deal_id: int, reason: str
) -> DisputeReason:
    """Keep the caller's reason for disputing deal `deal_id` (they must be one of its two sides)."""
    wallet = access.member.wallet if access.member else None
    if wallet is None:
        raise conflict("You have no wallet in this community: bind one first.")
    text = " ".join(reason.split())
    if not text:
        raise invalid("Write why you dispute the deal.")
    if len(text) > MAX_REASON:
        raise invalid(f"A reason is at most {MAX_REASON} characters.")
    deal = next((d for d in chain_deals(settings, access) if d.id == deal_id), None)
    if deal is None:
        raise not_found(f"There is no deal {deal_id} in this community.")
    if wallet.lower() not in {(deal.provider or "").lower(), (deal.payer or "").lower()}:
        raise forbidden("Only the two sides of a deal dispute it.")
    if deal.state not in DISPUTABLE:
        raise conflict("This deal can no longer be disputed.")
    chain_community = market_of(access)
    row = session.exec(
        select(DisputeReason).where(
            DisputeReason.chain_community_id == chain_community,
            DisputeReason.deal_id == deal_id,
            DisputeReason.wallet == wallet,
        )
    ).first()
    if row is None:
        row = DisputeReason(chain_community_id=chain_community, deal_id=deal_id, wallet=wallet, reason=text)
    row.reason, row.user_id, row.created_at = text, access.user.id if access.user else None, datetime.now(UTC)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def reasons(session: Session, access: CommunityAccess) -> list[DisputeReason]:
    """Every reason given in the community, newest first (the admin's page keeps those of disputed deals)."""
    return list(
        session.exec(
            select(DisputeReason)
            .where(DisputeReason.chain_community_id == market_of(access))
            .order_by(col(DisputeReason.id).desc())
        ).all()
    )


def forget_reasons(session: Session, user_id: int, wallets: list[str]) -> int:
    """Right to be forgotten: the reasons a person wrote (as themselves or from their wallets) are deleted."""
    rows = session.exec(
        select(DisputeReason).where(
            (DisputeReason.user_id == user_id) | col(DisputeReason.wallet).in_(wallets)  # type: ignore[arg-type]
        )
    ).all()
    for row in rows:
        session.delete(row)
    return len(rows)
