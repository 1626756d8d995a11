"""The real Keycloak for the tests: one server per test run, started by `tools/keycloak/keycloak.sh` on free
loopback ports in a temporary state folder of its own (its own H2 database, so the demo's is never touched),
with the shipped realm `dapp/api/realm-lec.json` imported and its SMTP pointed at a local sink (`MailSink`).

`KeycloakServer.launch()` starts it without waiting (the start takes 40–130 s on a busy 2-core machine, so the
test session launches it first and runs other tests meanwhile); `.wait_ready()` waits; `.prepare()` adds what
only tests need, through the Admin API:

- `lec-test`: a public client with the password grant (the shipped `lec-dapp` has it off: people sign in
  through Keycloak's login page), with the same client scopes as `lec-dapp`, so its tokens look like the dApp's,
  but living `TEST_LIFESPAN` seconds (Keycloak caps them at the session's idle time) so a module's fixtures can
  keep theirs for the whole module;
- `lec-test-no-audience`: the same without the `lec-api-audience` scope (tokens meant for another service);
- `lec-test-short`: the same with access tokens that live `SHORT_LIFESPAN` seconds (really expired tokens);
- a passive RSA key `lec-test-signer` whose private half the tests hold: the realm publishes it in its JWK set
  (as it keeps a rotated-out key) but never signs with it, so the tests can sign claims Keycloak never issues
  (`nbf` in the future, another `iss`) with a key the realm vouches for.

Helpers: `add_user` (verified, with realm roles), `token` / `access_token` (password grant through `lec-test`),
`client_token` (client credentials), `client_secret`, `user`, `realm_roles`, `sessions`, `sign`, `forge`,
`copy_realm` (the shipped realm under another name, for tests that change keys), `verify_email` (follow the link
of a verification mail as a browser does).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode
from keycloak import KeycloakAdmin, KeycloakOpenID
from keycloak.exceptions import KeycloakGetError

from tests.support.mail import MailSink, link
from tests.support.ports import free_port
from tests.support.tools import ROOT

KEYCLOAK_SH = ROOT / "tools" / "keycloak" / "keycloak.sh"
REALM_FILE = ROOT / "dapp" / "api" / "realm-lec.json"
REALM = "lec"
TEST_CLIENT = "lec-test"
NO_AUDIENCE_CLIENT = "lec-test-no-audience"
SHORT_CLIENT = "lec-test-short"
SHORT_LIFESPAN = 2  # seconds
TEST_LIFESPAN = 1800  # seconds, the realm's SSO idle time
SIGNER = "lec-test-signer"
PASSWORD = "a long test password"  # the realm's policy: at least 12 characters, not the username or e-mail
# The scopes of the shipped dApp client (`lec-dapp`), so the test clients' tokens carry the same claims.
DAPP_SCOPES = ["basic", "acr", "profile", "email", "roles", "web-origins", "lec-api-audience"]
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
# `PORT:STATE` of a Keycloak another process started and keeps (tests/mutation/keycloak.py): a test run then uses
# it instead of starting its own (mutation testing runs the API's tests once per mutant; a start costs minutes).
ATTACH_ENV = "LEC_TEST_KEYCLOAK"


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified (the tests read what Keycloak put there)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class KeycloakServer:
    def __init__(self, state: Path | None = None) -> None:
        self.state = state or Path(tempfile.mkdtemp(prefix="lec-keycloak-"))
        self.port = free_port()
        self.management_port = free_port()
        self.mail = MailSink()
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._admins: dict[str, KeycloakAdmin] = {}
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._secrets: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self.signer: jwk.JWK | None = None
        self._attached = False

    @classmethod
    def attach(cls, spec: str) -> KeycloakServer:
        """The running Keycloak named by `spec` (`PORT:STATE`, see `ATTACH_ENV`): not started, not stopped here.
        Its mail goes to the sink of the process that started it, so tests that read mail do not run this way."""
        port, state = spec.split(":", 1)
        server = cls(Path(state))
        server.port, server._ready, server._attached = int(port), True, True
        return server

    @classmethod
    def for_tests(cls) -> KeycloakServer:
        """The one named by `ATTACH_ENV` if it is set, else a new one, launched."""
        spec = os.environ.get(ATTACH_ENV)
        return cls.attach(spec) if spec else cls().launch()

    # ---- the process ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def issuer(self, realm: str = REALM) -> str:
        return f"http://127.0.0.1:{self.port}/realms/{realm}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("JAVA_HOME", JAVA_HOME)
        env.update(
            KEYCLOAK_PORT=str(self.port),
            KEYCLOAK_MANAGEMENT_PORT=str(self.management_port),
            KEYCLOAK_STATE=str(self.state),
            KEYCLOAK_REALM_FILE=str(REALM_FILE),
            LEC_SMTP_HOST=self.mail.host,
            LEC_SMTP_PORT=str(self.mail.port),
            LEC_SMTP_FROM="noreply@lec.test",
        )
        return env

    def launch(self) -> KeycloakServer:
        """Start the mail sink and Keycloak; returns at once (`wait_ready` waits for the health check)."""
        self.mail.start()
        self.state.mkdir(parents=True, exist_ok=True)
        with (self.state / "start.log").open("wb") as log:
            self._process = subprocess.Popen(
                [str(KEYCLOAK_SH), "start"], env=self._env(), stdout=log, stderr=subprocess.STDOUT
            )
        # A watchdog in its own session: should this process die without stopping the server (killed, a crash),
        # the server is stopped and its folder removed all the same, instead of running on without an owner.
        subprocess.Popen(
            [
                "/bin/sh",
                "-c",
                f'while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "$0" stop; rm -rf "$KEYCLOAK_STATE"',
                str(KEYCLOAK_SH),
            ],
            env=self._env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 600) -> KeycloakServer:
        if self._ready:
            return self
        if self._process is None:
            self.launch()
        assert self._process is not None
        try:
            code: int | None = self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        if code != 0:
            raise RuntimeError(f"Keycloak did not start (exit {code}):\n{self._logs()}")
        self._ready = True
        return self

    def _logs(self) -> str:
        """What keycloak.sh said, and the last lines of the server's own log."""
        parts = []
        for name, lines in (("start.log", 200), ("keycloak.log", 30)):
            path = self.state / name
            if path.exists():
                parts.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(parts)

    def stop(self) -> None:
        if self._attached:
            return
        if self._process is not None:
            if self._process.poll() is None:  # still starting: let the script finish before stopping the server
                self._process.wait(timeout=600)
            subprocess.run([str(KEYCLOAK_SH), "stop"], env=self._env(), capture_output=True, timeout=120)
            self._process = None
        self.mail.stop()
        shutil.rmtree(self.state, ignore_errors=True)

    def startup_seconds(self) -> int | None:
        """What keycloak.sh measured from the start of the server to its first healthy answer."""
        found = re.search(r"ready in (\d+) s", (self.state / "start.log").read_text(errors="replace"))
        return int(found.group(1)) if found else None

    # ---- the Admin API -------------------------------------------------------------------------------

    def admin(self, realm: str = REALM) -> KeycloakAdmin:
        """An Admin API client for `realm`, as the bootstrap administrator of the master realm."""
        with self._lock:
            if realm not in self._admins:
                password = json.loads((self.state / "admin.json").read_text())["password"]
                self._admins[realm] = KeycloakAdmin(
                    server_url=self.url,
                    username="admin",
                    password=password,
                    realm_name=realm,
                    user_realm_name="master",
                    timeout=30,
                )
            return self._admins[realm]

    def prepare(self, realm: str = REALM) -> KeycloakServer:
        """The test clients and the test signing key (see the module's docstring); idempotent."""
        admin = self.admin(realm)
        base = {
            "publicClient": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": True,
            "protocol": "openid-connect",
        }
        clients = {
            TEST_CLIENT: {
                "defaultClientScopes": DAPP_SCOPES,
                "attributes": {"access.token.lifespan": str(TEST_LIFESPAN)},
            },
            NO_AUDIENCE_CLIENT: {"defaultClientScopes": [s for s in DAPP_SCOPES if s != "lec-api-audience"]},
            SHORT_CLIENT: {
                "defaultClientScopes": DAPP_SCOPES,
                "attributes": {"access.token.lifespan": str(SHORT_LIFESPAN)},
            },
        }
        for client_id, extra in clients.items():
            admin.create_client({"clientId": client_id, **base, **extra}, skip_exists=True)
        if realm == REALM and self.signer is None:
            self.signer = self.add_key(SIGNER, active=False, realm=realm)
        return self

    def add_key(self, name: str, priority: int = 10, active: bool = True, realm: str = REALM) -> jwk.JWK:
        """Imports a new RSA key into the realm (an `rsa` key provider); returns it with the kid Keycloak gave it.
        Active: Keycloak signs with it if its priority is the highest; passive: only published and verified."""
        from cryptography.hazmat.primitives import serialization

        key = jwk.JWK.generate(kty="RSA", size=2048)
        pem = key.export_to_pem(private_key=True, password=None)
        private = serialization.load_pem_private_key(pem, password=None)
        pkcs8 = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        admin = self.admin(realm)
        component = admin.create_component(
            {
                "name": name,
                "providerId": "rsa",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": admin.get_realm(realm)["id"],
                "config": {
                    "priority": [str(priority)],
                    "enabled": ["true"],
                    "active": ["true" if active else "false"],
                    "algorithm": ["RS256"],
                    "privateKey": [pkcs8],
                },
            }
        )
        kid = next(k["kid"] for k in admin.get_keys()["keys"] if k.get("providerId") == component)
        return jwk.JWK(**{**json.loads(key.export_private()), "kid": kid})

    def key_components(self, realm: str = REALM) -> list[dict[str, Any]]:
        return self.admin(realm).get_components({"type": "org.keycloak.keys.KeyProvider"})

    def published_kids(self, realm: str = REALM) -> set[str]:
        reply = requests.get(f"{self.issuer(realm)}/protocol/openid-connect/certs", timeout=10)
        reply.raise_for_status()
        return {k["kid"] for k in reply.json()["keys"] if k.get("use") == "sig"}

    def copy_realm(self, name: str) -> None:
        """The shipped realm under another name (same roles, clients and scopes), with the test clients; for
        tests that change what the realm signs with, so the other tests' realm stays as shipped."""
        realm = json.loads(REALM_FILE.read_text())
        realm.pop("smtpServer", None)  # its placeholders are only filled by an import at start
        realm.update(realm=name, displayName=f"{realm['displayName']} ({name})")
        admin = self.admin()
        admin.create_realm(realm, skip_exists=True)
        self.prepare(realm=name)

    def delete_realm(self, name: str) -> None:
        self.admin().delete_realm(name)
        with self._lock:
            self._admins.pop(name, None)
            self._tokens = {k: v for k, v in self._tokens.items() if k[0] != name}
            self._secrets = {k: v for k, v in self._secrets.items() if k[0] != name}

    def add_user(
        self,
        username: str,
        password: str = PASSWORD,
        roles: list[str] | tuple[str, ...] = (),
        email: str | None = None,
        first_name: str | None = None,
        last_name: str = "Test",
        verified: bool = True,
        realm: str = REALM,
    ) -> str:
        """A new enabled user (an existing one of that name is deleted first) with realm roles; returns its id,
        the `sub` of its tokens."""
        admin = self.admin(realm)
        existing = admin.get_user_id(username)
        if existing is not None:
            admin.delete_user(existing)
        with self._lock:
            self._tokens.pop((realm, username), None)
        user_id = admin.create_user(
            {
                "username": username,
                "email": email or f"{username}@example.org",
                "firstName": first_name or username.split("@")[0].title(),
                "lastName": last_name,
                "enabled": True,
                "emailVerified": verified,
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            }
        )
        if roles:
            admin.assign_realm_roles(user_id, [admin.get_realm_role(r) for r in roles])
        return user_id

    def user(self, username: str, realm: str = REALM) -> dict[str, Any] | None:
        admin = self.admin(realm)
        user_id = admin.get_user_id(username)
        return admin.get_user(user_id) if user_id else None

    def user_by_id(self, user_id: str, realm: str = REALM) -> dict[str, Any] | None:
        try:
            return self.admin(realm).get_user(user_id)
        except KeycloakGetError as exc:
            if exc.response_code == 404:
                return None
            raise

    def realm_roles(self, user_id: str, realm: str = REALM) -> set[str]:
        return {r["name"] for r in self.admin(realm).get_realm_roles_of_user(user_id)}

    def sessions(self, user_id: str, realm: str = REALM) -> list[dict[str, Any]]:
        return self.admin(realm).get_sessions(user_id)

    def client_secret(self, client_id: str, realm: str = REALM) -> str:
        """The secret Keycloak generated for a confidential client of the realm at import."""
        key = (realm, client_id)
        if key not in self._secrets:
            admin = self.admin(realm)
            self._secrets[key] = admin.get_client_secrets(admin.get_client_id(client_id))["value"]
        return self._secrets[key]

    # ---- tokens --------------------------------------------------------------------------------------

    def openid(self, client_id: str = TEST_CLIENT, realm: str = REALM, secret: str | None = None) -> KeycloakOpenID:
        return KeycloakOpenID(
            server_url=self.url, realm_name=realm, client_id=client_id, client_secret_key=secret, timeout=30
        )

    def token(
        self, username: str, password: str = PASSWORD, client_id: str = TEST_CLIENT, realm: str = REALM
    ) -> dict[str, Any]:
        """Keycloak's answer to the password grant (access, refresh and id tokens) through a test client."""
        return self.openid(client_id, realm).token(username, password)

    def access_token(self, username: str, password: str = PASSWORD, realm: str = REALM) -> str:
        """An access token of `username` from Keycloak, kept for reuse until 30 s before it expires."""
        key = (realm, username)
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and cached[1] - 30 > time.time():
            return cached[0]
        token = self.token(username, password, realm=realm)["access_token"]
        with self._lock:
            self._tokens[key] = (token, float(claims_of(token)["exp"]))
        return token

    def forget_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def client_token(self, client_id: str, realm: str = REALM) -> str:
        """A client-credentials token, as a meter gateway obtains it."""
        openid = self.openid(client_id, realm, secret=self.client_secret(client_id, realm))
        return openid.token(grant_type="client_credentials")["access_token"]

    def sign(self, claims: dict[str, Any], key: jwk.JWK | None = None, header: dict[str, Any] | None = None) -> str:
        """Claims signed RS256 by `key` (default: the realm's published test key), its kid in the header."""
        key = key or self.signer
        assert key is not None, "prepare() imports the test signing key"
        protected = {"alg": "RS256", "typ": "JWT", "kid": key.key_id, **(header or {})}
        token = jws.JWS(json_encode(claims).encode())
        token.add_signature(key, alg="RS256", protected=json_encode(protected))
        return token.serialize(compact=True)

    def forge(self, username: str, **overrides: Any) -> str:
        """A real access token's claims with `overrides` (None removes a claim), signed by the realm's test key."""
        claims = {**claims_of(self.access_token(username)), **overrides}
        return self.sign({k: v for k, v in claims.items() if v is not None})

    def mint(self, username: str, client_id: str | None = None, **overrides: Any) -> str:
        """An access token of `username` (of the service account of `client_id` when given) issued by Keycloak;
        with `overrides`, its claims changed (None removes one) and signed by the realm's published test key."""
        token = self.client_token(client_id) if client_id is not None else self.access_token(username)
        if not overrides:
            return token
        claims = {**claims_of(token), **overrides}
        return self.sign({k: v for k, v in claims.items() if v is not None})

    # ---- e-mail --------------------------------------------------------------------------------------

    def verify_email(self, address: str, count: int = 1) -> None:
        """Open the link of the `count`-th mail to `address` and confirm, as the person does in a browser."""
        session = requests.Session()
        page = session.get(link(self.mail.wait_for(address, count)), timeout=30)
        page.raise_for_status()
        # Keycloak's cookies are `Secure`; browsers send them to a loopback address over http, Python's cookie
        # jar does not, so they are marked sendable here.
        for cookie in session.cookies:
            cookie.secure = False
        proceed = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page.text) if "login-actions" in h]
        if proceed:  # "Confirm validity of e-mail address … Click here to proceed"
            page = session.get(proceed[0], timeout=30)
            page.raise_for_status()
        assert "Your account has been updated" in page.text or "verified" in page.text.lower(), page.text[-2000:]
