"""Request and response models. Requests are strict: unknown fields, and strings or booleans where numbers
are expected, are refused instead of being coerced silently."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Problem(BaseModel):
    """The JSON body of every error: a sentence saying what was wrong and what to do."""

    detail: str


# Responses every authenticated route can give; listed in the OpenAPI schema.
AUTH_ERRORS: dict[int | str, dict] = {
    401: {"model": Problem, "description": "Missing, invalid or expired bearer token."},
    403: {"model": Problem, "description": "Authenticated, but not allowed to do this."},
    503: {"model": Problem, "description": "Keycloak's keys could not be fetched."},
}


# Ids are 64-bit integers in both databases: anything outside is answered with a 422, not a driver overflow.
MAX_ID = 2**63 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
