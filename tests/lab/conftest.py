"""Fixtures of the living lab's tests: the session's real Keycloak and the API tests' shared place."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.lab.lab_helpers import Env, lab_env
from tests.support.keycloak import KeycloakServer


@pytest.fixture(scope="session")
def keycloak(keycloak_server: KeycloakServer) -> KeycloakServer:
    return keycloak_server


@pytest.fixture(scope="session")
def make_lab_env(keycloak: KeycloakServer, tmp_path_factory) -> Callable[..., AbstractContextManager[Env]]:
    """`with make_lab_env("voice", ("Voice LEC", "Other voice LEC"), **settings) as env:` in a module fixture."""

    def make(prefix: str, names: tuple[str, str], **settings: Any) -> AbstractContextManager[Env]:
        return lab_env(keycloak, tmp_path_factory.mktemp(prefix), prefix, names, **settings)

    return make
