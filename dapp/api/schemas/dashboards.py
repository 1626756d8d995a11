"""The dashboards' figures: a member's days (the read model's public view) and the community's totals."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from dapp.api.schemas.common import StrictModel
from lec.db.models import MemberDailyKpiBase


class MemberDailyKpiPublic(MemberDailyKpiBase):
    """One member's day as the dashboards show it: the read model's row without its keys."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # type: ignore[assignment]


class DailyPage(BaseModel):
    items: list[MemberDailyKpiPublic]
    total: int
    limit: int
    offset: int
    totals: dict[str, int]
    self_consumption_pct: float | None
    self_sufficiency_pct: float | None


class CommunityDay(BaseModel):
    day: int
    members: int
    load_wh: int
    production_wh: int
    self_consumption_wh: int
    injection_wh: int
    withdrawal_wh: int


class RefreshRequest(StrictModel):
    start: date = Field(strict=False)  # ISO dates arrive as JSON strings
    end: date = Field(strict=False)


class RefreshResult(BaseModel):
    rows: int
