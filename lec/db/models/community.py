"""The community admin's onboarding tables (owner: lec.community): what a manifest says beyond the report's
schema — the community's market zone and region, each member's POD and primary substation, and the plants
with what the GSE incentive needs to know of them (docs/onboarding.md, docs/incentive.md).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lec.db.types import UtcDateTime, utcnow


class CommunityProfile(SQLModel, table=True):
    """The incentive's settings of a community: market zone (PZO), region (PV correction), the statute's key."""

    __tablename__ = "community_profiles"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    zone: str = Field(max_length=8)  # NORD, CNOR, CSUD, SUD, CALA, SICI, SARD
    region: str = Field(max_length=8)  # north, centre, south
    split_key: str = Field(default="pro_rata", max_length=32)
    producers_pct: int = 50
    allocation: str = Field(default="seniority", max_length=16)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class MemberPoint(SQLModel, table=True):
    """A member's grid connection in a community: its POD and the primary substation it sits under."""

    __tablename__ = "member_points"
    __table_args__ = (sa.UniqueConstraint("community_id", "pod"),)

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    pod: str = Field(max_length=64)
    substation: str = Field(max_length=64, index=True)


class Plant(SQLModel, table=True):
    """A renewable plant of a member, as the GSE knows it (DM 414/2023): power, commissioning, grant."""

    __tablename__ = "plants"
    __table_args__ = (sa.UniqueConstraint("community_id", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    ref: str = Field(max_length=64)  # the manifest's plant id (e.g. the GSE's code)
    user_id: int = Field(foreign_key="users.id")
    source: str = Field(max_length=16)
    power_w: int = Field(sa_type=sa.BigInteger)
    commissioned: date
    new_plant: bool = True
    pnrr_grant_bps: int = 0
    substation: str = Field(max_length=64)
