"""Builds the FastAPI application: settings, database engine, token validator, routers, error bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from keycloak import KeycloakOpenID
from sqlalchemy.engine import Engine

from dapp.api.routes import communities, dashboards, health, identity, ingestion, market, periods, policy, quality
from dapp.api.security import TokenValidator
from lec.db.session import get_engine, init_db
from lec.settings import Settings, data_dir, get_settings

API_PREFIX = "/api/v1"


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

    app.include_router(health.router)
    for module in (identity, communities, dashboards, ingestion, periods, policy, market, quality):
        app.include_router(module.router, prefix=API_PREFIX)
    return app
