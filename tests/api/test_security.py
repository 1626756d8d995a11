"""Bearer-token validation: what Keycloak issues is accepted, anything altered or foreign is a 401."""

from __future__ import annotations

import time

import pytest
from api_helpers import b64url, bearer, unverified_claims
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakConnectionError

from dapp.api.main import build_validator
from dapp.api.security import InvalidToken
from lec.settings import Settings

ME = "/api/v1/me"


def test_a_token_from_the_token_endpoint_is_accepted_with_its_realm_roles(client, keycloak, new_user):
    username = new_user("token-holder", "auditor")
    oid = KeycloakOpenID(server_url=keycloak.url, realm_name="lec", client_id="lec-dapp")
    token = oid.token(username, "pw-" + username)["access_token"]
    reply = client.get(ME, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["username"] == username
    assert {"token-holder", "auditor"} <= set(body["roles"])
    assert body["registered"] is False


def test_no_token_is_a_401_with_a_json_sentence_and_a_bearer_challenge(client):
    reply = client.get(ME)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert "bearer token" in reply.json()["detail"]


def _reject(client, token: str, fragment: str) -> None:
    reply = client.get(ME, headers=bearer(token))
    assert reply.status_code == 401, reply.text
    assert fragment in reply.json()["detail"]
    assert 'error="invalid_token"' in reply.headers["www-authenticate"]


def test_a_tampered_payload_is_refused(client, keycloak, new_user):
    token = keycloak.mint(new_user("token-holder"))
    header, _payload, signature = token.split(".")
    claims = unverified_claims(token)
    claims["realm_access"]["roles"].append("platform-admin")
    _reject(client, f"{header}.{b64url(claims)}.{signature}", "signature does not verify")


def test_an_expired_token_is_refused(client, keycloak, new_user):
    now = int(time.time())
    _reject(client, keycloak.mint(new_user("token-holder"), exp=now - 3600, iat=now - 3900), "expired")


def test_a_token_of_another_issuer_is_refused(client, keycloak, new_user):
    token = keycloak.mint(new_user("token-holder"), iss="http://evil.example/realms/lec")
    _reject(client, token, "not issued by this API's realm")


def test_a_token_for_another_audience_is_refused(client, keycloak, new_user):
    _reject(client, keycloak.mint(new_user("token-holder"), aud="billing-service"), "not meant for this API")
    _reject(client, keycloak.mint(new_user("token-holder"), aud=None), "not meant for this API")


def test_a_token_signed_with_an_unpublished_key_is_refused(client, keycloak, new_user):
    rogue = jwk.JWK.generate(kty="RSA", size=2048, kid="rogue-kid")
    claims = unverified_claims(keycloak.mint(new_user("token-holder")))
    _reject(client, keycloak.realm.sign(claims, key=rogue), "does not publish")


def test_a_published_kid_with_a_foreign_signature_is_refused(client, keycloak, new_user):
    rogue = jwk.JWK.generate(kty="RSA", size=2048, kid=keycloak.realm.signing_key.key_id)
    claims = unverified_claims(keycloak.mint(new_user("token-holder")))
    _reject(client, keycloak.realm.sign(claims, key=rogue), "signature does not verify")


def test_alg_none_and_hmac_tokens_are_refused_before_any_key_lookup(client, keycloak, new_user):
    claims = unverified_claims(keycloak.mint(new_user("token-holder")))
    kid = keycloak.realm.signing_key.key_id
    _reject(client, f"{b64url({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64url(claims)}.", "'none'")
    _reject(client, f"{b64url({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64url(claims)}.c2ln", "'HS256'")


def test_a_refresh_token_is_not_an_access_token(client, keycloak, new_user):
    username = new_user("token-holder")
    oid = KeycloakOpenID(server_url=keycloak.url, realm_name="lec", client_id="lec-dapp")
    refresh = oid.token(username, "pw-" + username)["refresh_token"]
    reply = client.get(ME, headers=bearer(refresh))
    assert reply.status_code == 401


def test_a_rotated_key_is_fetched_once_and_forged_kids_do_not_cause_refetches(keycloak, database_url, new_user):
    now = [1000.0]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        keycloak_url=keycloak.url,
        database_url=database_url,
        jwks_refetch_interval_seconds=30.0,
    )
    validator = build_validator(settings)
    validator._clock = lambda: now[0]  # a fake clock: the bound is about time, the test must not wait
    username = new_user("token-holder")
    validator.validate(keycloak.mint(username))
    assert validator.fetch_count == 1

    rogue = jwk.JWK.generate(kty="RSA", size=2048, kid="forged")
    forged = keycloak.realm.sign(unverified_claims(keycloak.mint(username)), key=rogue)
    now[0] += 31
    for _ in range(5):
        with pytest.raises(InvalidToken):
            validator.validate(forged)
    assert validator.fetch_count == 2  # one refetch for the unknown kid, then the bound holds

    keycloak.realm.rotate_key()
    try:
        rotated = keycloak.mint(username)
        with pytest.raises(InvalidToken):
            validator.validate(rotated)  # within the bound: not refetched yet
        now[0] += 31
        assert validator.validate(rotated).username == username
        assert validator.fetch_count == 3
    finally:
        keycloak.realm.keys.pop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw_-x0"))
def test_any_single_character_change_is_a_401_never_a_500(client, keycloak, position, replacement):
    if keycloak.realm.find_user("fuzz") is None:
        keycloak.add_user("fuzz", "pw", ["token-holder"])
    token = keycloak.mint("fuzz")
    index = position % len(token)
    if token[index] == replacement or token[index] == ".":
        return
    altered = token[:index] + replacement + token[index + 1 :]
    assert client.get(ME, headers=bearer(altered)).status_code == 401


def test_dev_identity_refuses_a_non_loopback_host_and_production(keycloak):
    with pytest.raises(ValueError, match="loopback"):
        Settings(_env_file=None, dev_identity=True, host="0.0.0.0")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="production"):
        Settings(_env_file=None, dev_identity=True, environment="production")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="https"):
        Settings(_env_file=None, environment="production", keycloak_url="http://kc:8080/")  # type: ignore[call-arg]


def test_dev_identity_issues_tokens_the_same_validation_accepts(tmp_path, monkeypatch, database_url):
    import json

    from fastapi.testclient import TestClient

    from dapp.api.main import create_app

    monkeypatch.setenv("LEC_DATA_DIR", str(tmp_path))
    app = create_app(Settings(_env_file=None, dev_identity=True, database_url=database_url))  # type: ignore[call-arg]
    credentials = json.loads((tmp_path / "dev-identity.json").read_text())
    assert (tmp_path / "dev-identity.json").stat().st_mode & 0o077 == 0
    oid = KeycloakOpenID(server_url=credentials["keycloak_url"], realm_name="lec", client_id="lec-dapp")
    token = oid.token("alice", credentials["users"]["alice"]["password"])["access_token"]
    with TestClient(app) as client:
        reply = client.get(ME, headers=bearer(token))
        assert reply.status_code == 200, reply.text
        assert reply.json()["subject"] == credentials["users"]["alice"]["subject"]
    with pytest.raises(KeycloakConnectionError):  # the issuer stops with the app
        oid.certs()


def _cache_validator(keycloak, database_url, **overrides):
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        keycloak_url=keycloak.url,
        database_url=database_url,
        **overrides,
    )
    validator = build_validator(settings)
    mono, wall = [1000.0], [time.time()]
    # Fake clocks: the cache's bounds are about time, and the test must not wait for them.
    validator._clock, validator._wall_clock = (lambda: mono[0]), (lambda: wall[0])
    return validator, mono, wall


def test_a_remembered_token_still_expires_and_altered_copies_are_verified_afresh(keycloak, database_url, new_user):
    validator, mono, wall = _cache_validator(keycloak, database_url, token_cache_seconds=60.0, leeway_seconds=30)
    username = new_user("token-holder")
    token = keycloak.mint(username, exp=int(wall[0]) + 120)
    principal = validator.validate(token)
    assert validator.cached(token) == principal
    header, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(InvalidToken, match="signature does not verify"):
        validator.validate(f"{header}.{payload}.{flipped}")

    mono[0] += 61  # past the cache's time to live: verified again, and remembered again
    assert validator.cached(token) is None
    assert validator.validate(token) == principal
    assert validator.cached(token) == principal

    wall[0] += 121  # past `exp`: no longer answered from the cache; within the leeway still accepted
    assert validator.cached(token) is None
    assert validator.validate(token) == principal
    assert validator.cached(token) is None  # accepted in the leeway, so not remembered
    wall[0] += 30
    with pytest.raises(InvalidToken, match="expired"):
        validator.validate(token)


def test_a_remembered_token_fails_once_its_key_is_no_longer_published(keycloak, database_url, new_user):
    validator, mono, _wall = _cache_validator(keycloak, database_url, jwks_max_age_seconds=3600.0)
    username = new_user("token-holder")
    token = keycloak.mint(username)
    assert validator.validate(token).username == username
    published = list(keycloak.realm.keys)
    try:
        keycloak.realm.rotate_key()
        del keycloak.realm.keys[: len(published)]  # the old keys are revoked: only the new one is published
        assert validator.cached(token) is not None  # the keys are not refetched yet, as without a cache
        mono[0] += 3601
        validator.refresh_if_stale()
        assert validator.cached(token) is None
        with pytest.raises(InvalidToken, match="does not publish"):
            validator.validate(token)
        assert validator.validate(keycloak.mint(username)).username == username
    finally:
        keycloak.realm.keys[:] = published


def test_the_token_cache_is_bounded_and_forgets_the_least_recently_used(keycloak, database_url, new_user):
    validator, _mono, _wall = _cache_validator(keycloak, database_url, token_cache_size=2)
    first, second, third = (keycloak.mint(new_user("token-holder")) for _ in range(3))
    validator.validate(first)
    validator.validate(second)
    validator.validate(first)  # used again: `second` is now the least recently used
    validator.validate(third)
    assert validator.cached(second) is None
    assert validator.cached(first) is not None and validator.cached(third) is not None
    off, _, _ = _cache_validator(keycloak, database_url, token_cache_size=0)
    off.validate(first)
    assert off.cached(first) is None
