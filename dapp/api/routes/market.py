"""Marketplace listings of a community (off chain, searchable) and its deals (read from the chain).

A listing's text lives in the database; the deal created for it on chain carries only the hash of that text
(`description_hash`), which the create route returns so the member's wallet can put it in the deal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from eth_utils import is_address
from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel import Session, select
from web3.exceptions import Web3Exception

from dapp.api import chain
from dapp.api.deps import (
    AUDITOR,
    COMMUNITY_ADMIN,
    PLATFORM_ADMIN,
    TOKEN_HOLDER,
    CommunityAccess,
    SessionDep,
    SettingsDep,
    community_access,
    forbidden,
    not_found,
)
from dapp.api.routes.identity import ERRORS
from dapp.api.schemas import AUTH_ERRORS, Offset, PathId, Problem, StrictModel
from lec.chain.client import ChainError
from lec.db.models.market import MAX_DESCRIPTION, MAX_TITLE, Listing, ListingCreate
from lec.market.client import DealView
from lec.market.listings import ListingError, close_listing, create_listing, hours_to_centihours, search_listings
from lec.market.policy import Side

router = APIRouter(tags=["market"], responses={**AUTH_ERRORS, **ERRORS})

# Who reads: members, the community admin, auditors (and platform admins, as everywhere).
Reader = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, AUDITOR, PLATFORM_ADMIN))]
# Who posts: people with a wallet in the community, i.e. its members and its admin.
Poster = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN))]
# Who closes: the listing's owner (a member) or an admin; the owner check is per listing, below.
Closer = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, PLATFORM_ADMIN))]

CHAIN_DOWN: dict[int | str, dict] = {
    503: {"model": Problem, "description": "The chain node does not answer, or Keycloak's keys could not be fetched."}
}

SideName = Literal["offer", "request", "task"]
# Hours as text, so "0.1" stays exactly a tenth (a JSON number would pass through a binary float).
HOURS_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
UNITS_PER_HOUR = 10**18


def hours_text(units: int) -> str:
    """Token units as hours without rounding ("1.5", "2", "0.000000000000000001")."""
    whole, fraction = divmod(units, UNITS_PER_HOUR)
    digits = f"{fraction:018d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


class ListingIn(StrictModel):
    """A new listing; its owner is the caller's wallet in the community (never taken from the body)."""

    category: int = Field(ge=0, le=7, description="Flow category 0 … 7; 5, 6 and 7 are community tasks.")
    side: SideName = Field(description="offer or request (members), task (community admin, categories 5–7).")
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    description: str = Field(max_length=MAX_DESCRIPTION)
    hours: str = Field(pattern=HOURS_PATTERN, description='The price in hours (tokens) as text, e.g. "1.5".')
    availability: str = Field(default="", max_length=200, description="When the provider is available.")


class ListingOut(BaseModel):
    id: int
    community_id: int
    category: int
    side: SideName
    title: str
    description: str
    hours: str
    price_units: str = Field(description="The price in token units (18 decimals), as the deal on chain holds it.")
    availability: str
    owner: str
    description_hash: str = Field(description="keccak256 of the canonical title+description: the deal's hash.")
    deal_id: int | None
    active: bool
    created_at: datetime


class ListingPage(BaseModel):
    items: list[ListingOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="The offset of the next page; null on the last one.")


class DealOut(BaseModel):
    id: int
    category: int
    state: str
    side: SideName
    provider: str | None
    payer: str | None = Field(description="The treasury (the token's address) for community tasks.")
    venue: str | None
    price_units: str
    hours: str
    cashback_bps: int
    fee_bps: int
    venue_bps: int
    incentive_bps: int
    updated_at: int
    description_hash: str
    listing: ListingOut | None = Field(description="The community's listing with this deal's description, if any.")


def _chain_community(access: CommunityAccess) -> int:
    """Listings and deals are keyed by the Registry's community id."""
    if access.community.chain_community_id is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"Community {access.community.id} is not deployed on chain yet: it has no marketplace.",
        )
    return access.community.chain_community_id


def _out(listing: Listing, community_id: int) -> ListingOut:
    assert listing.id is not None
    return ListingOut(
        id=listing.id,
        community_id=community_id,
        category=listing.category,
        side=Side(listing.side).name.lower(),  # type: ignore[arg-type]
        title=listing.title,
        description=listing.description,
        hours=hours_text(listing.price_units),
        price_units=str(listing.price_units),
        availability=listing.availability,
        owner=listing.owner,
        description_hash=listing.description_hash,
        deal_id=listing.deal_id,
        active=listing.active,
        created_at=listing.created_at,
    )


def _listing_of(session: Session, access: CommunityAccess, listing_id: int) -> Listing:
    listing = session.get(Listing, listing_id)
    if listing is None or listing.chain_community_id != _chain_community(access):
        raise not_found(f"There is no listing {listing_id} in community {access.community.id}.")
    return listing


@router.get("/communities/{community_id}/listings", response_model=ListingPage)
def search(
    access: Reader,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="Words all found in title or description.")] = None,
    category: Annotated[int | None, Query(ge=0, le=7)] = None,
    side: SideName | None = None,
    max_hours: Annotated[str | None, Query(pattern=HOURS_PATTERN, description='Price ceiling in hours: "2".')] = None,
    owner: Annotated[str | None, Query(description="Only this wallet's listings.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> ListingPage:
    """The community's open listings, newest first, filtered by words, category, side, price ceiling and owner."""
    if owner is not None and not is_address(owner):
        raise HTTPException(422, detail=f"{owner!r} is not an Ethereum address (0x and 40 hex digits).")
    # One row more than the page tells whether another page follows, without counting the whole result.
    rows = search_listings(
        session,
        _chain_community(access),
        text=q,
        category=category,
        side=Side[side.upper()] if side else None,
        max_hours=max_hours,
        owner=owner,
        limit=limit + 1,
        offset=offset,
    )
    assert access.community.id is not None
    return ListingPage(
        items=[_out(r, access.community.id) for r in rows[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(rows) > limit else None,
    )


@router.post("/communities/{community_id}/listings", status_code=status.HTTP_201_CREATED, response_model=ListingOut)
def create(body: ListingIn, access: Poster, session: SessionDep) -> ListingOut:
    """Post a listing as yourself (your wallet in this community is its owner). The reply's `description_hash`
    is what the deal you then create on chain must carry."""
    if body.side == "task" and not access.is_admin:
        raise forbidden("Only the community admin publishes community tasks; members offer or request.")
    wallet = access.member.wallet if access.member else None
    if wallet is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"You have no wallet in community {access.community.id}: bind one (Sign-In with Ethereum) first.",
        )
    try:
        data = ListingCreate(
            chain_community_id=_chain_community(access),
            category=body.category,
            side=Side[body.side.upper()],
            title=body.title,
            description=body.description,
            price_centihours=hours_to_centihours(body.hours),
            availability=body.availability,
            owner=wallet,
        )
        listing = create_listing(session, data)
    except ListingError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    assert access.community.id is not None
    return _out(listing, access.community.id)


@router.post("/communities/{community_id}/listings/{listing_id}/close", response_model=ListingOut)
def close(listing_id: PathId, access: Closer, session: SessionDep) -> ListingOut:
    """Hide a listing from searches (its owner or the community admin); closing a closed listing changes nothing."""
    listing = _listing_of(session, access, listing_id)
    wallet = access.member.wallet if access.member else None
    if not access.is_admin and (wallet is None or wallet.lower() != listing.owner.lower()):
        raise forbidden(f"Listing {listing_id} is not yours: only its owner or the community admin may close it.")
    if listing.active:
        listing = close_listing(session, listing_id)
    assert access.community.id is not None
    return _out(listing, access.community.id)


@router.get("/communities/{community_id}/deals/{deal_id}", response_model=DealOut, responses=CHAIN_DOWN)
def read_deal(deal_id: PathId, access: Reader, session: SessionDep, settings: SettingsDep) -> DealOut:
    """A deal as the community's Marketplace contract holds it, with the off-chain listing its hash points to."""
    community = _chain_community(access)
    try:
        market = chain.marketplace(settings, community)
        deal = market.deal(deal_id) if market else None
    except (ChainError, OSError) as exc:  # OSError: requests' connection errors, when the node stops mid-call
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"The chain cannot be read now: {exc} Retry when it is up."
        ) from exc
    except LookupError as exc:
        raise not_found(str(exc)) from exc
    except Web3Exception as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=f"The marketplace contract refused: {exc}") from exc
    if deal is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"Community {access.community.id} has no marketplace on chain yet."
        )
    assert access.community.id is not None
    return _deal_out(deal, _deal_listing(session, community, deal), access.community.id)


def _deal_listing(session: Session, community: int, deal: DealView) -> Listing | None:
    """The listing linked to the deal, else the oldest one whose text hashes to the deal's description hash."""
    query = select(Listing).where(Listing.chain_community_id == community)
    linked = session.exec(query.where(Listing.deal_id == deal.id)).first()
    if linked is not None and linked.description_hash == deal.description_hash:
        return linked
    return session.exec(query.where(Listing.description_hash == deal.description_hash).order_by(Listing.id)).first()  # type: ignore[arg-type]


def _deal_out(deal: DealView, listing: Listing | None, community_id: int) -> DealOut:
    return DealOut(
        id=deal.id,
        category=deal.category,
        state=deal.state.name.lower(),
        side=deal.side.name.lower(),  # type: ignore[arg-type]
        provider=deal.provider,
        payer=deal.payer,
        venue=deal.venue,
        price_units=str(deal.price),
        hours=hours_text(deal.price),
        cashback_bps=deal.cashback_bps,
        fee_bps=deal.fee_bps,
        venue_bps=deal.venue_bps,
        incentive_bps=deal.incentive_bps,
        updated_at=deal.updated_at,
        description_hash=deal.description_hash,
        listing=_out(listing, community_id) if listing else None,
    )
