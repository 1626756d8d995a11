"""Bearer-token validation against the real Keycloak's realm: what it issues is accepted, anything altered,
forged, expired, foreign or oversized is a 401 with a sentence.

Tokens Keycloak never issues (a future `nbf`, another `iss`, 70 kB of claims) are signed with `lec-test-signer`,
a passive key of the realm whose private half the tests hold (tests.support.keycloak): the realm publishes it,
so only the claims can make the API refuse them."""

from __future__ import annotations

import base64
import json
import time

import pytest
from api_helpers import (
    b64url,
    bearer,
    make_settings,
    unverified_claims,
    unverified_header,
    validator_with_fake_clocks,
)
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakConnectionError

from dapp.api.main import create_app
from dapp.api.security import InvalidToken
from lec.settings import Settings
from tests.support.keycloak import NO_AUDIENCE_CLIENT, SHORT_CLIENT, SHORT_LIFESPAN, KeycloakServer

ME = "/api/v1/me"


def test_a_token_from_the_token_endpoint_is_accepted_with_its_realm_roles(client, keycloak, new_user):
    username = new_user("token-holder", "auditor")
    token = keycloak.token(username)["access_token"]
    claims = unverified_claims(token)
    # What the shipped realm's client scopes put in a dApp token (basic, profile, email, roles, audience).
    assert claims["iss"] == keycloak.issuer() and "lec-api" in claims["aud"] and claims["azp"] == "lec-test"
    assert claims["sub"] and claims["preferred_username"] == username and claims["email"] == f"{username}@example.org"
    assert {"token-holder", "auditor"} <= set(claims["realm_access"]["roles"])
    reply = client.get(ME, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["username"] == username and body["subject"] == claims["sub"]
    assert {"token-holder", "auditor"} <= set(body["roles"])
    assert body["registered"] is False


def test_a_gateways_client_credentials_token_is_a_machine_with_its_role(client, keycloak):
    token = keycloak.client_token("lec-gateway-demo")
    claims = unverified_claims(token)
    assert (
        claims["azp"] == claims["client_id"] == "lec-gateway-demo"
        and "meter-gateway" in claims["realm_access"]["roles"]
    )
    assert client.get(ME, headers=bearer(token)).json()["roles"] == ["meter-gateway"]
    assert client.patch(ME, headers=bearer(token), json={"city": "Roma"}).status_code == 403  # people only


def test_no_token_is_a_401_with_a_json_sentence_and_a_bearer_challenge(client):
    reply = client.get(ME)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert "bearer token" in reply.json()["detail"]


def _reject(client, token: str, fragment: str = "") -> None:
    reply = client.get(ME, headers=bearer(token))
    assert reply.status_code == 401, reply.text
    assert fragment in reply.json()["detail"]
    assert 'error="invalid_token"' in reply.headers["www-authenticate"]


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b", "a.b.c", "...", "eyJhbGciOiJSUzI1NiJ9.%%%.sig", b64url({"alg": "RS256"}) + ".e30.x.y"],
)
def test_a_malformed_token_is_refused(client, token):
    _reject(client, token)


def test_a_tampered_payload_is_refused(client, keycloak, new_user):
    token = keycloak.access_token(new_user("token-holder"))
    header, _payload, signature = token.split(".")
    claims = unverified_claims(token)
    claims["realm_access"]["roles"].append("platform-admin")
    _reject(client, f"{header}.{b64url(claims)}.{signature}", "signature does not verify")


def test_an_expired_token_is_refused(keycloak, database_url, new_user):
    """A real token of a client whose tokens live two seconds, presented after it expired (no leeway)."""
    username = new_user("token-holder")
    token = keycloak.openid(SHORT_CLIENT).token(username, "a long test password")["access_token"]
    claims = unverified_claims(token)
    assert claims["exp"] - claims["iat"] == SHORT_LIFESPAN
    app = create_app(make_settings(keycloak, database_url, leeway_seconds=0, token_cache_seconds=0))
    with TestClient(app) as client:
        time.sleep(max(0.0, claims["exp"] + 1 - time.time()))
        _reject(client, token, "expired")


def test_a_token_not_valid_yet_is_refused(client, keycloak, new_user):
    now = int(time.time())
    _reject(client, keycloak.forge(new_user("token-holder"), nbf=now + 365 * 86400, iat=now))


def test_a_token_of_another_issuer_is_refused(client, keycloak, new_user):
    token = keycloak.forge(new_user("token-holder"), iss="http://evil.example/realms/lec")
    _reject(client, token, "not issued by this API's realm")


def test_a_token_for_another_audience_is_refused(client, keycloak, new_user):
    username = new_user("token-holder")
    token = keycloak.token(username, client_id=NO_AUDIENCE_CLIENT)["access_token"]
    assert "lec-api" not in unverified_claims(token)["aud"]  # Keycloak issued it for another service
    _reject(client, token, "not meant for this API")
    _reject(client, keycloak.forge(username, aud=None, azp="billing-service"), "not meant for this API")


def test_a_token_of_another_realm_is_refused(client, keycloak: KeycloakServer):
    keycloak.copy_realm("lec-other")
    try:
        keycloak.add_user("other-realm-user", roles=["platform-admin"], realm="lec-other")
        token = keycloak.token("other-realm-user", realm="lec-other")["access_token"]
        assert unverified_claims(token)["iss"] == keycloak.issuer("lec-other")
        _reject(client, token, "does not publish")
    finally:
        keycloak.delete_realm("lec-other")


def test_a_token_signed_with_an_unpublished_key_is_refused(client, keycloak, new_user):
    rogue = jwk.JWK.generate(kty="RSA", size=2048, kid="rogue-kid")
    _reject(
        client,
        keycloak.sign(unverified_claims(keycloak.access_token(new_user("token-holder"))), key=rogue),
        "does not publish",
    )


def test_the_realms_kid_with_a_foreign_signature_is_refused(client, keycloak, new_user):
    token = keycloak.access_token(new_user("token-holder"))
    kid = unverified_header(token)["kid"]
    assert kid in keycloak.published_kids()
    rogue = jwk.JWK.generate(kty="RSA", size=2048, kid=kid)
    _reject(client, keycloak.sign(unverified_claims(token), key=rogue), "signature does not verify")


def test_alg_none_and_hmac_with_the_public_key_as_secret_are_refused(client, keycloak, new_user):
    token = keycloak.access_token(new_user("token-holder"))
    claims, kid = unverified_claims(token), unverified_header(token)["kid"]
    _reject(client, f"{b64url({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64url(claims)}.", "'none'")
    # The classic confusion: the realm's RSA public key (as published) used as an HMAC secret.
    certs = keycloak.openid().certs()
    public = jwk.JWK(**next(k for k in certs["keys"] if k["kid"] == kid))
    secret = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(public.export_to_pem()).rstrip(b"=").decode())
    hmac = jws.JWS(json_encode(claims).encode())
    hmac.add_signature(secret, alg="HS256", protected=json_encode({"alg": "HS256", "typ": "JWT", "kid": kid}))
    _reject(client, hmac.serialize(compact=True), "'HS256'")


def test_a_token_over_the_cap_is_refused_before_its_signature_is_checked(client, keycloak, new_user):
    token = keycloak.forge(new_user("token-holder"), padding="x" * 20_000)
    assert len(token) > 16_384  # Settings.max_token_bytes' default
    _reject(client, token, "too long")


def test_a_refresh_token_is_not_an_access_token(client, keycloak, new_user):
    refresh = keycloak.token(new_user("token-holder"))["refresh_token"]
    _reject(client, refresh)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw_-x0"))
def test_any_single_character_change_is_a_401_never_a_500(client, keycloak, position, replacement):
    token = keycloak.access_token("fuzz")
    index = position % len(token)
    if token[index] == replacement or token[index] == ".":
        return
    altered = token[:index] + replacement + token[index + 1 :]
    assert client.get(ME, headers=bearer(altered)).status_code == 401


@pytest.fixture(scope="module", autouse=True)
def _fuzz_user(keycloak):
    keycloak.add_user("fuzz", roles=["token-holder"])


def test_dev_identity_refuses_a_non_loopback_host_and_production():
    with pytest.raises(ValueError, match="loopback"):
        Settings(_env_file=None, dev_identity=True, host="0.0.0.0")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="production"):
        Settings(_env_file=None, dev_identity=True, environment="production")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="https"):
        Settings(_env_file=None, environment="production", keycloak_url="http://kc:8080/")  # type: ignore[call-arg]


def test_dev_identity_issues_tokens_the_same_validation_accepts(tmp_path, monkeypatch, database_url):
    import json

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


# ---- the validator's key set and its cache, on the real realm ---------------------------------------------


def test_forged_kids_do_not_make_the_api_refetch_the_keys(keycloak, database_url, new_user):
    validator, mono, _wall = validator_with_fake_clocks(keycloak, database_url, jwks_refetch_interval_seconds=30.0)
    username = new_user("token-holder")
    validator.validate(keycloak.access_token(username))
    assert validator.fetch_count == 1
    rogue = jwk.JWK.generate(kty="RSA", size=2048, kid="forged")
    forged = keycloak.sign(unverified_claims(keycloak.access_token(username)), key=rogue)
    mono[0] += 31
    for _ in range(5):
        with pytest.raises(InvalidToken):
            validator.validate(forged)
    assert validator.fetch_count == 2  # one refetch for the unknown kid, then the bound holds


def test_an_unknown_kid_refetches_the_keys_once_the_interval_has_passed_exactly(keycloak, database_url, new_user):
    """Mutant `now - fetched_at >= refetch_interval` → `>`: the bound is "at most once per interval", so a key id
    seen for the first time exactly one interval after the last fetch (Keycloak's rotated key) is looked up at
    once; a second before, it is not."""
    validator, mono, _wall = validator_with_fake_clocks(keycloak, database_url, jwks_refetch_interval_seconds=30.0)
    username = new_user("token-holder")
    validator.validate(keycloak.access_token(username))
    assert validator.fetch_count == 1
    rogue = jwk.JWK.generate(kty="RSA", size=2048, kid="rotated")
    unknown = keycloak.sign(unverified_claims(keycloak.access_token(username)), key=rogue)
    mono[0] += 29
    with pytest.raises(InvalidToken):
        validator.validate(unknown)
    assert validator.fetch_count == 1
    mono[0] += 1  # 30 s after the fetch: exactly the interval
    with pytest.raises(InvalidToken):
        validator.validate(unknown)
    assert validator.fetch_count == 2


def test_a_remembered_token_still_expires_and_altered_copies_are_verified_afresh(keycloak, database_url, new_user):
    validator, mono, wall = validator_with_fake_clocks(
        keycloak, database_url, token_cache_seconds=60.0, leeway_seconds=30
    )
    username = new_user("token-holder")
    token = keycloak.forge(username, exp=int(wall[0]) + 120)
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


def test_the_token_cache_is_bounded_and_forgets_the_least_recently_used(keycloak, database_url, new_user):
    validator, _mono, _wall = validator_with_fake_clocks(keycloak, database_url, token_cache_size=2)
    first, second, third = (keycloak.access_token(new_user("token-holder")) for _ in range(3))
    validator.validate(first)
    validator.validate(second)
    validator.validate(first)  # used again: `second` is now the least recently used
    validator.validate(third)
    assert validator.cached(second) is None
    assert validator.cached(first) is not None and validator.cached(third) is not None
    off, _, _ = validator_with_fake_clocks(keycloak, database_url, token_cache_size=0)
    off.validate(first)
    assert off.cached(first) is None


# ---- found by `make mutation` (security.toml, 2026-11-30): the bounds of time, exactly ---------------------


def test_the_leeway_is_inclusive_at_exp_nbf_and_iat(keycloak, database_url, new_user):
    """Mutants `exp + leeway < now` → `<=` (and `nbf`/`iat`'s `>` → `>=`): a token exactly `leeway` seconds past
    its `exp`, or exactly `leeway` seconds before its `nbf` or `iat`, is still accepted; a second more is not."""
    validator, _mono, wall = validator_with_fake_clocks(keycloak, database_url, leeway_seconds=30, token_cache_size=0)
    username = new_user("token-holder")
    now = int(wall[0])
    expiring = keycloak.forge(username, exp=now + 120)
    wall[0] = now + 150.0
    assert validator.validate(expiring).username == username
    wall[0] = now + 151.0
    with pytest.raises(InvalidToken, match="expired"):
        validator.validate(expiring)
    for claim, sentence in (("nbf", "not valid before"), ("iat", "issued in the future")):
        early = keycloak.forge(username, exp=now + 600, **{claim: now + 60})
        wall[0] = now + 30.0
        assert validator.validate(early).username == username
        wall[0] = now + 29.0
        with pytest.raises(InvalidToken, match=sentence):
            validator.validate(early)


def test_a_token_accepted_only_in_its_leeway_never_takes_a_live_ones_place_in_the_cache(
    keycloak, database_url, new_user
):
    """Mutant `exp <= now` → `exp == now` in `_remember`: a token accepted within the leeway was remembered,
    useless (the cache never answers past `exp`) but taking a place: in a full cache it pushed out a live token,
    which then had to be verified again."""
    validator, _mono, wall = validator_with_fake_clocks(keycloak, database_url, token_cache_size=1, leeway_seconds=30)
    username = new_user("token-holder")
    live = keycloak.forge(username, exp=int(wall[0]) + 600)
    late = keycloak.forge(username, exp=int(wall[0]) - 5)  # accepted: 5 s past `exp`, the leeway is 30
    principal = validator.validate(live)
    assert validator.validate(late).username == username
    assert validator.cached(late) is None
    assert validator.cached(live) == principal


@pytest.mark.parametrize("start", [50_000.0, 100.0], ids=["clock-hours-past-start", "clock-just-started"])
def test_the_keys_are_fetched_again_only_once_they_are_older_than_their_maximum_age(
    keycloak, database_url, new_user, start
):
    """Mutant `now - fetched_at > max_age` → `now + fetched_at`: on a monotonic clock hours past its start (any
    server up for a while) the keys counted as stale at every token, and each new token fetched them again.
    Mutant → `now % fetched_at`: the two agree while the clock is below twice the fetch time, as on a server up for
    hours. The monotonic clock counts from the machine's boot, so a server started with it (a container, a test
    runner) fetches its keys at a small reading; an hour later `now % fetched_at` is small and the keys were never
    fetched again. Both clocks, then."""
    validator, mono, _wall = validator_with_fake_clocks(keycloak, database_url, jwks_max_age_seconds=3600.0)
    mono[0] = start
    first, second, third = (keycloak.access_token(new_user("token-holder")) for _ in range(3))
    validator.validate(first)
    mono[0] += 3600.0
    validator.validate(second)
    assert validator.fetch_count == 1  # an hour old exactly: still fresh
    mono[0] += 1.0
    validator.validate(third)
    assert validator.fetch_count == 2


def test_a_time_claim_beyond_any_date_is_named_as_unix_time_not_a_server_error(keycloak, database_url, new_user):
    """Mutant `except (OverflowError, OSError, ValueError)` without `OSError` in `_utc`: Linux's `fromtimestamp`
    raises OSError for 10**18 seconds, which then escaped `validate` (a 500) instead of a 401 with a sentence."""
    validator, _mono, wall = validator_with_fake_clocks(keycloak, database_url, token_cache_size=0)
    username = new_user("token-holder")
    for claim, sentence in (("nbf", "not valid before"), ("iat", "issued in the future")):
        for far in (10**18, -(10**18) if claim == "nbf" else 10**20):
            token = keycloak.forge(username, exp=int(wall[0]) + 600, **{claim: far})
            if far < 0:  # a long past `nbf` is no reason to refuse
                assert validator.validate(token).username == username
                continue
            with pytest.raises(InvalidToken, match=f"{sentence} .*Unix time {far}"):
                validator.validate(token)


# ---- the validator against a key set served from memory (no Keycloak: what its `certs()` may answer) ---------

_ISSUER = "http://127.0.0.1:9/realms/lec"


class _KeySet(KeycloakOpenID):
    """`certs()` answers `keys` (or raises `error`); the rest is python-keycloak's own, offline once given a key."""

    def __init__(self, keys: list[dict], error: Exception | None = None) -> None:
        super().__init__(server_url="http://127.0.0.1:9/", realm_name="lec", client_id="lec-api")
        self.keys, self.error = keys, error

    def certs(self) -> dict:
        if self.error is not None:
            raise self.error
        return {"keys": self.keys}


def _published(key: jwk.JWK, use: str = "sig") -> dict:
    return {**json.loads(key.export_public()), "use": use, "alg": "RS256" if key.key_type == "RSA" else "HS256"}


def _signed(key: jwk.JWK, kid: str, now: float) -> str:
    claims = {
        "iss": _ISSUER,
        "aud": "lec-api",
        "azp": "lec-dapp",
        "sub": "s-1",
        "typ": "Bearer",
        "preferred_username": "offline",
        "realm_access": {"roles": ["token-holder"]},
        "exp": int(now) + 600,
        "iat": int(now),
    }
    token = jws.JWS(json_encode(claims).encode())
    token.add_signature(key, alg="RS256", protected=json_encode({"alg": "RS256", "typ": "JWT", "kid": kid}))
    return token.serialize(compact=True)


def _offline(keyset: _KeySet, mono: list[float], **kw):
    from dapp.api.security import TokenValidator

    wall = time.time()
    return TokenValidator(keyset, _ISSUER, "lec-api", clock=lambda: mono[0], wall_clock=lambda: wall, **kw), wall


def test_only_the_rsa_signing_keys_of_the_key_set_are_trusted():
    """Mutant `cert.get("kty") != "RSA"` → `< "RSA"`: a symmetric (`oct`) key in the key set was taken as a
    signing key the realm publishes ("oct" sorts after "RSA"; "EC" and "OKP" before). An encryption key never."""
    signer = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-sig")
    secret = jwk.JWK.generate(kty="oct", size=256, kid="hmac")
    encryption = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-enc")
    keys = [_published(signer), {**json.loads(secret.export()), "use": "sig"}, _published(encryption, "enc")]
    validator, wall = _offline(_KeySet(keys), [1000.0])
    assert validator.validate(_signed(signer, "rsa-sig", wall)).username == "offline"
    for kid in ("hmac", "rsa-enc"):
        with pytest.raises(InvalidToken, match="a key this realm does not publish"):
            validator.validate(_signed(signer, kid, wall))


def test_the_readiness_probe_fetches_the_keys_only_once_they_are_older_than_their_maximum_age():
    """Mutant `clock() - fetched_at > max_age` → `<` in `refresh_if_stale`: `/ready` fetched fresh keys at every
    probe and kept stale ones."""
    signer = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-sig")
    mono = [50_000.0]
    validator, _wall = _offline(_KeySet([_published(signer)]), mono, max_age_seconds=3600.0)
    validator.refresh_if_stale()
    assert validator.fetch_count == 1
    mono[0] += 3600.0
    validator.refresh_if_stale()
    assert validator.fetch_count == 1
    mono[0] += 1.0
    validator.refresh_if_stale()
    assert validator.fetch_count == 2


def test_a_remembered_token_is_forgotten_at_its_time_to_live_exactly():
    """Mutant `clock() >= entry.forget_at` → `>`: the cache answered one tick past its time to live."""
    signer = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-sig")
    mono = [1000.0]
    validator, wall = _offline(_KeySet([_published(signer)]), mono, cache_seconds=60.0)
    token = _signed(signer, "rsa-sig", wall)
    principal = validator.validate(token)
    mono[0] = 1059.5
    assert validator.cached(token) == principal
    mono[0] = 1060.0
    assert validator.cached(token) is None


@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), KeycloakConnectionError("refused")])
def test_a_key_set_that_cannot_be_fetched_is_the_identity_providers_fault_not_the_tokens(error):
    """Mutant `except (KeycloakError, OSError)` without `OSError` in `_fetch`: a socket error raised past the
    wrapper (python-keycloak wraps most, not all) escaped as a 500 instead of the 503 that says to retry."""
    from dapp.api.security import IdentityProviderUnavailable

    signer = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-sig")
    validator, wall = _offline(_KeySet([], error=error), [1000.0])
    with pytest.raises(IdentityProviderUnavailable, match="Could not fetch the signing keys"):
        validator.validate(_signed(signer, "rsa-sig", wall))
