"""Marketplace listings of a community (off chain, searchable) and its deals (read from the chain).

A listing's text lives in the database; the deal created for it on chain carries only the hash of that text
(`description_hash`), which the create route returns so the member's wallet can put it in the deal.
"""

from __future__ import annotations

from typing import Annotated

from eth_utils import is_address
from fastapi import APIRouter, Depends, Query, status

from dapp.api.deps import CommunityAccess, CommunityReader, SessionDep, SettingsDep, community_access
from dapp.api.errors import AUTH_ERRORS, CHAIN_DOWN, ERRORS, invalid
from dapp.api.guards import GuardedRoute
from dapp.api.roles import COMMUNITY_ADMIN, PLATFORM_ADMIN, TOKEN_HOLDER
from dapp.api.schemas.common import Offset, PathId
from dapp.api.schemas.market import (
    HOURS_PATTERN,
    DealPublic,
    ListingPage,
    ListingPublic,
    NewListing,
    SideName,
    deal_public,
    listing_public,
)
from dapp.api.services import listings
from lec.market.listings import search_listings
from lec.market.policy import Side

router = APIRouter(tags=["market"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute)

# Who posts: people with a wallet in the community, i.e. its members and its admin.
Poster = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN))]
# Who closes: the listing's owner (a member) or an admin; the owner check is per listing.
Closer = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, PLATFORM_ADMIN))]


@router.get("/communities/{community_id}/listings", response_model=ListingPage)
def search(
    access: CommunityReader,
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
        raise invalid(f"{owner!r} is not an Ethereum address (0x and 40 hex digits).")
    # One row more than the page tells whether another page follows, without counting the whole result.
    rows = search_listings(
        session,
        listings.market_of(access),
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
        items=[listing_public(r, access.community.id) for r in rows[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(rows) > limit else None,
    )


@router.post("/communities/{community_id}/listings", status_code=status.HTTP_201_CREATED, response_model=ListingPublic)
def create(body: NewListing, access: Poster, session: SessionDep) -> ListingPublic:
    """Post a listing as yourself (your wallet in this community is its owner). The reply's `description_hash`
    is what the deal you then create on chain must carry."""
    listing = listings.post_listing(session, access, body)
    assert access.community.id is not None
    return listing_public(listing, access.community.id)


@router.post("/communities/{community_id}/listings/{listing_id}/close", response_model=ListingPublic)
def close(listing_id: PathId, access: Closer, session: SessionDep) -> ListingPublic:
    """Hide a listing from searches (its owner or the community admin); closing a closed listing changes nothing."""
    listing = listings.close(session, access, listing_id)
    assert access.community.id is not None
    return listing_public(listing, access.community.id)


@router.get("/communities/{community_id}/deals/{deal_id}", response_model=DealPublic, responses=CHAIN_DOWN)
def read_deal(deal_id: PathId, access: CommunityReader, session: SessionDep, settings: SettingsDep) -> DealPublic:
    """A deal as the community's Marketplace contract holds it, with the off-chain listing its hash points to."""
    deal, listing = listings.deal_with_listing(session, settings, access, deal_id)
    assert access.community.id is not None
    return deal_public(deal, listing, access.community.id)
