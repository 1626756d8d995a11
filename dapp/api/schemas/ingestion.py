"""Batches of meter readings sent over REST, and what became of each reading."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from dapp.api.schemas.common import StrictModel

MAX_BATCH = 5000


class ReadingBatch(StrictModel):
    # Readings stay loosely typed here on purpose: the oracle's validation decides, reading by reading, and
    # answers each bad one with its reason, as for files and MQTT; good readings in the batch are kept.
    readings: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH)]


class RejectedReading(BaseModel):
    index: int
    reason: str
    message: str
    device: str | None


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: list[RejectedReading]
