"""Marketplace listings posted and closed through the API, and a deal read from the chain with its listing.

Listings and deals are keyed by the Registry's community id (`chain_community_id`); the caller's access names
the platform's community, whose on-chain id is looked up once per request.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlmodel import Session, select
from web3.exceptions import Web3Exception

from dapp.api import chain
from dapp.api.deps import CommunityAccess
from dapp.api.errors import chain_down, conflict, forbidden, invalid, not_found
from dapp.api.schemas.market import NewListing
from dapp.api.services.communities import chain_community_id
from lec.chain.client import ChainError
from lec.db.models.market import Listing, ListingCreate
from lec.market.client import DealView
from lec.market.listings import ListingError, close_listing, create_listing, hours_to_centihours
from lec.market.policy import Side
from lec.settings import Settings

COMMUNITY_OWNER = "0x" + "0" * 40  # the owner of a community task: the community itself (its treasury pays)


def market_of(access: CommunityAccess) -> int:
    """The Registry's id of the caller's community, which keys its listings and deals."""
    return chain_community_id(access.community, "it has no marketplace")


def post_listing(session: Session, access: CommunityAccess, body: NewListing) -> Listing:
    """A listing owned by the caller's wallet in the community; community tasks are the admin's to publish."""
    if body.side == "task" and not access.is_admin:
        raise forbidden("Only the community admin publishes community tasks; members offer or request.")
    wallet = access.member.wallet if access.member else None
    if wallet is None and body.side == "task":
        wallet = COMMUNITY_OWNER  # a task is the community's, whether or not its admin holds a member wallet
    if wallet is None:
        raise conflict(
            f"You have no wallet in community {access.community.id}: bind one (Sign-In with Ethereum) first."
        )
    try:
        data = ListingCreate(
            chain_community_id=market_of(access),
            category=body.category,
            side=Side[body.side.upper()],
            title=body.title,
            description=body.description,
            price_centihours=hours_to_centihours(body.hours),
            availability=body.availability,
            owner=wallet,
        )
        return create_listing(session, data)
    except ListingError as exc:
        raise invalid(str(exc)) from exc


def close(session: Session, access: CommunityAccess, listing_id: int) -> Listing:
    """Hide a listing from searches (its owner or the community admin); closing a closed one changes nothing."""
    listing = session.get(Listing, listing_id)
    if listing is None or listing.chain_community_id != market_of(access):
        raise not_found(f"There is no listing {listing_id} in community {access.community.id}.")
    wallet = access.member.wallet if access.member else None
    if not access.is_admin and (wallet is None or wallet.lower() != listing.owner.lower()):
        raise forbidden(f"Listing {listing_id} is not yours: only its owner or the community admin may close it.")
    return close_listing(session, listing_id) if listing.active else listing


def deal_with_listing(
    session: Session, settings: Settings, access: CommunityAccess, deal_id: int
) -> tuple[DealView, Listing | None]:
    """A deal as the community's Marketplace contract holds it, with the listing its description hash points to."""
    chain_community = market_of(access)
    try:
        market = chain.marketplace(settings, chain_community)
        deal = market.deal(deal_id) if market else None
    except (ChainError, OSError) as exc:  # OSError: requests' connection errors, when the node stops mid-call
        raise chain_down(exc) from exc
    except LookupError as exc:
        raise not_found(str(exc)) from exc
    except Web3Exception as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=f"The marketplace contract refused: {exc}") from exc
    if deal is None:
        raise conflict(f"Community {access.community.id} has no marketplace on chain yet.")
    return deal, _deal_listing(session, chain_community, deal)


def _deal_listing(session: Session, chain_community_id: int, deal: DealView) -> Listing | None:
    """The listing linked to the deal, else the oldest one whose text hashes to the deal's description hash."""
    query = select(Listing).where(Listing.chain_community_id == chain_community_id)
    linked = session.exec(query.where(Listing.deal_id == deal.id)).first()
    if linked is not None and linked.description_hash == deal.description_hash:
        return linked
    return session.exec(query.where(Listing.description_hash == deal.description_hash).order_by(Listing.id)).first()  # type: ignore[arg-type]
