"""Builds the FastAPI application: settings, database engine, token validator, request guard, routers, error
bodies and the OpenAPI schema that describes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from keycloak import KeycloakOpenID
from sqlalchemy.engine import Engine
from starlette.routing import Match

from dapp.api.errors import ValidationProblem
from dapp.api.guards import Guard
from dapp.api.routes import (
    communities,
    dashboards,
    details,
    flexibility,
    health,
    identity,
    incentive,
    ingestion,
    lab,
    lab_voice,
    market,
    onboarding,
    periods,
    policy,
    quality,
)
from dapp.api.security import TokenValidator
from lec.db.session import get_engine, init_db
from lec.settings import Settings, data_dir, get_settings

API_PREFIX = "/api/v1"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def build_validator(settings: Settings) -> TokenValidator:
    openid = KeycloakOpenID(
        server_url=settings.keycloak_url,
        realm_name=settings.keycloak_realm,
        client_id=settings.client_id,
        client_secret_key=settings.client_secret.get_secret_value() if settings.client_secret else None,
        timeout=10,
    )
    return TokenValidator(
        openid,
        issuer=settings.issuer,
        audience=settings.audience,
        leeway_seconds=settings.leeway_seconds,
        refetch_interval_seconds=settings.jwks_refetch_interval_seconds,
        max_age_seconds=settings.jwks_max_age_seconds,
        cache_seconds=settings.token_cache_seconds,
        cache_size=settings.token_cache_size,
        max_token_bytes=settings.max_token_bytes,
    )


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The application; `settings` and `engine` default to the environment's (tests pass their own)."""
    settings = settings or get_settings()
    dev_server = None
    if settings.dev_identity:
        from dapp.api.dev_identity import start_dev_identity

        dev_server, settings = start_dev_identity(settings, data_dir() / "dev-identity.json")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if dev_server is not None:
                dev_server.stop()

    app = FastAPI(
        title="LEC platform API",
        version="1.0.0",
        summary="Identity flows, community data, readings ingestion, KPIs, notarised periods and proofs.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine or init_db(get_engine(settings.database_url))
    app.state.validator = build_validator(settings)
    app.state.guard = Guard(settings)
    app.state.dev_identity = dev_server

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's 422 body, kept, with a sentence first so a person knows what to fix.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": f"The request is invalid at: {fields}. Fix these fields and retry.", "errors": errors},
        )

    @app.exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED)
    async def _not_allowed(request: Request, _exc: Exception) -> JSONResponse:
        # Starlette's Allow names the methods of the first route matching the path; here each method is a route.
        allowed = [
            m for m in _METHODS if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in app.routes)
        ]
        return JSONResponse(
            status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
            content={"detail": f"{request.method} is not allowed here; this path answers {', '.join(allowed)}."},
            headers={"Allow": ", ".join(allowed)},
        )

    app.include_router(health.router)
    for module in (
        identity,
        communities,
        dashboards,
        ingestion,
        periods,
        policy,
        market,
        quality,
        incentive,
        onboarding,
        details,
        flexibility,
        lab,
        lab_voice,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    generate = app.openapi
    app.openapi = lambda: declare_validation_problem(generate())  # type: ignore[method-assign]
    return app


def declare_validation_problem(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with the 422 body this API really sends (`ValidationProblem`, see `_invalid` above) in place of
    FastAPI's `HTTPValidationError`, on every operation. Idempotent: FastAPI keeps and returns the same dict."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ValidationProblem" not in components:
        problem = ValidationProblem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["ValidationProblem"] = problem
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if "422" in operation.get("responses", {}):
                operation["responses"]["422"]["content"] = body
    return schema
