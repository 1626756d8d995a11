"""Notarised periods and the verification of proof bundles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from dapp.api.schemas.common import StrictModel

# A period id is a local day written YYYYMMDD; the range keeps anything else (a 64-bit integer) out of the calendar.
PeriodId = Annotated[int, Path(ge=19_700_101, le=99_991_231, description="The local day, YYYYMMDD.")]


class PeriodPublic(BaseModel):
    period_id: int
    date: str
    model: dict[str, Any]
    data_root: str | None
    rewards_root: str | None
    aggregates_hash: str | None
    total_rewards: str | None
    leaf_count: int | None
    notarisation: dict[str, Any] | None


class VerifyRequest(StrictModel):
    bundle: dict[str, Any] = Field(description="A proof bundle as returned by the bundle endpoint.")


class CheckPublic(BaseModel):
    name: str
    ok: bool
    detail: str


class VerifyResult(BaseModel):
    ok: bool
    checks: list[CheckPublic]
