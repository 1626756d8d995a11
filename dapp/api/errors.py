"""The API's refusals: the error body, the error responses routes declare, and the exceptions that carry them.

Every error a client sees is a `Problem`: one sentence saying what was wrong and what to do. Routes, deps and
services raise the builders below instead of writing status codes, so a kind of refusal reads the same
everywhere and the OpenAPI schema lists it.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from pydantic import BaseModel

from dapp.api.idp import IdentityProviderError
from lec.chain.client import ChainError


class Problem(BaseModel):
    """The JSON body of every error: a sentence saying what was wrong and what to do."""

    detail: str


# Responses every authenticated route can give.
AUTH_ERRORS: dict[int | str, dict] = {
    401: {"model": Problem, "description": "Missing, invalid or expired bearer token."},
    403: {"model": Problem, "description": "Authenticated, but not allowed to do this."},
    503: {"model": Problem, "description": "Keycloak's keys could not be fetched."},
}

# Responses of the routes that look records up, change state, or call Keycloak or the chain.
ERRORS: dict[int | str, dict] = {
    400: {"model": Problem, "description": "The request cannot be honoured as sent."},
    404: {"model": Problem, "description": "Not found."},
    409: {"model": Problem, "description": "Conflicts with the current state."},
    502: {"model": Problem, "description": "Keycloak or the chain refused."},
}

# Routes that read the chain and say so when the node does not answer.
CHAIN_DOWN: dict[int | str, dict] = {
    503: {"model": Problem, "description": "The chain node does not answer, or Keycloak's keys could not be fetched."}
}


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


def not_found(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)


def bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail)


def conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


def invalid(detail: str) -> HTTPException:
    """A 422 for a value the schema cannot express a rule for (an address checksum, a period id)."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def idp_failure(exc: IdentityProviderError) -> HTTPException:
    """Keycloak refused or did not answer; the error knows which status fits."""
    return HTTPException(exc.status, detail=str(exc))


def chain_failure(exc: ChainError) -> HTTPException:
    """The chain refused a transaction or could not be reached; `ChainError` messages are sentences already
    (a revert explained by `lec.chain.reverts`, a node that does not answer, a missing key)."""
    return HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc))
