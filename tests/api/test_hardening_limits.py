"""Bodies are capped and callers authenticated before a body is read; callers are rate-limited.

Issue 17, API hardening 2 (body size, authentication before parsing) and 3 (rate limits, open SIWE nonces).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

import pytest
from api_helpers import bearer, make_settings
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from dapp.api.errors import BODY_ERROR
from dapp.api.guards import json_depth
from dapp.api.main import create_app
from lec.db.enums import DeviceKind, EnergyProfile, FlowQuantity, MemberKind
from lec.db.models import Community, Device, Flow, RegistrationRequest, SiweNonce, Supplier, User

ME = "/api/v1/me"
JOIN = "/api/v1/me/registrations"
MiB = 1024 * 1024
BODY = BODY_ERROR["description"]


@pytest.fixture
def limited(keycloak, database_url, engine) -> Iterator[Callable[..., TestClient]]:
    """A client of an app with the given settings (the other tests turn the rate limits off)."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        client = TestClient(create_app(make_settings(keycloak, database_url, **overrides), engine))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def production_recursion_limit() -> Iterator[None]:
    """CPython's default recursion limit, as the API runs with it (py_ecc, imported by the tests' chain helpers,
    raises it to 100 000: a body nested that deep would then overflow the C stack instead of raising)."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(before)


def _sentence(reply) -> str:  # noqa: ANN001
    detail = reply.json()["detail"]
    assert isinstance(detail, str) and detail.endswith(".") and len(detail.split()) >= 5, detail
    return detail


# ---- body size ----------------------------------------------------------------------------------------------


def test_a_10_mb_body_is_refused_from_its_content_length_on_every_kind_of_route(client, keycloak, new_user):
    token = bearer(keycloak.mint(new_user("token-holder")))
    body = b"{" + b" " * (10 * MiB) + b"}"
    for headers in ({}, token):
        reply = client.post(JOIN, content=body, headers={**headers, "Content-Type": "application/json"})
        assert reply.status_code == 413, reply.text
        assert "larger than this route accepts (1048576 bytes)" in _sentence(reply)
    anonymous = client.post("/api/v1/registrations", content=b" " * (20 * 1024))
    assert anonymous.status_code == 413, anonymous.text
    assert "(16384 bytes)" in _sentence(anonymous)


def test_a_streamed_body_without_content_length_is_counted_and_refused(client, keycloak, new_user):
    token = bearer(keycloak.mint(new_user("token-holder")))

    def chunks() -> Iterator[bytes]:
        yield b'{"community_id": 1, "member_kind": "citizen", "energy_profile": "consumer", "x": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    reply = client.post(JOIN, content=chunks(), headers={**token, "Content-Type": "application/json"})
    assert reply.status_code == 413, reply.text
    _sentence(reply)


def test_the_readings_route_takes_a_full_batch_beyond_the_default_cap(settings, engine, keycloak):
    with Session(engine) as s:
        community = Community(name="Batch LEC", chain_community_id=93)
        supplier, flow = Supplier(name="lec-gateway-demo"), Flow(name="batch-load", quantity=FlowQuantity.LOAD)
        s.add_all([community, supplier, flow])
        s.flush()
        s.add(
            Device(
                pod="POD-BATCH",
                community_id=community.id,
                supplier_id=supplier.id,
                default_flow_id=flow.id,
                kind=DeviceKind.CONSUMPTION_METER,
                name="batch meter",
            )
        )
        s.commit()
        cid = community.id
    gateway = bearer(keycloak.mint("", client_id="lec-gateway-demo"))
    readings = [
        {
            "device": "POD-BATCH",
            "timestamp": 1_780_000_000 + 900 * i,
            "energy_wh": 125.5,
            "power_active_w": 502.0,
            "voltage_v": 230.1,
            "current_a": 2.2,
            "note": "padding to the size of a gateway's verbose reading" * 2,
        }
        for i in range(5000)
    ]
    with TestClient(create_app(settings, engine)) as client:
        reply = client.post(f"/api/v1/communities/{cid}/readings", headers=gateway, json={"readings": readings})
        assert len(reply.request.content) > 1 * MiB
        assert reply.status_code == 200, reply.text[:300]
        assert reply.json()["accepted"] == 5000
        huge = client.post(
            f"/api/v1/communities/{cid}/readings",
            headers={**gateway, "Content-Type": "application/json"},
            content=b'{"readings": [' + b" " * (5 * MiB) + b"]}",
        )
        assert huge.status_code == 413 and "(4194304 bytes)" in _sentence(huge)


# ---- authentication before parsing ---------------------------------------------------------------------------


def test_an_anonymous_100_000_deep_body_is_refused_without_being_parsed(client, production_recursion_limit):
    deep = b"[" * 100_000 + b"]" * 100_000
    reply = client.post(JOIN, content=deep, headers={"Content-Type": "application/json"})
    assert reply.status_code == 401, reply.text
    assert "bearer token" in _sentence(reply)
    forged = client.post(JOIN, content=deep, headers={"Content-Type": "application/json", **bearer("a.b.c")})
    assert forged.status_code == 401, forged.text


def test_an_anonymous_malformed_body_is_a_401_not_a_422(client):
    reply = client.post(JOIN, content=b"{not json", headers={"Content-Type": "application/json"})
    assert reply.status_code == 401, reply.text


def test_an_authenticated_deep_body_is_a_400_before_json_parses_it(client, keycloak, new_user):
    token = bearer(keycloak.mint(new_user("token-holder")))
    deep = b'{"community_id": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    reply = client.post(JOIN, content=deep, headers={**token, "Content-Type": "application/json"})
    assert reply.status_code == 400, reply.text
    assert "nests 5001 levels deep" in _sentence(reply)


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"1", 0),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{", "b": "\\"[[["}', 1),
        (b'["\\\\", ["x"]]', 2),
        (b'"unterminated [[[', 3),
        (b"[[0], [[[0]]]]", 4),  # mutant: a closing bracket counted as −2 found 3 (guards.toml)
        (b'{"a": {}, "b": {"c": {"d": []}}}', 4),
    ],
)
def test_json_depth_counts_brackets_outside_strings(body, depth):
    assert json_depth(body) == depth


# ---- rate limits -----------------------------------------------------------------------------------------------


def test_200_requests_a_minute_to_me_meet_a_429_with_a_sentence_and_retry_after(limited, keycloak, new_user):
    client = limited(rate_limit_caller="100/minute")
    alice, bob = bearer(keycloak.mint(new_user("token-holder"))), bearer(keycloak.mint(new_user("token-holder")))
    # The sliding-window counter weighs the previous minute's count near a boundary: start well inside one.
    while not 2 <= time.time() % 60 <= 30:
        time.sleep(0.5)
    codes = [client.get(ME, headers=alice).status_code for _ in range(200)]
    assert codes[:100] == [200] * 100 and set(codes[100:]) == {429}
    refused = client.get(ME, headers=alice)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "at most 100 per minute" in _sentence(refused) and "your account" in refused.json()["detail"]
    assert client.get(ME, headers=bob).status_code == 200  # per caller, not per server


def test_failed_tokens_count_against_the_address(limited):
    client = limited(rate_limit_anonymous="20/minute")
    codes = [client.get(ME, headers=bearer(f"forged.{i}.token")).status_code for i in range(30)]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}


def test_150_wallet_challenges_meet_a_429_and_leave_a_few_nonce_rows(limited, engine, keycloak, new_user):
    client = limited(rate_limit_wallet_challenges="20/10 minutes", siwe_open_nonces_max=3)
    username = new_user("token-holder")
    with Session(engine) as s:
        community = Community(name="Nonce LEC")
        user = User(external_id=keycloak.user(username)["id"], name="N", surname="Once", email="n@e.org")
        s.add_all([community, user])
        s.flush()
        s.add(
            RegistrationRequest(
                user_id=user.id,
                community_id=community.id,
                member_kind=MemberKind.CITIZEN,
                energy_profile=EnergyProfile.CONSUMER,
            )
        )
        s.commit()
        cid = community.id
    token = bearer(keycloak.mint(username))
    body = {"community_id": cid, "address": "0x" + "cd" * 20}
    codes = [client.post("/api/v1/me/wallet-challenges", headers=token, json=body).status_code for _ in range(150)]
    assert codes[:20] == [201] * 20 and set(codes[20:]) == {429}
    refused = client.post("/api/v1/me/wallet-challenges", headers=token, json=body)
    assert "wallet challenges for your account" in _sentence(refused) and refused.headers["retry-after"]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(SiweNonce)).one() == 3


def test_50_anonymous_registrations_meet_a_429(limited, engine):
    client = limited(rate_limit_registrations="5/hour")
    with Session(engine) as s:
        community = Community(name="Sign-up LEC")
        s.add(community)
        s.commit()
        cid = community.id
    codes = []
    for i in range(50):
        form = {
            "email": f"flood{i}@example.org",
            "password": "a long enough password",
            "name": "Flo",
            "surname": "Od",
            "community_id": cid,
            "member_kind": "citizen",
            "energy_profile": "consumer",
        }
        codes.append(client.post("/api/v1/registrations", json=form).status_code)
    assert codes[:5] == [202] * 5 and set(codes[5:]) == {429}
    refused = client.post("/api/v1/registrations", json=form)
    assert "registrations from your address" in _sentence(refused)
    assert 1 <= int(refused.headers["retry-after"]) <= 3600


def test_a_rate_limit_that_cannot_be_read_is_refused_at_start():
    from lec.settings import Settings

    with pytest.raises(ValueError, match="not a rate limit"):
        Settings(_env_file=None, rate_limit_caller="many")  # type: ignore[call-arg]


# ---- found by `make mutation` (guards.toml, 2026-11-30) -------------------------------------------------------


def test_an_unreachable_identity_provider_is_a_503_not_counted_against_the_address(limited, keycloak, new_user):
    """Mutant `exc.status_code == 401` → `>= 401`: while Keycloak's keys could not be fetched (a 503: the token
    may well be valid), every caller's requests were also counted as failed tokens of their address, so an outage
    of the identity provider turned into 429s for the people behind one address once it was over."""
    client = limited(rate_limit_anonymous="2/minute", keycloak_url="http://127.0.0.1:9/")
    token = bearer(keycloak.mint(new_user("token-holder")))
    replies = [client.get(ME, headers=token) for _ in range(4)]
    assert [r.status_code for r in replies] == [503] * 4
    assert "signing keys cannot be fetched" in replies[-1].json()["detail"]
    assert [client.get(ME, headers=bearer(f"forged.{i}.token")).status_code for i in range(3)] == [401, 401, 429]


def test_a_test_standing_in_for_the_caller_is_not_asked_for_a_token(limited) -> None:
    """Mutant `if authenticated and get_principal in dependency_overrides` → `if not authenticated …`: a test
    that puts a principal in FastAPI's `dependency_overrides` (tests/oracle/period/test_model_registration_paths.py
    does) got a 401 from the guard, which asked for a token anyway."""
    from dapp.api.deps import get_principal
    from dapp.api.security import Principal

    client = limited()
    client.app.dependency_overrides[get_principal] = lambda: Principal(
        subject="stand-in", username="stand-in", roles=frozenset({"auditor"}), client_id="lec-dapp"
    )
    reply = client.get(ME)
    assert reply.status_code == 200, reply.text
    assert reply.json()["username"] == "stand-in" and reply.json()["roles"] == ["auditor"]


def test_a_streamed_body_of_exactly_the_cap_is_taken_and_one_byte_more_is_not(limited, keycloak, new_user):
    """Mutant `seen > cap` → `>=` in the count of a body sent without Content-Length: a body of exactly the
    route's cap was refused."""
    client = limited(max_body_bytes=1024)
    token = {**bearer(keycloak.mint(new_user("token-holder"))), "Content-Type": "application/json"}
    body = b'{"community_id": 999999, "x": "' + b"a" * 100 + b'"}'
    padded = body + b" " * (1024 - len(body))

    def streamed(data: bytes) -> Iterator[bytes]:
        yield data[:50]
        yield data[50:]

    taken = client.post(JOIN, content=streamed(padded), headers=token)
    assert taken.status_code != 413 and taken.status_code < 500, taken.text
    refused = client.post(JOIN, content=streamed(padded + b" "), headers=token)
    assert refused.status_code == 413 and "(1024 bytes)" in _sentence(refused)


def test_a_declared_body_of_exactly_the_cap_is_taken_and_one_byte_more_is_not(limited, keycloak, new_user):
    """Mutant `int(declared) > cap` → `>=` in the guard's check of Content-Length: a body that says it is exactly
    the route's cap was refused before it was read (the streamed count above had the same boundary)."""
    client = limited(max_body_bytes=1024)
    token = {**bearer(keycloak.mint(new_user("token-holder"))), "Content-Type": "application/json"}
    body = b'{"community_id": 999999, "x": "' + b"a" * 100 + b'"}'
    padded = body + b" " * (1024 - len(body))
    taken = client.post(JOIN, content=padded, headers=token)
    assert taken.request.headers["content-length"] == "1024"
    assert taken.status_code != 413 and taken.status_code < 500, taken.text
    refused = client.post(JOIN, content=padded + b" ", headers=token)
    assert refused.request.headers["content-length"] == "1025"
    assert refused.status_code == 413 and "(1024 bytes)" in _sentence(refused)


def test_only_routes_that_take_a_body_document_the_400_of_an_unreadable_one(client) -> None:
    """Mutant `if {"POST", "PUT", "PATCH"} & methods` → `if not …` in `GuardedRoute`: the guard's 400 for a body
    nested too deep or holding a lone surrogate was documented on the routes that take no body (what a client
    generated from the OpenAPI document reads). Every route with a body documents a 400 (its own sentence)."""
    paths = client.app.openapi()["paths"]
    ops = [(m, p) for p, o in paths.items() if p.startswith("/api/v1") for m in o]
    with_body = [(m, p) for m, p in ops if m in ("post", "put", "patch")]
    assert len(with_body) > 20 and all("400" in paths[p][m]["responses"] for m, p in with_body)
    body_error = [(m, p) for m, p in ops if paths[p][m]["responses"].get("400", {}).get("description") == BODY]
    assert [(m, p) for m, p in body_error if (m, p) not in with_body] == []
