"""Building blocks shared by the schemas: strict bodies, bounded ids, pages."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# Ids are 64-bit integers in both databases: anything outside is answered with a 422, not a driver overflow.
MAX_ID = 2**63 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total the filters match."""

    items: list[T]
    total: int
    limit: int
    offset: int
