"""The GSE incentive report of a community (docs/incentive.md): euros with their exact cents beside them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class IncentiveRequest(BaseModel):
    """The period and, optionally, GME's hourly zonal prices as CSV text (``datetime,zone,pzo_eur_mwh``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    key: Literal["pro_rata", "equal", "producers_consumers"] | None = None
    allocation: Literal["seniority", "pro_rata"] | None = None
    prices_csv: str | None = Field(default=None, max_length=900_000)


class ConfigurationPublic(BaseModel):
    substation: str
    shared_kwh: float
    injected_kwh: float
    withdrawn_kwh: float
    produced_kwh: float = Field(description="What the configuration's plants produced: the cap of its shared energy.")
    capped_kwh: float = Field(description="Shared energy the cap at the plants' production removed.")
    threshold_pct: float
    above_threshold_kwh: float
    tip_eur: float
    social_eur: float
    valorisation_eur: float


class PlantIncentive(BaseModel):
    id: str
    account: str
    substation: str
    shared_kwh: float
    tip_eur: float
    tip_cents: int


class MemberIncentive(BaseModel):
    account: str
    substation: str
    shared_as_producer_kwh: float
    shared_as_consumer_kwh: float
    eur: float
    cents: int
    social_eur: float


class IncentiveReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    community: int
    from_: str = Field(alias="from")
    to: str
    key: str
    allocation: str
    shared_kwh: float
    hourly_shared_kwh: list[float]
    hours: list[str]
    tip_eur: float
    tip_cents: int
    valorisation_eur: float
    valorisation_cents: int
    total_eur: float
    total_cents: int
    social_eur: float
    social_fund_eur: float
    undistributed_eur: float
    configurations: list[ConfigurationPublic]
    plants: list[PlantIncentive]
    members: list[MemberIncentive]
    approximations: list[str]
    approximation_codes: list[dict[str, str]]
