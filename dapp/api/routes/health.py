"""Liveness and readiness probes (unauthenticated, no data)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dapp.api.deps import SessionDep
from dapp.api.schemas.health import Health, Readiness

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is not reachable."}},
)
def ready(request: Request, session: SessionDep) -> Readiness | JSONResponse:
    """The database answers and Keycloak's keys can be fetched (the chain is optional: views degrade)."""
    checks: dict[str, str] = {}
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready", reported, not raised
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        request.app.state.validator.refresh_if_stale()
        checks["keycloak"] = "ok"
    except Exception as exc:
        log.error("Readiness: %s", exc)  # names the settings to check: the operator's, not the caller's
        checks["keycloak"] = "unavailable: its signing keys cannot be fetched"
    body = Readiness(status="ok" if all(v == "ok" for v in checks.values()) else "unavailable", checks=checks)
    if body.status != "ok":
        return JSONResponse(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, content=body.model_dump())
    return body
