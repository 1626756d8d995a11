"""The report's identity flows end to end: Keycloak (stand-in) + SQLite + anvil with the real contracts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import ADMIN, bearer, platform_on_anvil
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient
from keycloak import KeycloakOpenID
from pydantic import SecretStr
from sqlmodel import Session, select
from web3 import Web3

from dapp.api.main import create_app
from lec.chain.contracts import abi
from lec.db.models import AuditEntry, Community, RegistrationRequest, Role, User, UserCommunity, UserRole
from lec.db.models.market import Listing
from lec.db.session import get_engine, init_db

WALLET = Account.create()


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Iterator[tuple[str, Web3, str]]:
    """anvil at chain id 1981 with free gas, Registry/RewardModels/Notary and one community run by ADMIN."""
    with platform_on_anvil(tmp_path_factory.mktemp("deployments")) as platform:
        yield platform


@pytest.fixture
def flow_client(keycloak, chain, tmp_path, monkeypatch) -> Iterator[tuple[TestClient, Session, Web3]]:
    from api_helpers import make_settings

    url, w3, deployments = chain
    monkeypatch.setenv("LEC_DEPLOYMENTS_DIR", deployments)
    monkeypatch.setenv("LEC_DATA_DIR", str(tmp_path))
    db_url = f"sqlite:///{tmp_path / 'flow.db'}"
    engine = init_db(get_engine(db_url))
    settings = make_settings(
        keycloak,
        db_url,
        rpc_url=url,
        community_admin_private_key=SecretStr(ADMIN.key.hex()),
        deployments_dir=deployments,
    )
    with Session(engine) as s:
        community = Community(name="Flow LEC", chain_community_id=1)
        s.add(community)
        s.commit()
    with TestClient(create_app(settings, engine)) as client, Session(engine) as session:
        yield client, session, w3


def _login(keycloak, username: str, password: str) -> dict:
    return KeycloakOpenID(server_url=keycloak.url, realm_name="lec", client_id="lec-dapp").token(username, password)


def test_register_bind_approve_edit_leave_and_be_forgotten(flow_client, keycloak):
    client, session, w3 = flow_client
    community_id = session.exec(select(Community.id)).one()

    # 4.1.1.2: registration through Keycloak's admin API; the verification e-mail is asked for.
    reply = client.post(
        "/api/v1/registrations",
        json={
            "email": "Carla@Example.org",
            "password": "a long enough password",
            "name": "Carla",
            "surname": "Rossi",
            "city": "Roma",
            "community_id": community_id,
            "member_kind": "citizen",
            "energy_profile": "prosumer",
        },
    )
    assert reply.status_code == 202, reply.text
    assert {"to": "carla@example.org", "action": "VERIFY_EMAIL", "client_id": "lec-dapp"} in keycloak.realm.outbox
    kc_user = keycloak.realm.find_user("carla@example.org")
    assert kc_user is not None and not kc_user.email_verified
    registration_id = session.exec(select(RegistrationRequest.id)).one()
    # The same address again: the same answer (whether an address is known is not told), and a second e-mail.
    again = client.post("/api/v1/registrations", json={**json.loads(reply.request.content), "name": "X"})
    assert (again.status_code, again.json()) == (reply.status_code, reply.json())
    assert len([m for m in keycloak.realm.outbox if m["to"] == "carla@example.org"]) == 2

    # Until the e-mail is verified Keycloak refuses the login; the user clicks the link.
    with pytest.raises(Exception, match="not fully set up"):
        _login(keycloak, "carla@example.org", "a long enough password")
    kc_user.email_verified, kc_user.required_actions = True, []
    carla = bearer(_login(keycloak, "carla@example.org", "a long enough password")["access_token"])

    # SIWE: challenge, signature, binding; the same signed message a second time is a replay.
    challenge = client.post(
        "/api/v1/me/wallet-challenges", headers=carla, json={"community_id": community_id, "address": WALLET.address}
    )
    assert challenge.status_code == 201, challenge.text
    message = challenge.json()["message"]
    assert "Chain ID: 1981" in message and challenge.json()["nonce"] in message
    signature = Account.sign_message(encode_defunct(text=message), WALLET.key).signature.hex()
    signature = signature if signature.startswith("0x") else "0x" + signature
    bound = client.post("/api/v1/me/wallets", headers=carla, json={"message": message, "signature": signature})
    assert bound.status_code == 200, bound.text
    assert bound.json()["wallet"] == WALLET.address
    replay = client.post("/api/v1/me/wallets", headers=carla, json={"message": message, "signature": signature})
    assert replay.status_code == 409 and "replay" in replay.json()["detail"]
    other = Account.create()
    forged = Account.sign_message(encode_defunct(text=message), other.key).signature.hex()
    forged = forged if forged.startswith("0x") else "0x" + forged
    bad = client.post("/api/v1/me/wallets", headers=carla, json={"message": message, "signature": forged})
    assert bad.status_code == 400

    # The community admin approves: the wallet becomes a member on chain.
    admin_subject = keycloak.add_user("flow-admin", "pw", ["community-admin", "token-holder"])
    admin_user = User(external_id=admin_subject, name="Ada", surname="Admin", email="ada@example.org")
    session.add(admin_user)
    session.flush()
    role_id = session.exec(select(Role.id).where(Role.name == "community-admin")).one()
    session.add(UserRole(user_id=admin_user.id, community_id=community_id, role_id=role_id))
    session.commit()
    admin = bearer(keycloak.mint("flow-admin"))
    pending = client.get(f"/api/v1/communities/{community_id}/registrations?status=pending", headers=admin).json()
    assert [p["id"] for p in pending] == [registration_id]
    approved = client.post(f"/api/v1/communities/{community_id}/registrations/{registration_id}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["tx_hash"]
    token = w3.eth.contract(
        address=w3.eth.contract(
            address=json.loads((Path(client.app.state.settings.deployments_dir) / "1981.json").read_text())[
                "contracts"
            ]["Registry"],
            abi=abi("Registry"),
        )
        .functions.tokenOf(1)
        .call(),
        abi=abi("CommunityToken"),
    )
    assert token.functions.isMember(WALLET.address).call()
    assert "token-holder" in keycloak.realm.users[kc_user.id].realm_roles

    # As a member Carla sees her membership; she edits her profile (Keycloak too).
    carla = bearer(keycloak.mint("carla@example.org"))
    me = client.get("/api/v1/me", headers=carla).json()
    assert me["memberships"][0]["wallet"] == WALLET.address and me["memberships"][0]["active"]
    edited = client.patch("/api/v1/me", headers=carla, json={"name": "Carlotta", "city": "Milano"})
    assert edited.status_code == 200 and edited.json()["city"] == "Milano"
    assert keycloak.realm.users[kc_user.id].first_name == "Carlotta"
    assert client.patch("/api/v1/me", headers=carla, json={"zip": 123}).status_code == 422  # strict: no coercion

    # She offers help in the time bank; her listing's text is personal and must go with her.
    listing = client.post(
        f"/api/v1/communities/{community_id}/listings",
        headers=carla,
        json={
            "category": 0,
            "side": "offer",
            "title": "Lezioni di chitarra",
            "description": "Carla, via Roma 3",
            "hours": "1",
            "availability": "sabato",
        },
    )
    assert listing.status_code in (200, 201), listing.text

    # Right to be forgotten: chain first, then Keycloak, then the rows; an audit entry without personal data.
    assert client.delete("/api/v1/me", headers=carla).status_code == 204
    assert not token.functions.isMember(WALLET.address).call()
    assert keycloak.realm.find_user("carla@example.org") is None
    session.expire_all()
    assert session.exec(select(User).where(User.external_id == kc_user.id)).first() is None
    assert session.exec(select(UserCommunity).where(UserCommunity.wallet == WALLET.address)).first() is None
    assert session.exec(select(Listing).where(Listing.owner == WALLET.address)).first() is None
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "user.deleted")).all()
    assert entries and all(
        "carla" not in (e.detail or "").lower() and WALLET.address not in (e.detail or "") for e in entries
    )
    assert entries[0].tx_hash


def test_logout_ends_the_keycloak_session(flow_client, keycloak):
    client, _session, _w3 = flow_client
    keycloak.add_user("logout-user", "pw", ["token-holder"])
    tokens = _login(keycloak, "logout-user", "pw")
    api = KeycloakOpenID(
        server_url=keycloak.url, realm_name="lec", client_id="lec-api", client_secret_key="test-api-client-secret"
    )
    assert api.introspect(tokens["access_token"])["active"]
    reply = client.post(
        "/api/v1/me/logout", headers=bearer(tokens["access_token"]), json={"refresh_token": tokens["refresh_token"]}
    )
    assert reply.status_code == 204, reply.text
    assert not api.introspect(tokens["access_token"])["active"]
    again = client.post(
        "/api/v1/me/logout", headers=bearer(tokens["access_token"]), json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 400
