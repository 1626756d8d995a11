"""Marketplace listings (off chain) and deals (on chain), as the API takes and shows them.

Hours travel as text, so "0.1" stays exactly a tenth (a JSON number would pass through a binary float), and
token amounts as decimal strings of 18-decimal units. In these views `community_id` is the platform's
community (the path's id); the listing table itself is keyed by the Registry's id, as the deals are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from dapp.api.schemas.common import JsonInt, StrictModel
from lec.db.models.market import MAX_DESCRIPTION, MAX_TITLE, Listing
from lec.market.client import DealView
from lec.market.policy import Side

SideName = Literal["offer", "request", "task"]
HOURS_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
UNITS_PER_HOUR = 10**18


def hours_text(units: int) -> str:
    """Token units as hours without rounding ("1.5", "2", "0.000000000000000001")."""
    whole, fraction = divmod(units, UNITS_PER_HOUR)
    digits = f"{fraction:018d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


class NewListing(StrictModel):
    """A new listing; its owner is the caller's wallet in the community (never taken from the body)."""

    category: JsonInt = Field(ge=0, le=7, description="Flow category 0 … 7; 5, 6 and 7 are community tasks.")
    side: SideName = Field(description="offer or request (members), task (community admin, categories 5–7).")
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    description: str = Field(max_length=MAX_DESCRIPTION)
    hours: str = Field(pattern=HOURS_PATTERN, description='The price in hours (tokens) as text, e.g. "1.5".')
    availability: str = Field(default="", max_length=200, description="When the provider is available.")


class ListingPublic(BaseModel):
    id: int
    community_id: int = Field(description="The platform's community id (as in the path).")
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
    items: list[ListingPublic]
    limit: int
    offset: int
    next_offset: int | None = Field(description="The offset of the next page; null on the last one.")


class DealPublic(BaseModel):
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
    listing: ListingPublic | None = Field(description="The community's listing with this deal's description, if any.")


def listing_public(listing: Listing, community_id: int) -> ListingPublic:
    """The view of a listing of the platform's community `community_id`."""
    assert listing.id is not None
    return ListingPublic(
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


def deal_public(deal: DealView, listing: Listing | None, community_id: int) -> DealPublic:
    return DealPublic(
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
        listing=listing_public(listing, community_id) if listing else None,
    )


class Person(BaseModel):
    """A member as the others see them: one display name and the wallet they use in the community."""

    name: str
    wallet: str


class NewRating(StrictModel):
    stars: JsonInt = Field(ge=1, le=5, description="1 (poor) to 5 (excellent).")
    comment: str = Field(default="", max_length=500)


class RatingPublic(BaseModel):
    deal_id: int
    rater: str
    ratee: str
    stars: int
    comment: str
    created_at: datetime


class ProfilePublic(BaseModel):
    wallet: str
    name: str | None
    completed_deals: int = Field(description="Settled or resolved deals the wallet was a side of.")
    average_rating: float | None
    ratings: list[RatingPublic]
    rated_by_me: list[int] = Field(description="Deals the caller has already rated.")


class MonthlyTarget(StrictModel):
    hours: str = Field(pattern=HOURS_PATTERN, description='The monthly goal in hours (tokens), e.g. "10".')


class NewDisputeReason(StrictModel):
    reason: str = Field(min_length=1, max_length=1000, description="Why you dispute the deal, in your own words.")


class DisputeReasonPublic(BaseModel):
    deal_id: int
    wallet: str
    name: str | None = Field(description="The display name of who wrote it, if they are still a member.")
    reason: str
    created_at: datetime
