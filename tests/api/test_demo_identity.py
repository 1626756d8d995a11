"""`lec demo-identity` (make demo): the demo users in the real Keycloak with generated passwords and exactly their
roles, again and again (a second run keeps their ids and changes their passwords), bound to the demo community
with a `user_roles` row for each community role; the dApp's `[auth]` section points at the realm's metadata."""

from __future__ import annotations

import tomllib

import pytest
import requests
from api_helpers import unverified_claims
from keycloak.exceptions import KeycloakPostError
from sqlmodel import Session, select

from dapp.api.demo_identity import bind_demo_users, dapp_secrets_toml, provision_users
from lec.db.models import Community, Role, User, UserRole
from lec.db.session import get_engine, init_db
from tests.support.keycloak import KeycloakServer

USERS = {
    "demo-ann": (("token-holder",), 1),
    "demo-tom": (("token-admin", "oracle-admin"), 0),
    "demo-ada": (("auditor",), None),
}


def test_demo_users_get_passwords_and_exactly_their_roles_again_and_again(keycloak: KeycloakServer):
    admin = keycloak.admin()
    first = provision_users(admin, USERS)
    for name, (password, subject) in first.items():
        claims = unverified_claims(keycloak.token(name, password)["access_token"])
        assert claims["sub"] == subject and claims["email_verified"]
        platform_roles = set(claims["realm_access"]["roles"]) - {
            "default-roles-lec",
            "offline_access",
            "uma_authorization",
        }
        assert platform_roles == set(USERS[name][0])

    admin.assign_realm_roles(first["demo-ann"][1], [admin.get_realm_role("platform-admin")])  # drifted by hand
    second = provision_users(admin, USERS)
    assert {n: s for n, (_p, s) in second.items()} == {n: s for n, (_p, s) in first.items()}
    assert "platform-admin" not in keycloak.realm_roles(second["demo-ann"][1])
    with pytest.raises(KeycloakPostError):
        keycloak.token("demo-ann", first["demo-ann"][0])  # the old password no longer works
    assert keycloak.token("demo-ann", second["demo-ann"][0])["access_token"]


def test_demo_users_are_bound_to_the_demo_community_with_their_community_roles(keycloak, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = init_db(get_engine(url))
    with Session(engine) as session:
        session.add(Community(name="Demo LEC", chain_community_id=1))
        session.commit()
    accounts = provision_users(keycloak.admin(), USERS)
    assert bind_demo_users(url, {n: s for n, (_p, s) in accounts.items()}, USERS) == 3
    with Session(engine) as session:
        tom = session.exec(select(User).where(User.external_id == accounts["demo-tom"][1])).one()
        held = session.exec(
            select(Role.name).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == tom.id)  # type: ignore[arg-type]
        ).all()
        assert set(held) == {"token-admin", "oracle-admin"}
        ada = session.exec(select(User).where(User.external_id == accounts["demo-ada"][1])).one()
        assert not session.exec(select(UserRole).where(UserRole.user_id == ada.id)).all()  # auditor: global


def test_the_dapps_auth_section_names_the_realm_with_pkce(keycloak):
    secrets = tomllib.loads(dapp_secrets_toml(keycloak.url, "lec", "http://localhost:8501"))
    assert secrets["auth"]["redirect_uri"] == "http://localhost:8501/oauth2callback"
    assert len(secrets["auth"]["cookie_secret"]) == 64 and secrets["auth"]["expose_tokens"] == ["access"]
    provider = secrets["auth"]["keycloak"]
    assert provider["client_id"] == "lec-dapp"
    metadata = requests.get(provider["server_metadata_url"], timeout=10).json()
    assert metadata["issuer"] == keycloak.issuer() and "S256" in metadata["code_challenge_methods_supported"]
    assert metadata["end_session_endpoint"]
