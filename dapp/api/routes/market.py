"""Marketplace listings of a community (off chain, searchable) and its deals (read from the chain).

A listing's text lives in the database; the deal created for it on chain carries only the hash of that text
(`description_hash`), which the create route returns so the member's wallet can put it in the deal.
"""

from __future__ import annotations

from decimal import Decimal
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
    DisputeReasonPublic,
    ListingPage,
    ListingPublic,
    MonthlyTarget,
    NewDisputeReason,
    NewListing,
    NewRating,
    Person,
    ProfilePublic,
    RatingPublic,
    SideName,
    deal_public,
    hours_text,
    listing_public,
)
from dapp.api.services import disputes, listings, social
from lec.db.models.market import UNITS_PER_CENTIHOUR
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


# The time bank's social side: names for wallets, ratings after a settled deal, profiles, the monthly target.
Member = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN))]


@router.get("/communities/{community_id}/people", response_model=list[Person])
def list_people(access: CommunityReader, session: SessionDep) -> list[Person]:
    """The community's active members as the others see them (display name and wallet), to pick by name (its
    members, its admin, auditors and platform admins)."""
    return [Person(name=n, wallet=w) for n, w in social.people(session, access)]


@router.post(
    "/communities/{community_id}/deals/{deal_id}/rating",
    status_code=status.HTTP_201_CREATED,
    response_model=RatingPublic,
    responses=CHAIN_DOWN,
)
def rate_deal(
    deal_id: PathId, body: NewRating, access: Member, session: SessionDep, settings: SettingsDep
) -> RatingPublic:
    """Rate the other side of a settled deal you were a side of (1–5 stars and a comment), once."""
    r = social.rate(session, settings, access, deal_id, body.stars, body.comment)
    return RatingPublic(
        deal_id=r.deal_id, rater=r.rater, ratee=r.ratee, stars=r.stars, comment=r.comment, created_at=r.created_at
    )


@router.get("/communities/{community_id}/profiles/{wallet}", response_model=ProfilePublic, responses=CHAIN_DOWN)
def read_profile(wallet: str, access: Member, session: SessionDep, settings: SettingsDep) -> ProfilePublic:
    """A member's time-bank profile: completed deals, average rating and the ratings received."""
    completed, average, received, rated = social.profile(session, settings, access, wallet)
    names = {w.lower(): n for n, w in social.people(session, access)}
    return ProfilePublic(
        wallet=wallet,
        name=names.get(wallet.lower()),
        completed_deals=completed,
        average_rating=average,
        ratings=[
            RatingPublic(
                deal_id=r.deal_id,
                rater=r.rater,
                ratee=r.ratee,
                stars=r.stars,
                comment=r.comment,
                created_at=r.created_at,
            )
            for r in received
        ],
        rated_by_me=sorted(rated),
    )


@router.get("/communities/{community_id}/me/target", response_model=MonthlyTarget | None)
def read_target(access: Member, session: SessionDep) -> MonthlyTarget | None:
    """The monthly goal you set yourself (hours), or null."""
    centihours = social.read_target(session, access)
    return None if centihours is None else MonthlyTarget(hours=hours_text(centihours * UNITS_PER_CENTIHOUR))


@router.put("/communities/{community_id}/me/target", response_model=MonthlyTarget)
def save_target(body: MonthlyTarget, access: Member, session: SessionDep) -> MonthlyTarget:
    """Keep your monthly goal (hours) for your next visits."""
    social.save_target(session, access, int(Decimal(body.hours) * 100))  # the pattern allows 2 decimals
    return body


# Disputes: the reason a side gives (off chain) and the community admin's list of them.
Admin = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN))]


@router.put(
    "/communities/{community_id}/deals/{deal_id}/dispute-reason",
    response_model=DisputeReasonPublic,
    responses=CHAIN_DOWN,
)
def give_dispute_reason(
    deal_id: PathId, body: NewDisputeReason, access: Member, session: SessionDep, settings: SettingsDep
) -> DisputeReasonPublic:
    """Say why you dispute a deal you are a side of (kept off chain for the community admin; replaces your
    earlier reason for the same deal)."""
    r = disputes.give_reason(session, settings, access, deal_id, body.reason)
    names = {w.lower(): n for n, w in social.people(session, access)}
    return DisputeReasonPublic(
        deal_id=r.deal_id, wallet=r.wallet, name=names.get(r.wallet.lower()), reason=r.reason, created_at=r.created_at
    )


@router.get("/communities/{community_id}/disputes", response_model=list[DisputeReasonPublic])
def list_dispute_reasons(access: Admin, session: SessionDep) -> list[DisputeReasonPublic]:
    """The reasons the sides gave for disputing deals, newest first (the community admin's, who resolves them)."""
    names = {w.lower(): n for n, w in social.people(session, access)}
    return [
        DisputeReasonPublic(
            deal_id=r.deal_id,
            wallet=r.wallet,
            name=names.get(r.wallet.lower()),
            reason=r.reason,
            created_at=r.created_at,
        )
        for r in disputes.reasons(session, access)
    ]
