"""The dev identity mode: a local Keycloak-compatible issuer for the demo, on loopback only.

It is the same server the tests use (`dapp.keycloak.server`), with a freshly generated RSA key, started next to
the API; the API validates its tokens through the very same code path as a real Keycloak's (JWKS over HTTP,
python-keycloak). Demo accounts get random passwords written to `$LEC_DATA_DIR/dev-identity.json` (mode 0600)
so the dApp and the operator can log in; nothing secret is in the repository.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from dapp.api.settings import Settings, SettingsError, is_loopback
from dapp.keycloak.server import KeycloakStandIn

# Demo accounts and their realm roles (the community roles live in the database, see `seed_dev_users`).
DEV_USERS: dict[str, tuple[str, ...]] = {
    "admin": ("platform-admin", "community-admin", "token-admin", "oracle-admin", "token-holder"),
    "alice": ("token-holder",),
    "bob": ("token-holder",),
    "auditor": ("auditor",),
}


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
        for name, roles in DEV_USERS.items()
    }
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
