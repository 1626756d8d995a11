"""One wallet per member and community; refusals that do not leak what a caller should not learn.

Issue 17, API hardening 5 (an active member registers again or binds a second wallet) and 6 (leaks: a server
path in a 404, an environment variable in a 502 or 503, whether an e-mail is registered; SIWE URI and statement).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from api_helpers import bearer, make_settings
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dapp.api import siwe_binding
from dapp.api.main import create_app
from lec.db.enums import EnergyProfile, MemberKind
from lec.db.models import Community, RegistrationRequest, Role, SiweNonce, User, UserCommunity, UserRole

NO_NODE = "http://127.0.0.1:9"  # nothing listens there


@dataclass
class Person:
    token: dict[str, str]
    user_id: int


@pytest.fixture
def community(engine) -> int:
    with Session(engine) as s:
        row = Community(name="Guarded LEC", chain_community_id=94)
        s.add(row)
        s.commit()
        assert row.id is not None
        return row.id


@pytest.fixture
def person(engine, keycloak, new_user, community):  # noqa: ANN201
    """A registered person of `community`: with a pending request, an active membership, or both."""

    def make(*, pending: bool = False, member_wallet: str | None = None, roles: tuple[str, ...] = ()) -> Person:
        username = new_user("token-holder", *roles)
        with Session(engine) as s:
            user = User(external_id=keycloak.realm.find_user(username).id, name="P", surname="Q", email="p@e.org")
            s.add(user)
            s.flush()
            assert user.id is not None
            if pending:
                s.add(_request(user.id, community))
            if member_wallet:
                s.add(UserCommunity(community_id=community, user_id=user.id, wallet=member_wallet, active=True))
            s.commit()
            return Person(bearer(keycloak.mint(username)), user.id)

    return make


def _request(user_id: int, community_id: int, wallet: str | None = None) -> RegistrationRequest:
    return RegistrationRequest(
        user_id=user_id,
        community_id=community_id,
        member_kind=MemberKind.CITIZEN,
        energy_profile=EnergyProfile.CONSUMER,
        wallet=wallet,
    )


def _sentence(reply) -> str:  # noqa: ANN001
    detail = reply.json()["detail"]
    assert isinstance(detail, str) and detail.endswith(".") and len(detail.split()) >= 5, detail
    return detail


def _sign(message: str, key: bytes) -> str:
    signature = Account.sign_message(encode_defunct(text=message), key).signature.hex()
    return signature if signature.startswith("0x") else "0x" + signature


# ---- 5. one wallet per member and community ---------------------------------------------------------------------


def test_an_active_member_cannot_ask_to_join_their_own_community_again(client, person, community):
    member = person(member_wallet=Account.create().address)
    reply = client.post(
        "/api/v1/me/registrations",
        headers=member.token,
        json={"community_id": community, "member_kind": "citizen", "energy_profile": "consumer"},
    )
    assert reply.status_code == 409, reply.text
    assert "already a member" in _sentence(reply)


def test_an_active_member_gets_no_challenge_and_cannot_bind_a_second_wallet(client, engine, person, community):
    wallet = Account.create()
    applicant = person(pending=True)
    challenge = client.post(
        "/api/v1/me/wallet-challenges",
        headers=applicant.token,
        json={"community_id": community, "address": wallet.address},
    )
    assert challenge.status_code == 201, challenge.text
    message = challenge.json()["message"]
    # Meanwhile the person became a member with another wallet (an earlier request, approved).
    with Session(engine) as s:
        s.add(UserCommunity(community_id=community, user_id=applicant.user_id, wallet=Account.create().address))
        s.commit()
    bound = client.post(
        "/api/v1/me/wallets",
        headers=applicant.token,
        json={"message": message, "signature": _sign(message, wallet.key)},
    )
    assert bound.status_code == 409, bound.text
    assert "already a member" in _sentence(bound)
    again = client.post(
        "/api/v1/me/wallet-challenges",
        headers=applicant.token,
        json={"community_id": community, "address": wallet.address},
    )
    assert again.status_code == 409 and "already a member" in _sentence(again)


def test_approving_an_active_member_again_is_refused_before_the_chain(client, engine, person, community):
    applicant = person(member_wallet=Account.create().address)
    admin = person(roles=("community-admin",))
    with Session(engine) as s:
        request = _request(applicant.user_id, community, wallet=Account.create().address)
        s.add(request)
        role_id = s.exec(select(Role.id).where(Role.name == "community-admin")).one()
        s.add(UserRole(user_id=admin.user_id, community_id=community, role_id=role_id))
        s.commit()
        rid = request.id
    reply = client.post(f"/api/v1/communities/{community}/registrations/{rid}/approve", headers=admin.token)
    assert reply.status_code == 409, reply.text
    assert "second welcome bonus" in _sentence(reply)


# ---- 6. SIWE: URI and statement --------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["uri", "statement"])
def test_a_signed_message_with_another_uri_or_statement_binds_nothing(client, engine, person, community, change):
    wallet = Account.create()
    applicant = person(pending=True)
    challenge = client.post(
        "/api/v1/me/wallet-challenges",
        headers=applicant.token,
        json={"community_id": community, "address": wallet.address},
    ).json()
    settings = client.app.state.settings
    with Session(engine) as s:
        nonce = s.get(SiweNonce, challenge["nonce"])
        assert nonce is not None
        issued, expires = nonce.issued_at, nonce.expires_at
    uri = "https://evil.example" if change == "uri" else settings.siwe_uri
    message = siwe_binding.build_message(
        wallet.address, settings.siwe_domain, uri, settings.chain_id, challenge["nonce"], issued, expires
    )
    if change == "statement":
        message = message.replace(siwe_binding.STATEMENT, "Sign in to Evil Corp.")
    reply = client.post(
        "/api/v1/me/wallets",
        headers=applicant.token,
        json={"message": message, "signature": _sign(message, wallet.key)},
    )
    assert reply.status_code == 400, reply.text
    assert ("URI" if change == "uri" else "statement") in _sentence(reply)


# ---- 6. leaks --------------------------------------------------------------------------------------------------


def test_a_missing_bundle_names_no_server_path(keycloak, database_url, engine, tmp_path, monkeypatch, new_user):
    monkeypatch.setenv("LEC_DATA_DIR", str(tmp_path / "secret-data"))
    with Session(engine) as s:
        row = Community(name="Bundle LEC", chain_community_id=95)
        s.add(row)
        s.commit()
        cid = row.id
    with TestClient(create_app(make_settings(keycloak, database_url), engine)) as client:
        reply = client.get(
            f"/api/v1/communities/{cid}/periods/20260101/bundle?account={'0x' + 'ab' * 20}",
            headers=bearer(keycloak.mint(new_user("auditor"))),
        )
    assert reply.status_code == 404, reply.text
    detail = _sentence(reply)
    assert "secret-data" not in detail and "period.json" not in detail and str(tmp_path) not in detail
    assert "period 20260101" in detail


@pytest.fixture
def offline(keycloak, database_url, engine) -> Iterator[TestClient]:
    """The API with no chain node behind it."""
    with TestClient(create_app(make_settings(keycloak, database_url, rpc_url=NO_NODE), engine)) as client:
        yield client


def test_a_chain_failure_names_no_setting_and_no_address(offline, keycloak, new_user, community):
    auditor = bearer(keycloak.mint(new_user("auditor")))
    for path in (f"/api/v1/communities/{community}/token-policy", "/api/v1/reward-models"):
        reply = offline.get(path, headers=auditor)
        assert reply.status_code == 502, reply.text
        detail = _sentence(reply)
        assert "LEC_" not in detail and "127.0.0.1" not in detail and ":9" not in detail
    verify = offline.post("/api/v1/verify", headers=auditor, json={"bundle": {"chainId": 1981}})
    assert "LEC_" not in verify.text and "127.0.0.1" not in verify.text


def test_keycloak_unreachable_names_no_setting(keycloak, database_url, engine, new_user):
    settings = make_settings(keycloak, database_url, keycloak_url="http://127.0.0.1:9/")
    token = keycloak.mint(new_user("token-holder"))
    with TestClient(create_app(settings, engine)) as client:
        me = client.get("/api/v1/me", headers=bearer(token))
        assert me.status_code == 503, me.text
        assert "LEC_" not in _sentence(me) and "127.0.0.1" not in me.text
        ready = client.get("/ready")
        assert ready.status_code == 503 and "LEC_" not in ready.text and "127.0.0.1" not in ready.text


def _form(email: str, community: int) -> dict:
    return {
        "email": email,
        "password": "a long enough password",
        "name": "Ada",
        "surname": "Known",
        "community_id": community,
        "member_kind": "citizen",
        "energy_profile": "consumer",
    }


def test_registration_answers_alike_whether_the_address_is_known_and_mails_its_owner(client, keycloak, community):
    keycloak.add_user("known-user", "pw", ["token-holder"], email="known@example.org")
    new = client.post("/api/v1/registrations", json=_form("unknown@example.org", community))
    known = client.post("/api/v1/registrations", json=_form("Known@Example.org", community))
    assert new.status_code == known.status_code == 202, known.text
    assert new.content == known.content
    assert {k: v for k, v in new.headers.items() if k != "date"} == {
        k: v for k, v in known.headers.items() if k != "date"
    }
    assert {"to": "known@example.org", "actions": ["UPDATE_PASSWORD"]} in keycloak.realm.outbox
    assert keycloak.realm.find_user("unknown@example.org") is not None


def test_an_unverified_known_address_gets_its_verification_mail_again(client, keycloak, community):
    first = client.post("/api/v1/registrations", json=_form("twice@example.org", community))
    second = client.post("/api/v1/registrations", json=_form("twice@example.org", community))
    assert first.content == second.content
    mails = [m for m in keycloak.realm.outbox if m["to"] == "twice@example.org"]
    assert [m.get("action") for m in mails] == ["VERIFY_EMAIL", "VERIFY_EMAIL"]


def test_a_registration_for_an_unknown_community_is_a_404(client):
    reply = client.post("/api/v1/registrations", json=_form("nowhere@example.org", 999_999))
    assert reply.status_code == 404
