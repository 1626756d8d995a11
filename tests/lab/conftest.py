"""Fixtures of the living lab's tests: the session's real Keycloak."""

from __future__ import annotations

import pytest

from tests.support.keycloak import KeycloakServer


@pytest.fixture(scope="session")
def keycloak(keycloak_server: KeycloakServer) -> KeycloakServer:
    return keycloak_server
