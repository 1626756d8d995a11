"""Fixtures: a Keycloak-compatible server, a SQLite database, the app, and tokens for every role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_helpers import API_SECRET, make_settings
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dapp.api.dev_realm import KeycloakStandIn
from dapp.api.main import create_app
from lec.db.session import get_engine, init_db
from lec.settings import Settings


@pytest.fixture(scope="session")
def keycloak() -> Iterator[KeycloakStandIn]:
    with KeycloakStandIn(client_secrets={"lec-api": API_SECRET}) as server:
        yield server


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'api.db'}"


@pytest.fixture
def engine(database_url: str) -> Engine:

    return init_db(get_engine(database_url))


@pytest.fixture
def settings(keycloak: KeycloakStandIn, database_url: str) -> Settings:
    return make_settings(keycloak, database_url)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


_counter = iter(range(1_000_000))


@pytest.fixture
def new_user(keycloak: KeycloakStandIn) -> Callable[..., str]:
    """Creates a Keycloak user with realm roles and returns its username (unique per call)."""

    def make(*roles: str, prefix: str = "user") -> str:
        username = f"{prefix}{next(_counter)}"
        keycloak.add_user(username, "pw-" + username, list(roles))
        return username

    return make
