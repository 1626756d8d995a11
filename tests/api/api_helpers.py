"""Helpers shared by the API tests (imported by module name: `from conftest import …` can load another
folder's conftest when the whole suite runs)."""

from __future__ import annotations

import base64
import json

from pydantic import SecretStr

from dapp.api.settings import Settings
from dapp.keycloak.server import KeycloakStandIn


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unverified_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


API_SECRET = "test-api-client-secret"  # a test-only value for the stand-in's lec-api client


def make_settings(keycloak: KeycloakStandIn, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "keycloak_url": keycloak.url,
        "keycloak_realm": "lec",
        "client_secret": SecretStr(API_SECRET),
        "database_url": database_url,
        "jwks_refetch_interval_seconds": 0.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
