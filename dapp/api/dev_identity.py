"""The dev identity mode: a local Keycloak-compatible issuer for the demo, on loopback only.

It is the same server the tests use (`dapp.api.dev_realm`), with a freshly generated RSA key, started next to
the API; the API validates its tokens through the very same code path as a real Keycloak's (JWKS over HTTP,
python-keycloak). Demo accounts get random passwords written to `$LEC_DATA_DIR/dev-identity.json` (mode 0600)
so the dApp and the operator can log in; nothing secret is in the repository.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from dapp.api.dev_realm import KeycloakStandIn
from lec.settings import Settings, SettingsError, is_loopback

# Demo accounts: realm roles and the index of their wallet among anvil's default accounts (the demo
# community's members are accounts 1–8; account 0 deployed the platform and holds every on-chain admin role).
DEV_USERS: dict[str, tuple[tuple[str, ...], int | None]] = {
    "alice": (("token-holder",), 1),
    "bob": (("token-holder",), 2),
    "carla": (("community-admin", "token-holder"), 0),
    "oscar": (("oracle-admin",), 0),
    "tina": (("token-admin",), 0),
    "paolo": (("platform-admin",), 0),
    "audrey": (("auditor",), None),
}
DEMO_CHAIN_COMMUNITY_ID = 1  # the demo community, as `scripts/seed.py` registers it


def bind_demo_users(
    database_url: str | None,
    subjects: dict[str, str],
    users: dict[str, tuple[tuple[str, ...], int | None]] | None = None,
) -> int:
    """Links the realm's demo users to the demo community in the database: a member's Keycloak subject becomes
    the `external_id` of the (simulated) user holding their wallet, and community roles go to `user_roles`.
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
        for username, (roles, wallet_index) in (users or DEV_USERS).items():
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
                user.external_id, user.name = subject, username.title()
            linked += 1
            if community is None:
                continue
            for name in roles:
                if name not in ("community-admin", "token-holder", "token-admin", "oracle-admin"):
                    continue  # platform-admin and auditor are global: the token's realm role is enough
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


def start_dev_identity(settings: Settings, credentials_file: Path) -> tuple[KeycloakStandIn, Settings]:
    """Start the local issuer and return it with the settings pointed at it; refuses unless safe."""
    if not settings.dev_identity:
        raise SettingsError("The dev identity mode is off: set LEC_API_DEV_IDENTITY=1 to use it (demo only).")
    if not is_loopback(settings.host):
        raise SettingsError(f"The dev identity mode only runs on loopback, not on {settings.host!r}.")
    api_secret = settings.client_secret.get_secret_value() if settings.client_secret else secrets.token_urlsafe(24)
    server = KeycloakStandIn(client_secrets={"lec-api": api_secret}, host="127.0.0.1").start()
    passwords = {name: secrets.token_urlsafe(12) for name in DEV_USERS}
    subjects = {
        name: server.add_user(name, passwords[name], list(roles), first_name=name.capitalize(), last_name="Demo")
        for name, (roles, _wallet) in DEV_USERS.items()
    }
    bind_demo_users(settings.database_url, subjects)
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.touch(mode=0o600)
    os.chmod(credentials_file, 0o600)
    credentials_file.write_text(
        json.dumps(
            {
                "keycloak_url": server.url,
                "realm": settings.keycloak_realm,
                "dapp_client_id": "lec-dapp",
                "gateway_client_id": "lec-gateway-demo",
                "gateway_client_secret": server.client_secret("lec-gateway-demo"),
                "users": {n: {"password": passwords[n], "subject": subjects[n]} for n in DEV_USERS},
            },
            indent=2,
        )
    )
    updated = settings.model_copy(update={"keycloak_url": server.url, "client_secret": SecretStr(api_secret)})
    return server, updated
