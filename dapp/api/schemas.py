"""Request and response models. Requests are strict: unknown fields, and strings or booleans where numbers
are expected, are refused instead of being coerced silently."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
