"""The time bank's social side: who is who in a community (display names for wallets), ratings of settled
deals (one per side and deal), a member's profile (completed deals, average rating) and the monthly target a
member sets themselves. Ratings and targets live off chain; the deals they refer to are read from the chain."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from eth_utils import is_address, to_checksum_address
from fastapi import HTTPException, status
from sqlmodel import Session, col, select
from web3.exceptions import Web3Exception

from dapp.api import chain
from dapp.api.deps import CommunityAccess
from dapp.api.errors import chain_down, conflict, forbidden, invalid, not_found
from dapp.api.services.listings import market_of
from lec.chain.client import ChainError
from lec.db.models import User, UserCommunity
from lec.db.models.market import MAX_COMMENT, MemberTarget, Rating
from lec.market.client import DealView
from lec.market.policy import DealState, Side
from lec.settings import Settings

RATED_STATES = (DealState.SETTLED, DealState.RESOLVED)


def display_name(user: User) -> str:
    """One display name per person everywhere: the first name and the surname's initial ("Alice D.")."""
    surname = user.surname.strip()
    return f"{user.name.strip()} {surname[0]}." if surname else user.name.strip()


def people(session: Session, access: CommunityAccess) -> list[tuple[str, str]]:
    """(display name, wallet) of the community's active members with a wallet, by name."""
    rows = session.exec(
        select(User, UserCommunity.wallet)
        .join(UserCommunity, UserCommunity.user_id == User.id)  # type: ignore[arg-type]
        .where(UserCommunity.community_id == access.community.id, col(UserCommunity.active).is_(True))
    ).all()
    found = [(display_name(u), str(w)) for u, w in rows if w]
    return sorted(found, key=lambda p: p[0].lower())


def chain_deals(settings: Settings, access: CommunityAccess) -> list[DealView]:
    try:
        market = chain.marketplace(settings, market_of(access))
        return market.deals() if market else []
    except (ChainError, OSError) as exc:
        raise chain_down(exc) from exc
    except Web3Exception as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail="The marketplace contract could not be read.") from exc


def rate(
    session: Session, settings: Settings, access: CommunityAccess, deal_id: int, stars: int, comment: str
) -> Rating:
    """The caller's rating of the other party of settled deal `deal_id` (once per deal and side)."""
    wallet = access.member.wallet if access.member else None
    if wallet is None:
        raise conflict("You have no wallet in this community: bind one first.")
    if not 1 <= stars <= 5:
        raise invalid("A rating is 1 to 5 stars.")
    if len(comment) > MAX_COMMENT:
        raise invalid(f"A comment is at most {MAX_COMMENT} characters.")
    deal = next((d for d in chain_deals(settings, access) if d.id == deal_id), None)
    if deal is None:
        raise not_found(f"There is no deal {deal_id} in this community.")
    if deal.state not in RATED_STATES:
        raise conflict("A deal is rated once it is settled.")
    me = wallet.lower()
    parties = {(deal.provider or "").lower(): deal.payer, (deal.payer or "").lower(): deal.provider}
    if me not in parties:
        raise forbidden("Only the two sides of a deal rate it.")
    ratee = parties[me]
    if ratee is None or deal.side == Side.TASK:
        raise conflict("A community task is paid by the treasury: there is nobody to rate.")
    chain_community = market_of(access)
    existing = session.exec(
        select(Rating).where(
            Rating.chain_community_id == chain_community, Rating.deal_id == deal_id, Rating.rater == wallet
        )
    ).first()
    if existing is not None:
        raise conflict("You have already rated this deal.")
    rating = Rating(
        chain_community_id=chain_community,
        deal_id=deal_id,
        rater=wallet,
        ratee=to_checksum_address(ratee),
        stars=stars,
        comment=" ".join(comment.split()),
    )
    session.add(rating)
    session.commit()
    session.refresh(rating)
    return rating


def profile(
    session: Session, settings: Settings, access: CommunityAccess, wallet: str
) -> tuple[int, float | None, list[Rating], set[int]]:
    """Completed deals of `wallet`, its average rating, the ratings it received (newest first) and the deals the
    caller has already rated."""
    if not is_address(wallet):
        raise invalid(f"{wallet!r} is not a wallet address.")
    who = wallet.lower()
    completed = sum(
        1
        for d in chain_deals(settings, access)
        if d.state in RATED_STATES and who in {(d.provider or "").lower(), (d.payer or "").lower()}
    )
    chain_community = market_of(access)
    received = list(
        session.exec(
            select(Rating)
            .where(Rating.chain_community_id == chain_community, col(Rating.ratee).ilike(wallet))
            .order_by(col(Rating.id).desc())
        ).all()
    )
    average = sum(r.stars for r in received) / len(received) if received else None
    mine = access.member.wallet if access.member else None
    rated = (
        {
            r.deal_id
            for r in session.exec(
                select(Rating).where(Rating.chain_community_id == chain_community, Rating.rater == mine)
            ).all()
        }
        if mine
        else set()
    )
    return completed, average, received, rated


def read_target(session: Session, access: CommunityAccess) -> int | None:
    if access.user is None:
        return None
    row = session.get(MemberTarget, (access.community.id, access.user.id))
    return row.monthly_centihours if row else None


def save_target(session: Session, access: CommunityAccess, centihours: int) -> int:
    if access.user is None or access.member is None:
        raise forbidden("Only a member of the community keeps a monthly target.")
    row = session.get(MemberTarget, (access.community.id, access.user.id)) or MemberTarget(
        community_id=access.community.id or 0, user_id=access.user.id or 0, monthly_centihours=0
    )
    row.monthly_centihours, row.updated_at = centihours, datetime.now(UTC)
    session.add(row)
    session.commit()
    return centihours


def forget_ratings(session: Session, wallets: list[str]) -> int:
    """Right to be forgotten: the ratings a person gave or received (comments are personal data); the deals stay
    on chain, where they name wallets only. Returns how many were deleted."""
    if not wallets:
        return 0
    lowered = [w.lower() for w in wallets]
    rows = session.exec(
        select(Rating).where(sa.or_(sa.func.lower(Rating.rater).in_(lowered), sa.func.lower(Rating.ratee).in_(lowered)))
    ).all()
    for row in rows:
        session.delete(row)
    return len(rows)
