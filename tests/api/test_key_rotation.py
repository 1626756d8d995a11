"""Rotating the realm's signing key on the real Keycloak, through its Admin API, while the API runs: tokens
signed with the new key are accepted at once (one fetch of the realm's keys), tokens signed with the old one
until they expire, and nothing is restarted. Each test rotates a copy of the shipped realm, so the realm the
other tests use keeps its keys."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from api_helpers import bearer, make_settings, unverified_claims, unverified_header, validator_with_fake_clocks
from fastapi.testclient import TestClient

from dapp.api.main import create_app
from dapp.api.security import InvalidToken
from tests.support.keycloak import TEST_CLIENT, KeycloakServer

ME = "/api/v1/me"
LIFESPAN = 30  # seconds: the rotation realm's tokens, so that "until they expire" is something a test can wait for
_realms = itertools.count()


@pytest.fixture
def realm(keycloak: KeycloakServer) -> Iterator[str]:
    name = f"lec-rotation-{next(_realms)}"
    keycloak.copy_realm(name)
    admin = keycloak.admin(name)
    admin.update_client(admin.get_client_id(TEST_CLIENT), {"attributes": {"access.token.lifespan": str(LIFESPAN)}})
    keycloak.add_user("rotating", roles=["token-holder"], realm=name)
    yield name
    keycloak.delete_realm(name)


def _signing_component(keycloak: KeycloakServer, realm: str) -> dict:
    return next(c for c in keycloak.key_components(realm) if c["name"] == "rsa-generated")


def _rotate(keycloak: KeycloakServer, realm: str) -> None:
    """What an operator does: a new generated RSA key with a higher priority than the current one."""
    admin = keycloak.admin(realm)
    admin.create_component(
        {
            "name": "rsa-rotated",
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": admin.get_realm(realm)["id"],
            "config": {"priority": ["200"], "keySize": ["2048"], "algorithm": ["RS256"]},
        }
    )


def _set(keycloak: KeycloakServer, realm: str, component: dict, **config: str) -> None:
    component["config"].update({k: [v] for k, v in config.items()})
    keycloak.admin(realm).update_component(component["id"], component)


def test_rotating_the_signing_key_while_the_api_runs(keycloak: KeycloakServer, realm: str, database_url: str):
    app = create_app(make_settings(keycloak, database_url, realm=realm, leeway_seconds=0))
    with TestClient(app) as client:
        old = keycloak.token("rotating", realm=realm)["access_token"]
        old_kid = unverified_header(old)["kid"]
        assert client.get(ME, headers=bearer(old)).status_code == 200

        _rotate(keycloak, realm)
        new = keycloak.token("rotating", realm=realm)["access_token"]
        new_kid = unverified_header(new)["kid"]
        assert new_kid != old_kid and {old_kid, new_kid} <= keycloak.published_kids(realm)
        assert client.get(ME, headers=bearer(new)).status_code == 200  # the new key fetched once, no restart
        assert client.get(ME, headers=bearer(old)).status_code == 200

        # The old key goes passive: Keycloak signs with it no more but still publishes it for the tokens it signed.
        _set(keycloak, realm, _signing_component(keycloak, realm), active="false")
        assert old_kid in keycloak.published_kids(realm)
        assert unverified_header(keycloak.token("rotating", realm=realm)["access_token"])["kid"] == new_kid
        assert client.get(ME, headers=bearer(old)).status_code == 200

        # …until it expires, like any token.
        time.sleep(max(0.0, unverified_claims(old)["exp"] + 1 - time.time()))
        expired = client.get(ME, headers=bearer(old))
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]
        assert (
            client.get(ME, headers=bearer(keycloak.token("rotating", realm=realm)["access_token"])).status_code == 200
        )
        assert app.state.validator.fetch_count == 2  # at the first request, and once for the new kid


def test_a_key_taken_out_of_the_realm_stops_its_tokens_at_the_next_key_fetch(
    keycloak: KeycloakServer, realm: str, database_url: str
):
    validator, mono, _wall = validator_with_fake_clocks(keycloak, database_url, realm=realm)
    old = keycloak.token("rotating", realm=realm)["access_token"]
    assert validator.validate(old).username == "rotating"
    assert validator.cached(old) is not None

    _rotate(keycloak, realm)
    _set(keycloak, realm, _signing_component(keycloak, realm), enabled="false")  # revoked: no longer published
    assert unverified_header(old)["kid"] not in keycloak.published_kids(realm)
    assert validator.cached(old) is not None  # the keys are not fetched again yet, exactly as without a cache

    mono[0] += 3601  # the key set's maximum age
    validator.refresh_if_stale()
    assert validator.cached(old) is None
    with pytest.raises(InvalidToken, match="does not publish"):
        validator.validate(old)
    assert validator.validate(keycloak.token("rotating", realm=realm)["access_token"]).username == "rotating"
