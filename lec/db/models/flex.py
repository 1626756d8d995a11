"""Flexibility's tables (owner: the flexibility service, docs/flexibility.md): members' declared flexible loads,
demand-response events received from a buyer (OpenADR or REST), and each event's dispatch to members.

A declaration and a dispatch row belong to a person (`user_id`): the right to be forgotten deletes them with the
user. An event carries no personal data (a window, a requested power, the buyer's client id).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lec.db.types import UtcDateTime, enum_type, utcnow
from lec.flex.declarations import ALL_DAYS, MAX_NOTICE_MINUTES, MAX_POWER_W, MINUTES_PER_DAY, LoadKind


class EventSource(enum.StrEnum):
    OPENADR = "openadr"
    REST = "rest"


class EventDecision(enum.StrEnum):
    OPTED_IN = "opted-in"
    OPTED_OUT = "opted-out"


class FlexDeclarationBase(SQLModel):
    """What a member declares about one flexible load (rules: :mod:`lec.flex.declarations`)."""

    kind: LoadKind = Field(sa_type=enum_type(LoadKind), schema_extra={"strict": False})
    power_w: int = Field(ge=1, le=MAX_POWER_W, description="The load's power in W.")
    days_mask: int = Field(default=ALL_DAYS, ge=1, le=ALL_DAYS, description="Bit 0 Monday … bit 6 Sunday.")
    start_minute: int = Field(default=0, ge=0, le=MINUTES_PER_DAY, description="Local start, minutes after 00:00.")
    end_minute: int = Field(default=MINUTES_PER_DAY, ge=0, le=MINUTES_PER_DAY, description="Local end (may wrap).")
    notice_minutes: int = Field(default=60, ge=0, le=MAX_NOTICE_MINUTES, description="Minimum notice before an event.")
    setpoint_w: int | None = Field(default=None, ge=0, le=MAX_POWER_W, description="Max draw during an event (W).")


class FlexDeclaration(FlexDeclarationBase, table=True):
    __tablename__ = "flex_declarations"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class FlexEvent(SQLModel, table=True):
    """A demand-response event: reduce `request_w` from `start` to `end`. Unique per buyer's event id, so an
    event re-sent (OpenADR redelivers until acknowledged) is recorded once."""

    __tablename__ = "flex_events"
    __table_args__ = (sa.UniqueConstraint("community_id", "source", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    source: EventSource = Field(sa_type=enum_type(EventSource))
    external_id: str = Field(max_length=128)
    buyer: str = Field(max_length=128, description="The buyer's client id or VTN id (a company, not a person).")
    start: datetime = Field(sa_type=UtcDateTime)
    end: datetime = Field(sa_type=UtcDateTime)
    request_w: int = Field(ge=0)
    committed_w: int = Field(default=0, ge=0, description="What the community took on: min(request, available).")
    decision: EventDecision = Field(sa_type=enum_type(EventDecision))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class FlexDispatch(SQLModel, table=True):
    """A member's share of an event, its acknowledgement by the member's gateway, and an opt-out if any."""

    __tablename__ = "flex_dispatches"

    event_id: int = Field(foreign_key="flex_events.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)
    share_w: int = Field(ge=0)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    opted_out_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


MAX_PRICE_CENTS_PER_KWH = 100_000  # 1 000 € per kWh: far above any flexibility market, a typo guard


class FlexPrice(SQLModel, table=True):
    """The community's asking price for its flexibility, set by the community admin and shown to buyers with the
    offer (no personal data: a community figure)."""

    __tablename__ = "flex_prices"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    price_cents_per_kwh: int = Field(ge=0, le=MAX_PRICE_CENTS_PER_KWH, description="Euro cents per kWh delivered.")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
