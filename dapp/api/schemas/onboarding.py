"""A manifest import's outcome, and an anomaly's review."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class ImportOutcome(BaseModel):
    """What the import did (or, in a preview, would do), by kind of row."""

    community_id: int
    chain_community_id: int
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    changed: bool
    dry_run: bool


class AnomalyReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "reviewed", "resolved"]


class AnomalyReviewed(BaseModel):
    id: int
    status: str
    reviewed_at: datetime | None
    reviewed_by: str | None
