"""The API's refusals: the error body, the error responses routes declare, and the exceptions that carry them.

Every error a client sees is a `Problem`: one sentence saying what was wrong and what to do. Routes, deps and
services raise the builders below instead of writing status codes, so a kind of refusal reads the same
everywhere and the OpenAPI schema lists it.
"""

from __future__ import annotations

import logging

from fastapi import HTTPException, status
from pydantic import BaseModel
from web3.exceptions import ContractLogicError

from dapp.api.idp import IdentityProviderError
from lec.chain.client import ChainError

log = logging.getLogger(__name__)


class Problem(BaseModel):
    """The JSON body of every error: a sentence saying what was wrong and what to do."""

    detail: str


class FieldError(BaseModel):
    """One field the request got wrong, as pydantic reports it."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """A 422: the sentence, and for a request the schema refused, each field it refused (`errors`). A value the
    schema cannot judge (a period id, an address checksum) is refused with the sentence alone."""

    errors: list[FieldError] = []


# A body that cannot be read as sent (nested too deep, not JSON); every route with a body may answer it.
BODY_ERROR: dict = {"model": Problem, "description": "The body cannot be read as sent."}

# Every route under /api/v1 may answer these (`dapp.api.guards.GuardedRoute` adds them to each).
LIMIT_ERRORS: dict[int | str, dict] = {
    413: {"model": Problem, "description": "The body is larger than this route accepts (docs/identity.md)."},
    429: {
        "model": Problem,
        "description": "Too many requests: the sentence says which limit, the Retry-After header when to retry.",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
}


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


def too_large(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=detail)


def too_many_requests(detail: str, retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, detail=detail, headers={"Retry-After": str(max(1, retry_after))}
    )


def bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail)


def conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


def invalid(detail: str) -> HTTPException:
    """A 422 for a value the schema cannot express a rule for (an address checksum, a period id)."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def idp_failure(exc: IdentityProviderError) -> HTTPException:
    """Keycloak refused or did not answer; the error knows which status fits. A refusal about the request (4xx:
    the address is taken, the refresh token is invalid) is the caller's to read; a failure of Keycloak or of the
    API's configuration is the operator's, and goes to the log, not to the caller."""
    if exc.status < 500:
        return HTTPException(exc.status, detail=str(exc))
    log.error("Keycloak: %s", exc)
    return HTTPException(exc.status, detail="The identity provider (Keycloak) could not do this now; retry in a while.")


def chain_failure(exc: ChainError) -> HTTPException:
    """The chain refused a transaction or could not be reached. A contract's refusal is explained to the caller
    (`lec.chain.reverts` words it); anything else — a node that does not answer, a missing key, a missing
    deployments file — is the operator's to fix: its sentence, which names settings and addresses, goes to the
    log, and the caller reads that the chain cannot be used now."""
    if isinstance(exc.__cause__, ContractLogicError):
        return HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc))
    log.error("Chain: %s", exc)
    return HTTPException(
        status.HTTP_502_BAD_GATEWAY, detail="The platform cannot use the blockchain now; retry in a while."
    )


def chain_down(exc: Exception) -> HTTPException:
    """A read of the chain that failed because the node does not answer (a 503: retrying later may work)."""
    log.error("Chain: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail="The blockchain node does not answer now, or the platform cannot read it; retry in a while.",
    )
