"""The demo's people, in either identity mode: who they are (`DEMO_USERS`), how they are bound to the simulated
demo community (`bind_demo_users`), the demo's secrets file (`$LEC_DATA_DIR/dev-identity.json`, mode 0600), and,
for `make demo`, their accounts in the real Keycloak (`lec demo-identity`: created through the Admin API as the
bootstrap administrator, with generated passwords), the API's client secret for `lec api` and the dApp's
`[auth]` section for `st.login`. The demo only: it refuses a Keycloak that is not on this machine.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from lec.settings import get_settings, is_loopback

# Demo accounts: realm roles and the index of their wallet among anvil's default accounts (the demo
# community's members are accounts 1–8; account 0 deployed the platform and holds every on-chain admin role).
DEMO_USERS: dict[str, tuple[tuple[str, ...], int | None]] = {
    "alice": (("token-holder",), 1),
    "bob": (("token-holder",), 2),
    "carla": (("community-admin", "token-holder"), 0),
    "oscar": (("oracle-admin",), 0),
    "tina": (("token-admin",), 0),
    "paolo": (("platform-admin",), 0),
    "audrey": (("auditor",), None),
}
DEMO_CHAIN_COMMUNITY_ID = 1  # the demo community, as `scripts/seed.py` registers it
# Realm roles that hold for every community (the token says it all); the others are exercised in a community,
# which a row of `user_roles` names.
GLOBAL_ROLES = ("platform-admin", "auditor")
SECRETS_MARK = "# Written by `lec demo-identity` (make demo)"


def bind_demo_users(
    database_url: str | None,
    subjects: dict[str, str],
    users: dict[str, tuple[tuple[str, ...], int | None]] | None = None,
) -> int:
    """Links the realm's demo users to the demo community in the database: a member's Keycloak subject becomes
    the `external_id` of the (simulated) user holding their wallet, and their community roles (community admin,
    token admin, oracle admin, token holder) become rows of `user_roles`, so their routes answer them.
    Returns how many users were linked; users whose community is not in the database yet are created alone."""
    from sqlmodel import Session, select

    from lec.db.models import Community, Role, User, UserCommunity, UserRole
    from lec.db.session import get_engine, init_db
    from oracle.simulate.community import anvil_address

    engine = init_db(get_engine(database_url))
    linked = 0
    with Session(engine) as session:
        community = session.exec(
            select(Community).where(Community.chain_community_id == DEMO_CHAIN_COMMUNITY_ID)
        ).first()
        for username, (roles, wallet_index) in (users or DEMO_USERS).items():
            subject = subjects[username]
            membership = None
            if wallet_index is not None:
                wallet = anvil_address(wallet_index)
                membership = session.exec(select(UserCommunity).where(UserCommunity.wallet == wallet)).first()
            user = session.get(User, membership.user_id) if membership is not None else None
            if user is None:
                user = session.exec(select(User).where(User.external_id == subject)).first()
            if user is None:
                user = User(external_id=subject, name=username.title(), surname="Demo", email=f"{username}@example.org")
                session.add(user)
                session.flush()
            else:
                user.external_id, user.name, user.surname = subject, username.title(), "Demo"
            linked += 1
            if community is None:
                continue
            for name in roles:
                if name in GLOBAL_ROLES:
                    continue
                role = session.exec(select(Role).where(Role.name == name)).first()
                if role is not None and session.get(UserRole, (user.id, community.id, role.id)) is None:
                    session.add(UserRole(user_id=user.id, community_id=community.id, role_id=role.id))
        session.commit()
        if community is not None:
            _refresh_read_model(session, community.id)
    return linked


def _refresh_read_model(session, community_id: int) -> int:
    """Fills the dashboards' daily read model for every day of the demo's readings (the demo's readings come
    from `lec oracle simulate`, not through the API, so nothing refreshed it on ingestion)."""
    import sqlalchemy as sa

    from dapp.api import aggregates
    from lec.calendar import ROME
    from lec.db.models import CounterReading

    first, last = session.exec(
        sa.select(sa.func.min(CounterReading.timestamp), sa.func.max(CounterReading.timestamp)).where(
            CounterReading.community_id == community_id
        )
    ).one()
    if first is None:
        return 0
    start, end = first.astimezone(ROME).date(), last.astimezone(ROME).date()
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    written = aggregates.refresh(session, community_id, days)
    session.commit()
    return written


def write_private(path: Path, text: str) -> None:
    """Writes a file only its owner can read (created with mode 0600, never readable in between)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text(text)


def write_credentials(
    path: Path,
    keycloak_url: str,
    realm: str,
    gateway_secret: str,
    accounts: dict[str, tuple[str, str]],
    dapp_client_id: str = "lec-dapp",
    flex_buyer_secret: str | None = None,
) -> None:
    """The demo's secrets file: where its Keycloak is, the gateway's client secret, and each demo user's password
    and subject (`accounts`: username → (password, subject))."""
    write_private(
        path,
        json.dumps(
            {
                "keycloak_url": keycloak_url,
                "realm": realm,
                "dapp_client_id": dapp_client_id,
                "gateway_client_id": "lec-gateway-demo",
                "gateway_client_secret": gateway_secret,
                **(
                    {"flex_buyer_client_id": "lec-flex-buyer-demo", "flex_buyer_client_secret": flex_buyer_secret}
                    if flex_buyer_secret
                    else {}
                ),
                "users": {name: {"password": pw, "subject": subject} for name, (pw, subject) in accounts.items()},
            },
            indent=2,
        ),
    )


def provision_users(admin: Any, users: dict[str, tuple[tuple[str, ...], int | None]]) -> dict[str, tuple[str, str]]:
    """Each demo user in the realm (`admin`: python-keycloak's KeycloakAdmin), enabled, e-mail verified, with a new
    generated password and exactly its realm roles; an existing account keeps its id. Returns username →
    (password, subject)."""
    accounts: dict[str, tuple[str, str]] = {}
    for username, (roles, _wallet) in users.items():
        password = secrets.token_urlsafe(12)
        profile = {
            "username": username,
            "email": f"{username}@example.org",
            "firstName": username.title(),
            "lastName": "Demo",
            "enabled": True,
            "emailVerified": True,
            "requiredActions": [],
        }
        user_id = admin.get_user_id(username)
        if user_id is None:
            user_id = admin.create_user(profile)
        else:
            admin.update_user(user_id, profile)
        admin.set_user_password(user_id, password, temporary=False)
        held = {r["name"] for r in admin.get_realm_roles_of_user(user_id)}
        wanted = set(roles)
        if wanted - held:
            admin.assign_realm_roles(user_id, [admin.get_realm_role(r) for r in sorted(wanted - held)])
        extra = held & (set(_realm_role_names(admin)) - wanted)
        if extra:
            admin.delete_realm_roles_of_user(user_id, [admin.get_realm_role(r) for r in sorted(extra)])
        accounts[username] = (password, user_id)
    return accounts


def _realm_role_names(admin: Any) -> list[str]:
    """The platform's own realm roles (Keycloak's default roles are left alone)."""
    return [
        r["name"] for r in admin.get_realm_roles() if not r["name"].startswith(("default-roles-", "offline_", "uma_"))
    ]


def dapp_secrets_toml(keycloak_url: str, realm: str, dapp_url: str) -> str:
    """The dApp's `.streamlit/secrets.toml` for `st.login` with the realm's `lec-dapp` client (public, PKCE)."""
    return (
        f"{SECRETS_MARK}: sign-in with the demo's Keycloak.\n"
        "# Delete this file to have the next `make demo` write it again; edit it and it is left alone.\n"
        "[auth]\n"
        f'redirect_uri = "{dapp_url.rstrip("/")}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'expose_tokens = ["access"]\n'
        "[auth.keycloak]\n"
        'client_id = "lec-dapp"\n'
        'client_secret = ""\n'
        f'server_metadata_url = "{keycloak_url.rstrip("/")}/realms/{realm}/.well-known/openid-configuration"\n'
    )


@click.command(name="demo-identity")
@click.option("--keycloak-url", default="http://127.0.0.1:8180/", show_default=True)
@click.option("--realm", default="lec", show_default=True)
@click.option(
    "--admin-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("data/keycloak/admin.json"),
    show_default=True,
    help="The bootstrap administrator written by tools/keycloak/keycloak.sh.",
)
@click.option("--dapp-url", default="http://localhost:8501", show_default=True)
@click.option(
    "--dapp-secrets",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".streamlit/secrets.toml"),
    show_default=True,
)
def demo_identity(keycloak_url: str, realm: str, admin_file: Path, dapp_url: str, dapp_secrets: Path) -> None:
    """Create the demo users in the demo's Keycloak and write what the API and the dApp need to use it."""
    from keycloak import KeycloakAdmin

    host = urlsplit(keycloak_url).hostname or ""
    if not is_loopback(host):
        raise click.UsageError(f"The demo's identities go into a Keycloak on this machine only, not {host!r}.")
    settings = get_settings()
    admin_login = json.loads(admin_file.read_text())
    admin = KeycloakAdmin(
        server_url=keycloak_url,
        username=admin_login["username"],
        password=admin_login["password"],
        realm_name=realm,
        user_realm_name="master",
        timeout=30,
    )
    accounts = provision_users(admin, DEMO_USERS)
    bind_demo_users(settings.database_url, {name: subject for name, (_pw, subject) in accounts.items()})
    clients = ("lec-api", "lec-gateway-demo", "lec-flex-buyer-demo")
    secret_of = {c: admin.get_client_secrets(admin.get_client_id(c))["value"] for c in clients}
    data = settings.data_dir
    write_credentials(
        data / "dev-identity.json",
        keycloak_url,
        realm,
        secret_of["lec-gateway-demo"],
        accounts,
        flex_buyer_secret=secret_of["lec-flex-buyer-demo"],
    )
    write_private(
        admin_file.parent / "lec-api.env",
        f"LEC_API_KEYCLOAK_URL={keycloak_url}\nLEC_API_KEYCLOAK_REALM={realm}\n"
        f"LEC_API_CLIENT_SECRET={secret_of['lec-api']}\n",
    )
    if not dapp_secrets.exists() or dapp_secrets.read_text().startswith(SECRETS_MARK):
        write_private(dapp_secrets, dapp_secrets_toml(keycloak_url, realm, dapp_url))
    else:
        click.echo(f"{dapp_secrets} was not written by the demo: left as it is.")
    click.echo(
        f"Demo users in {keycloak_url.rstrip('/')}/realms/{realm}: {', '.join(DEMO_USERS)} "
        f"(passwords in {data / 'dev-identity.json'})"
    )
