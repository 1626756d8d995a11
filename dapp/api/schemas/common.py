"""Building blocks shared by the schemas: strict bodies, bounded ids, pages."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

T = TypeVar("T")


# Text a person types on one line (a name, an address): no control characters — PostgreSQL refuses NUL in text,
# and none of them prints. The pattern spells its class out, so the schema's regex and the API's agree.
Line = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]*$")]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# Ids are 64-bit integers in both databases, but a JSON number is exact only up to 2**53 (RFC 8259 §6): a larger
# id could not round-trip through a JavaScript client or a schema validator, so the API takes ids up to there and
# answers anything above with a 422, not a driver overflow.
MAX_ID = 2**53 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _whole(value: object) -> object:
    """JSON Schema's integer, which strict bodies use: 3.0 is one (a JavaScript client may well send it so);
    3.5, "3" and true are not, and the strict model refuses them."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


JsonInt = Annotated[int, BeforeValidator(_whole)]
BodyId = Annotated[JsonInt, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total the filters match."""

    items: list[T]
    total: int
    limit: int
    offset: int
