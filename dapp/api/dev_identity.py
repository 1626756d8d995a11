"""The dev identity mode: a local Keycloak-compatible issuer for quick runs without Java, on loopback only.

`lec api --dev-identity` (never the default: `make demo` runs the real Keycloak) starts `dapp.api.dev_realm` next to
the API with a freshly generated RSA key; the API validates its tokens through the very same code path as a real
Keycloak's (JWKS over HTTP, python-keycloak). The demo users (`dapp.api.demo_identity.DEMO_USERS`) get random
passwords written to `$LEC_DATA_DIR/dev-identity.json` (mode 0600), and the `lec-dapp` client accepts the password
grant here only, for the dApp's demo sign-in (`lec dapp --dev-identity`); nothing secret is in the repository.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import SecretStr

from dapp.api.demo_identity import DEMO_USERS, bind_demo_users, write_credentials
from dapp.api.dev_realm import KeycloakStandIn
from lec.settings import Settings, SettingsError, is_loopback


def start_dev_identity(settings: Settings, credentials_file: Path) -> tuple[KeycloakStandIn, Settings]:
    """Start the local issuer and return it with the settings pointed at it; refuses unless safe."""
    if not settings.dev_identity:
        raise SettingsError("The dev identity mode is off: set LEC_API_DEV_IDENTITY=1 to use it (demo only).")
    if not is_loopback(settings.host):
        raise SettingsError(f"The dev identity mode only runs on loopback, not on {settings.host!r}.")
    api_secret = settings.client_secret.get_secret_value() if settings.client_secret else secrets.token_urlsafe(24)
    server = KeycloakStandIn(client_secrets={"lec-api": api_secret}, host="127.0.0.1").start()
    # The shipped realm turns the password grant off (people sign in on Keycloak's page); the demo sign-in of
    # this mode sends a username and password, so it is on here, for this loopback issuer only.
    server.realm.clients["lec-dapp"].direct_access_grants = True
    accounts: dict[str, tuple[str, str]] = {}
    for name, (roles, _wallet) in DEMO_USERS.items():
        password = secrets.token_urlsafe(12)
        subject = server.add_user(name, password, list(roles), first_name=name.capitalize(), last_name="Demo")
        accounts[name] = (password, subject)
    bind_demo_users(settings.database_url, {name: subject for name, (_pw, subject) in accounts.items()})
    write_credentials(
        credentials_file, server.url, settings.keycloak_realm, server.client_secret("lec-gateway-demo"), accounts
    )
    updated = settings.model_copy(update={"keycloak_url": server.url, "client_secret": SecretStr(api_secret)})
    return server, updated
