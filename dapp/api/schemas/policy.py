"""Reward models registered on chain."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from dapp.api.schemas.common import StrictModel


class RewardModelPublic(BaseModel):
    id: int
    name: str
    kind: str
    version: int
    params: str
    params_hash: str


class RewardModelCreate(StrictModel):
    name: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=32)
    params: dict[str, StrictInt]


class RewardModelRegistered(BaseModel):
    id: int
    tx_hash: str | None
