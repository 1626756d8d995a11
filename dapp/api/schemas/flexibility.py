"""Flexibility as the API takes and shows it: members' declarations, the buyers' k-anonymous offer, demand-response
events and a member's dispatches. Powers are integer W; times are ISO 8601 with an offset (UTC in replies)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from dapp.api.schemas.common import JsonInt, StrictModel
from lec.db.models.flex import MAX_PRICE_CENTS_PER_KWH, EventDecision, EventSource
from lec.flex.declarations import ALL_DAYS, MAX_NOTICE_MINUTES, MAX_POWER_W, MINUTES_PER_DAY, LoadKind

Minute = Annotated[JsonInt, Field(ge=0, le=MINUTES_PER_DAY, multiple_of=15)]


class DeclarationCreate(StrictModel):
    """A flexible load; it belongs to the caller (never taken from the body)."""

    kind: Annotated[LoadKind, Field(strict=False)] = Field(
        description="shiftable, modulable, storage or non-controllable (the report's spostabile, modulabile, "
        "non controllabile; storage = a home battery)."
    )
    power_w: JsonInt = Field(ge=1, le=MAX_POWER_W, description="The load's power in W.")
    days_mask: JsonInt = Field(default=ALL_DAYS, ge=1, le=ALL_DAYS, description="Bit 0 Monday … bit 6 Sunday.")
    start_minute: Minute = Field(default=0, description="Local start (Europe/Rome), minutes after 00:00.")
    end_minute: Minute = Field(default=MINUTES_PER_DAY, description="Local end; below the start it crosses midnight.")
    notice_minutes: JsonInt = Field(default=60, ge=0, le=MAX_NOTICE_MINUTES, description="Minimum notice.")
    setpoint_w: JsonInt | None = Field(
        default=None, ge=0, le=MAX_POWER_W, description="Modulable loads: the most it may draw during an event (W)."
    )


class DeclarationPublic(BaseModel):
    id: int
    kind: LoadKind
    power_w: int
    days_mask: int
    start_minute: int
    end_minute: int
    notice_minutes: int
    setpoint_w: int | None
    down_w: int = Field(description="What the load offers as a reduction.")
    up_w: int = Field(description="What the load offers as an increase.")
    created_at: datetime


class SlotPublic(BaseModel):
    start: datetime = Field(description="Start of the 15-minute slot (UTC).")
    down_w: int = Field(description="Reduction the community can offer in the slot, W (0 when withheld).")
    up_w: int = Field(description="Increase the community can offer in the slot, W (0 when withheld).")
    devices: int = Field(description="Number of declared loads behind the figures (0 when withheld).")
    withheld: bool = Field(description="True when fewer than k members contribute: nothing is published.")


class OfferPublic(BaseModel):
    """The community's aggregated flexibility: no member, address, id or name, and no slot with fewer than k."""

    community_id: int
    k: int = Field(description="Minimum number of distinct members behind any published slot.")
    generated_at: datetime
    price_cents_per_kwh: int | None = Field(
        default=None, description="The community's asking price, euro cents per kWh delivered; null: none set."
    )
    slots: list[SlotPublic]


class PriceSet(StrictModel):
    """The community admin's asking price for the community's flexibility."""

    price_cents_per_kwh: JsonInt = Field(ge=0, le=MAX_PRICE_CENTS_PER_KWH, description="Euro cents per kWh delivered.")


class PricePublic(BaseModel):
    community_id: int
    price_cents_per_kwh: int | None = Field(description="Euro cents per kWh delivered; null when none is set.")
    updated_at: datetime | None


class EventCreate(StrictModel):
    """A demand-response request, as a buyer that does not speak OpenADR sends it."""

    event_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="Buyer's id.")
    start: Annotated[AwareDatetime, Field(strict=False)]
    end: Annotated[AwareDatetime, Field(strict=False)]
    request_w: JsonInt = Field(ge=1, le=1_000_000_000, description="Reduction asked for, W.")


class EventPublic(BaseModel):
    id: int
    event_id: str
    source: EventSource
    buyer: str
    start: datetime
    end: datetime
    request_w: int
    committed_w: int
    decision: EventDecision
    participants: int = Field(description="Members the committed reduction was dispatched to.")


class DispatchPublic(BaseModel):
    """A member's own share of an event."""

    event_id: int
    start: datetime
    end: datetime
    share_w: int
    acknowledged_at: datetime | None
    opted_out_at: datetime | None


class ForecastSlot(BaseModel):
    start: datetime
    load_wh: int = Field(description="Forecast community load in the quarter hour, Wh.")
    production_wh: int = Field(description="Forecast community PV production in the quarter hour, Wh.")


class ForecastPublic(BaseModel):
    """Day-ahead forecast of the community's totals (no member's data): ridge regression for the load, pvlib
    clear-sky × the recent clear-sky index for PV (docs/flexibility.md, with their errors against persistence)."""

    community_id: int
    day: date
    slots: list[ForecastSlot]
