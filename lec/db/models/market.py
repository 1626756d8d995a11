"""The market's tables: off-chain listings (title, description, category, hours, availability), layered as
Base → Create → table; the API's view of a listing is `ListingPublic` in :mod:`dapp.api.schemas.market`.
A listing's `description_hash` is what its deal stores on chain, and it is keyed by the Registry's community
id (`chain_community_id`), as the deals are."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lec.db.types import UtcDateTime, utcnow

UNITS_PER_CENTIHOUR = 10**16  # 1 token (10**18 units) = 1 hour = 100 centi-hours
MAX_TITLE = 120
MAX_DESCRIPTION = 4_000


class ListingBase(SQLModel):
    chain_community_id: int = Field(index=True, description="The community's id in the Registry.")
    category: int = Field(ge=0, le=7, index=True, description="Flow category 0 … 7 (report §5.3.2, 1 … 8).")
    side: int = Field(ge=0, le=2, sa_type=sa.Integer, description="0 offer, 1 request, 2 community task.")
    title: str = Field(max_length=MAX_TITLE)
    description: str = Field(max_length=MAX_DESCRIPTION)
    price_centihours: int = Field(gt=0, index=True, description="Price in hundredths of an hour (token).")
    availability: str = Field(default="", max_length=200, description="When the provider is available.")
    owner: str = Field(max_length=42, index=True, description="Wallet of the member (or admin) who posted it.")


class ListingCreate(ListingBase):
    pass


class Listing(ListingBase, table=True):
    __tablename__ = "market_listing"

    id: int | None = Field(default=None, primary_key=True)
    description_hash: str = Field(max_length=66, index=True, description="0x keccak256, the deal's on-chain hash.")
    deal_id: int | None = Field(default=None, index=True, description="The on-chain deal, once created.")
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    @property
    def hours(self) -> Decimal:
        return Decimal(self.price_centihours) / 100

    @property
    def price_units(self) -> int:
        """The price in token units, as the deal on chain carries it."""
        return self.price_centihours * UNITS_PER_CENTIHOUR


MAX_COMMENT = 500


class Rating(SQLModel, table=True):
    """A 1–5 rating with a comment one party of a settled deal leaves for the other (the report's social CV,
    §5.3): keyed by the deal on chain and the rater's wallet, so each side rates a deal once."""

    __tablename__ = "market_rating"
    __table_args__ = (sa.UniqueConstraint("chain_community_id", "deal_id", "rater"),)

    id: int | None = Field(default=None, primary_key=True)
    chain_community_id: int = Field(index=True, description="The community's id in the Registry.")
    deal_id: int = Field(index=True, description="The settled deal on chain.")
    rater: str = Field(max_length=42, index=True, description="Wallet of the party who rates.")
    ratee: str = Field(max_length=42, index=True, description="Wallet of the party rated.")
    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=MAX_COMMENT)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class MemberTarget(SQLModel, table=True):
    """The monthly goal a member sets themselves on the "My energy" page, in hundredths of an hour (token)."""

    __tablename__ = "member_target"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    monthly_centihours: int = Field(ge=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


MAX_REASON = 1_000


class DisputeReason(SQLModel, table=True):
    """Why a side disputed a deal, in their own words, for the community admin who resolves it. The chain holds
    only the dispute itself (`DealDisputed`: the deal and the wallet); the reason stays off chain, with the deal
    id and who wrote it, one per deal and side (a second one replaces the first while the deal is open)."""

    __tablename__ = "market_dispute_reason"
    __table_args__ = (sa.UniqueConstraint("chain_community_id", "deal_id", "wallet"),)

    id: int | None = Field(default=None, primary_key=True)
    chain_community_id: int = Field(index=True, description="The community's id in the Registry.")
    deal_id: int = Field(index=True, description="The disputed deal on chain.")
    wallet: str = Field(max_length=42, index=True, description="Wallet of the side who disputes.")
    user_id: int | None = Field(default=None, foreign_key="users.id", description="The person who wrote it.")
    reason: str = Field(max_length=MAX_REASON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
