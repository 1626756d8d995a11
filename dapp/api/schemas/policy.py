"""Reward models registered on chain."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from dapp.api.schemas.common import JsonInt, StrictModel


class RewardModelPublic(BaseModel):
    id: int
    name: str
    kind: str
    version: int
    params: str
    params_hash: str


class RewardModelCreate(StrictModel):
    """A model version to register; which parameters each kind needs is the oracle's rule (`validate_model`)."""

    name: str = Field(min_length=1, max_length=64)
    kind: Literal["self-consumption", "no-peaks", "combined"]
    params: dict[str, Annotated[JsonInt, Field(ge=0)]]


class RewardModelRegistered(BaseModel):
    id: int
    tx_hash: str | None
