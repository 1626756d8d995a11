"""The dev realm: a local HTTP server answering the Keycloak endpoints python-keycloak calls.

Keycloak itself (a Java server) cannot be installed on our machines, so the API's client code is exercised
against this: the same URLs, request encodings, status codes and JSON shapes as Keycloak 24+, a real RSA key
published as a JWK set, and access tokens in Keycloak's claim layout (`iss`, `aud` from the audience mapper,
`azp`, `sid`, `realm_access.roles`, `resource_access`, `preferred_username`…). It reads the realm export
`realm-lec.json` beside this module (roles, clients, audience mapper, service accounts), so the file the
operator imports into the real server is the one the tests run on.

Two users: the tests (tests/api, tests/dapp, benchmarks/api.py) and the demo's dev identity mode
(:mod:`dapp.api.dev_identity`, `lec api --dev-identity`), which serves the demo's tokens from it. That second
user is why it lives in the application and not under tests/: it moves there once the demo runs against a real
Keycloak (a later issue). It is named `dev_realm`, not `keycloak`, so that nothing shadows python-keycloak's
`keycloak` package, whichever folder is first on `sys.path`.

Covered: well-known, certs, realm (public key), token (password, client_credentials, refresh_token),
userinfo, logout, introspect, and the admin API for users, realm roles, role mappings, verify-email and
user logout. Not covered: the browser flows (authorization code, PKCE) — they happen between the browser and
Keycloak and the API never sees them.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jwcrypto import jwk, jws, jwt

REALM_FILE = Path(__file__).with_name("realm-lec.json")
ACCESS_TOKEN_LIFESPAN = 300
REFRESH_TOKEN_LIFESPAN = 1800


class KeycloakError(Exception):
    """An error answered as Keycloak does: a status and an OAuth-style or admin-style JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _oauth_error(status: int, error: str, description: str) -> KeycloakError:
    return KeycloakError(status, {"error": error, "error_description": description})


@dataclass
class User:
    id: str
    username: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    enabled: bool = True
    email_verified: bool = False
    password: str | None = None
    realm_roles: set[str] = field(default_factory=set)
    client_roles: dict[str, set[str]] = field(default_factory=dict)
    service_account_client_id: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    required_actions: list[str] = field(default_factory=list)
    created_timestamp: int = field(default_factory=lambda: int(time.time() * 1000))

    def representation(self) -> dict[str, Any]:
        rep: dict[str, Any] = {
            "id": self.id,
            "username": self.username,
            "enabled": self.enabled,
            "emailVerified": self.email_verified,
            "createdTimestamp": self.created_timestamp,
            "requiredActions": list(self.required_actions),
            "attributes": {k: list(v) for k, v in self.attributes.items()},
        }
        for key, value in (("email", self.email), ("firstName", self.first_name), ("lastName", self.last_name)):
            if value is not None:
                rep[key] = value
        if self.service_account_client_id:
            rep["serviceAccountClientId"] = self.service_account_client_id
        return rep


@dataclass
class Client:
    client_id: str
    public: bool
    secret: str | None
    direct_access_grants: bool
    service_accounts: bool
    audiences: list[str]
    web_origins: list[str]


@dataclass
class Session:
    id: str
    user_id: str
    client_id: str
    started: int


class Realm:
    """The state of one realm: keys, clients, roles, users, sessions and the e-mails Keycloak would send."""

    def __init__(self, export: dict[str, Any], client_secrets: dict[str, str]) -> None:
        self.name: str = export["realm"]
        self.access_token_lifespan = int(export.get("accessTokenLifespan", ACCESS_TOKEN_LIFESPAN))
        self.roles: dict[str, dict[str, Any]] = {
            r["name"]: {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/role/{r['name']}")),
                "name": r["name"],
                "description": r.get("description", ""),
                "composite": False,
                "clientRole": False,
                "containerId": self.name,
            }
            for r in export.get("roles", {}).get("realm", [])
        }
        scopes = {s["name"]: s for s in export.get("clientScopes", [])}
        self.clients: dict[str, Client] = {}
        for c in export.get("clients", []):
            audiences = [
                m["config"]["included.client.audience"]
                for scope in c.get("defaultClientScopes", [])
                for m in scopes.get(scope, {}).get("protocolMappers", [])
                if m.get("protocolMapper") == "oidc-audience-mapper" and m["config"].get("access.token.claim") == "true"
            ]
            public = bool(c.get("publicClient", False))
            self.clients[c["clientId"]] = Client(
                client_id=c["clientId"],
                public=public,
                secret=None if public else client_secrets.get(c["clientId"], secrets.token_urlsafe(24)),
                direct_access_grants=bool(c.get("directAccessGrantsEnabled", False)),
                service_accounts=bool(c.get("serviceAccountsEnabled", False)),
                audiences=audiences,
                web_origins=list(c.get("webOrigins", [])),
            )
        self.users: dict[str, User] = {}
        for u in export.get("users", []):
            user = User(
                id=str(uuid.uuid4()),
                username=u["username"].lower(),
                email=u.get("email"),
                enabled=u.get("enabled", True),
                realm_roles=set(u.get("realmRoles", [])),
                client_roles={k: set(v) for k, v in u.get("clientRoles", {}).items()},
                service_account_client_id=u.get("serviceAccountClientId"),
            )
            self.users[user.id] = user
        self.sessions: dict[str, Session] = {}
        self.outbox: list[dict[str, Any]] = []
        self.keys: list[jwk.JWK] = []
        self.rotate_key()
        self.lock = threading.RLock()

    # ---- keys and signing ------------------------------------------------------------------------------

    def rotate_key(self) -> str:
        """Add a fresh RSA key and make it the signing key (old keys stay published, as in Keycloak)."""
        key = jwk.JWK.generate(kty="RSA", size=2048, kid=secrets.token_urlsafe(32), use="sig", alg="RS256")
        self.keys.append(key)
        return str(key.key_id)

    @property
    def signing_key(self) -> jwk.JWK:
        return self.keys[-1]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [json.loads(k.export_public()) for k in self.keys]}

    def sign(self, claims: dict[str, Any], key: jwk.JWK | None = None, header: dict[str, Any] | None = None) -> str:
        """An RS256 JWS over `claims` with Keycloak's header (`alg`, `typ`, `kid`)."""
        key = key or self.signing_key
        token = jwt.JWT(header={"alg": "RS256", "typ": "JWT", "kid": key.key_id, **(header or {})}, claims=claims)
        token.make_signed_token(key)
        return str(token.serialize())

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a token this realm signed and that is still valid, or a 401 as Keycloak answers."""
        keyset = jwk.JWKSet()
        for k in self.keys:
            keyset.add(k)
        try:
            parsed = jwt.JWT(jwt=token, key=keyset, algs=["RS256"], check_claims={"exp": None})
            claims: dict[str, Any] = json.loads(parsed.claims)
        except (jwt.JWTExpired, jwt.JWException, jws.InvalidJWSSignature, jws.InvalidJWSObject, ValueError) as exc:
            raise _oauth_error(401, "invalid_token", f"Token verification failed: {exc}") from exc
        sid = claims.get("sid")
        if sid is not None and sid not in self.sessions:
            raise _oauth_error(401, "invalid_token", "Session not active")
        return claims

    # ---- tokens ----------------------------------------------------------------------------------------

    def issuer(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/realms/{self.name}"

    def access_claims(self, base_url: str, user: User, client: Client, session: Session | None) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "exp": now + self.access_token_lifespan,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer(base_url),
            "sub": user.id,
            "typ": "Bearer",
            "azp": client.client_id,
            "acr": "1",
            "allowed-origins": client.web_origins,
            "realm_access": {"roles": sorted(user.realm_roles | {f"default-roles-{self.name}"})},
            "resource_access": {c: {"roles": sorted(r)} for c, r in user.client_roles.items() if r},
            "scope": "openid profile email",
            "email_verified": user.email_verified,
            "preferred_username": user.username,
        }
        audiences = [a for a in client.audiences if a != client.client_id] + list(claims["resource_access"])
        if audiences:
            claims["aud"] = audiences[0] if len(audiences) == 1 else audiences
        if session is not None:
            claims["sid"] = session.id
        if user.service_account_client_id:
            claims.update(client_id=client.client_id, clientHost="127.0.0.1", clientAddress="127.0.0.1")
        else:
            if user.email:
                claims["email"] = user.email
            if user.first_name or user.last_name:
                claims["name"] = " ".join(p for p in (user.first_name, user.last_name) if p)
            if user.first_name:
                claims["given_name"] = user.first_name
            if user.last_name:
                claims["family_name"] = user.last_name
        return claims

    def token_response(self, base_url: str, user: User, client: Client, session: Session | None) -> dict[str, Any]:
        access = self.sign(self.access_claims(base_url, user, client, session))
        response: dict[str, Any] = {
            "access_token": access,
            "expires_in": self.access_token_lifespan,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "openid profile email",
        }
        if session is not None:
            now = int(time.time())
            refresh_claims = {
                "exp": now + REFRESH_TOKEN_LIFESPAN,
                "iat": now,
                "jti": str(uuid.uuid4()),
                "iss": self.issuer(base_url),
                "aud": self.issuer(base_url),
                "sub": user.id,
                "typ": "Refresh",
                "azp": client.client_id,
                "sid": session.id,
                "scope": "openid profile email",
            }
            response.update(
                refresh_token=self.sign(refresh_claims),
                refresh_expires_in=REFRESH_TOKEN_LIFESPAN,
                session_state=session.id,
            )
        return response

    def find_user(self, username: str) -> User | None:
        lowered = username.lower()
        return next((u for u in self.users.values() if u.username == lowered or u.email == lowered), None)

    def service_account(self, client_id: str) -> User:
        user = next((u for u in self.users.values() if u.service_account_client_id == client_id), None)
        if user is None:
            user = User(
                id=str(uuid.uuid4()), username=f"service-account-{client_id}", service_account_client_id=client_id
            )
            self.users[user.id] = user
        return user


def _authenticate_client(realm: Realm, form: dict[str, str], authorization: str | None) -> Client:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if authorization and authorization.lower().startswith("basic "):
        decoded = base64.b64decode(authorization[6:]).decode()
        client_id, _, secret = decoded.partition(":")
    client = realm.clients.get(client_id or "")
    if client is None:
        raise _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    if not client.public and (secret is None or not secrets.compare_digest(secret, client.secret or "")):
        raise _oauth_error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
    return client


class KeycloakStandIn:
    """One realm served over HTTP on a loopback port, in a background thread.

    >>> with KeycloakStandIn(client_secrets={"lec-api": "s3"}) as kc:  # doctest: +SKIP
    ...     KeycloakOpenID(server_url=kc.url, realm_name="lec", client_id="lec-dapp").token("alice", "pw")
    """

    def __init__(
        self,
        realm_file: Path = REALM_FILE,
        client_secrets: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.realm = Realm(json.loads(realm_file.read_text()), client_secrets or {})
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def issuer(self) -> str:
        return self.realm.issuer(self.url)

    def start(self) -> KeycloakStandIn:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="keycloak-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> KeycloakStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- helpers for tests and the demo ----------------------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        roles: list[str] | tuple[str, ...] = (),
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> str:
        """Create an enabled, verified user with realm roles; returns its id (the token's `sub`)."""
        with self.realm.lock:
            unknown = set(roles) - set(self.realm.roles)
            if unknown:
                raise ValueError(f"Roles {sorted(unknown)} are not realm roles of {self.realm.name}.")
            user = User(
                id=str(uuid.uuid4()),
                username=username.lower(),
                email=(email or f"{username}@example.org").lower(),
                first_name=first_name,
                last_name=last_name,
                email_verified=True,
                password=password,
                realm_roles=set(roles),
            )
            self.realm.users[user.id] = user
            return user.id

    def client_secret(self, client_id: str) -> str:
        secret = self.realm.clients[client_id].secret
        if secret is None:
            raise ValueError(f"{client_id} is a public client and has no secret.")
        return secret

    def mint(self, username: str, client_id: str = "lec-dapp", **overrides: Any) -> str:
        """An access token for `username` as the token endpoint would issue it, with claims overridden."""
        with self.realm.lock:
            user = self.realm.find_user(username)
            if user is None:
                raise ValueError(f"No user {username!r} in realm {self.realm.name}.")
            claims = self.realm.access_claims(self.url, user, self.realm.clients[client_id], None)
        claims.update(overrides)
        return self.realm.sign({k: v for k, v in claims.items() if v is not None})

    # ---- request handling ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple:
        """Route one request; returns (status, JSON body or None, extra headers)."""
        for pattern, route_method, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                if match.groupdict().get("realm") != self.realm.name:
                    return 404, {"error": "Realm does not exist"}, {}
                with self.realm.lock:
                    return handler(match.groupdict(), query, headers, body)
        return 404, {"error": "Unable to find matching target resource method"}, {}

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple]]]:
        oidc = r"/realms/(?P<realm>[^/]+)/protocol/openid-connect"
        admin = r"/admin/realms/(?P<realm>[^/]+)"
        return [
            (r"/realms/(?P<realm>[^/]+)/\.well-known/openid-configuration", "GET", self._well_known),
            (r"/realms/(?P<realm>[^/]+)", "GET", self._realm_info),
            (oidc + "/certs", "GET", self._certs),
            (oidc + "/token", "POST", self._token),
            (oidc + "/token/introspect", "POST", self._introspect),
            (oidc + "/userinfo", "GET", self._userinfo),
            (oidc + "/userinfo", "POST", self._userinfo),
            (oidc + "/logout", "POST", self._logout),
            (admin + "/users", "GET", self._admin(self._list_users, "view-users")),
            (admin + "/users", "POST", self._admin(self._create_user, "manage-users")),
            (admin + "/users/count", "GET", self._admin(self._count_users, "view-users")),
            (admin + "/users/(?P<id>[^/]+)", "GET", self._admin(self._get_user, "view-users")),
            (admin + "/users/(?P<id>[^/]+)", "PUT", self._admin(self._update_user, "manage-users")),
            (admin + "/users/(?P<id>[^/]+)", "DELETE", self._admin(self._delete_user, "manage-users")),
            (admin + "/users/(?P<id>[^/]+)/send-verify-email", "PUT", self._admin(self._verify_email, "manage-users")),
            (
                admin + "/users/(?P<id>[^/]+)/execute-actions-email",
                "PUT",
                self._admin(self._actions_email, "manage-users"),
            ),
            (admin + "/users/(?P<id>[^/]+)/logout", "POST", self._admin(self._user_logout, "manage-users")),
            (admin + "/users/(?P<id>[^/]+)/role-mappings/realm", "GET", self._admin(self._user_roles, "view-users")),
            (admin + "/users/(?P<id>[^/]+)/role-mappings/realm", "POST", self._admin(self._add_roles, "manage-users")),
            (
                admin + "/users/(?P<id>[^/]+)/role-mappings/realm",
                "DELETE",
                self._admin(self._del_roles, "manage-users"),
            ),
            (admin + "/roles", "GET", self._admin(self._list_roles, "view-realm")),
            (admin + "/roles/(?P<name>[^/]+)", "GET", self._admin(self._get_role, "view-realm")),
        ]

    # ---- OpenID Connect endpoints -------------------------------------------------------------------------

    def _well_known(self, *_: Any) -> tuple:
        base = f"{self.issuer}/protocol/openid-connect"
        return (
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{base}/auth",
                "token_endpoint": f"{base}/token",
                "introspection_endpoint": f"{base}/token/introspect",
                "userinfo_endpoint": f"{base}/userinfo",
                "end_session_endpoint": f"{base}/logout",
                "jwks_uri": f"{base}/certs",
                "grant_types_supported": ["authorization_code", "refresh_token", "password", "client_credentials"],
                "response_types_supported": ["code"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["plain", "S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            },
            {},
        )

    def _realm_info(self, *_: Any) -> tuple:
        pem = self.realm.signing_key.export_to_pem().decode()
        body = "".join(pem.strip().splitlines()[1:-1])
        return (
            200,
            {"realm": self.realm.name, "public_key": body, "token-service": f"{self.issuer}/protocol/openid-connect"},
            {},
        )

    def _certs(self, *_: Any) -> tuple:
        return 200, self.realm.jwks(), {}

    def _token(self, _params: dict, _query: dict, headers: dict[str, str], body: bytes) -> tuple:
        form = _form(body)
        client = _authenticate_client(self.realm, form, headers.get("authorization"))
        grant = form.get("grant_type", "")
        realm = self.realm
        if grant == "password":
            if not client.direct_access_grants:
                raise _oauth_error(400, "unauthorized_client", "Client not allowed for direct access grants")
            user = realm.find_user(form.get("username", ""))
            if (
                user is None
                or user.password is None
                or not secrets.compare_digest(user.password, form.get("password", ""))
            ):
                raise _oauth_error(401, "invalid_grant", "Invalid user credentials")
            if not user.enabled:
                raise _oauth_error(400, "invalid_grant", "Account disabled")
            if not user.email_verified and "VERIFY_EMAIL" in user.required_actions:
                raise _oauth_error(400, "invalid_grant", "Account is not fully set up")
            session = Session(
                id=str(uuid.uuid4()), user_id=user.id, client_id=client.client_id, started=int(time.time())
            )
            realm.sessions[session.id] = session
            return 200, realm.token_response(self.url, user, client, session), {}
        if grant == "client_credentials":
            if client.public or not client.service_accounts:
                raise _oauth_error(401, "unauthorized_client", "Client not enabled to retrieve service account")
            return 200, realm.token_response(self.url, realm.service_account(client.client_id), client, None), {}
        if grant == "refresh_token":
            try:
                claims = realm.verify(form.get("refresh_token", ""))
            except KeycloakError as exc:
                raise _oauth_error(400, "invalid_grant", "Invalid refresh token") from exc
            if claims.get("typ") != "Refresh" or claims.get("azp") != client.client_id:
                raise _oauth_error(400, "invalid_grant", "Invalid refresh token")
            user = realm.users.get(claims["sub"])
            if user is None or not user.enabled:
                raise _oauth_error(400, "invalid_grant", "Session not active")
            return 200, realm.token_response(self.url, user, client, realm.sessions[claims["sid"]]), {}
        raise _oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}")

    def _bearer_claims(self, headers: dict[str, str]) -> dict[str, Any]:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise _oauth_error(401, "invalid_request", "Token not provided")
        return self.realm.verify(auth[7:].strip())

    def _userinfo(self, _params: dict, _query: dict, headers: dict[str, str], _body: bytes) -> tuple:
        claims = self._bearer_claims(headers)
        user = self.realm.users.get(claims["sub"])
        if user is None:
            raise _oauth_error(401, "invalid_token", "User not found")
        info = {"sub": user.id, "email_verified": user.email_verified, "preferred_username": user.username}
        for key in ("name", "given_name", "family_name", "email"):
            if key in claims:
                info[key] = claims[key]
        return 200, info, {}

    def _logout(self, _params: dict, _query: dict, headers: dict[str, str], body: bytes) -> tuple:
        form = _form(body)
        client = _authenticate_client(self.realm, form, headers.get("authorization"))
        try:
            claims = self.realm.verify(form.get("refresh_token", ""))
        except KeycloakError as exc:
            raise _oauth_error(400, "invalid_grant", "Invalid refresh token") from exc
        if claims.get("azp") != client.client_id:
            raise _oauth_error(
                400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"
            )
        self.realm.sessions.pop(claims.get("sid", ""), None)
        return 204, None, {}

    def _introspect(self, _params: dict, _query: dict, headers: dict[str, str], body: bytes) -> tuple:
        form = _form(body)
        client = _authenticate_client(self.realm, form, headers.get("authorization"))
        if client.public:
            raise _oauth_error(401, "invalid_request", "Client not allowed.")
        try:
            claims = self.realm.verify(form.get("token", ""))
        except KeycloakError:
            return 200, {"active": False}, {}
        user = self.realm.users.get(claims["sub"])
        if user is None or not user.enabled:
            return 200, {"active": False}, {}
        return (
            200,
            {**claims, "client_id": claims["azp"], "username": claims.get("preferred_username"), "active": True},
            {},
        )

    # ---- admin API -------------------------------------------------------------------------------------

    def _admin(self, handler: Callable[..., tuple], needed_role: str) -> Callable[..., tuple]:
        def guarded(params: dict, query: dict, headers: dict[str, str], body: bytes) -> tuple:
            try:
                claims = self._bearer_claims(headers)
            except KeycloakError:
                return 401, {"error": "HTTP 401 Unauthorized"}, {}
            granted = set(claims.get("resource_access", {}).get("realm-management", {}).get("roles", []))
            implied = {"manage-users": {"view-users"}, "view-realm": set()}
            if needed_role not in granted and not any(needed_role in implied.get(g, set()) for g in granted):
                return 403, {"error": "HTTP 403 Forbidden"}, {}
            return handler(params, query, body)

        return guarded

    def _user(self, user_id: str) -> User:
        user = self.realm.users.get(user_id)
        if user is None:
            raise KeycloakError(404, {"error": "User not found"})
        return user

    def _list_users(self, _params: dict, query: dict, _body: bytes) -> tuple:
        users = sorted(self.realm.users.values(), key=lambda u: u.username)
        exact = query.get("exact", "false").lower() == "true"
        for field_name in ("username", "email", "firstName", "lastName"):
            wanted = query.get(field_name)
            if wanted is None:
                continue
            attr = {"firstName": "first_name", "lastName": "last_name"}.get(field_name, field_name)
            wanted = wanted.lower()
            users = [
                u
                for u in users
                if (getattr(u, attr) or "").lower() == wanted
                or (not exact and wanted in (getattr(u, attr) or "").lower())
            ]
        if "search" in query:
            needle = query["search"].lower().strip("*")
            users = [u for u in users if needle in u.username or needle in (u.email or "")]
        first, maximum = int(query.get("first", 0)), int(query.get("max", 100))
        return 200, [u.representation() for u in users[first : first + maximum]], {}

    def _count_users(self, *_: Any) -> tuple:
        return 200, len(self.realm.users), {}

    def _create_user(self, _params: dict, _query: dict, body: bytes) -> tuple:
        rep = json.loads(body or b"{}")
        username = (rep.get("username") or rep.get("email") or "").lower()
        if not username:
            return 400, {"errorMessage": "User name is missing"}, {}
        if self.realm.find_user(username) is not None:
            return 409, {"errorMessage": "User exists with same username"}, {}
        email = (rep.get("email") or "").lower() or None
        if email and any(u.email == email for u in self.realm.users.values()):
            return 409, {"errorMessage": "User exists with same email"}, {}
        password = next((c["value"] for c in rep.get("credentials", []) if c.get("type") == "password"), None)
        user = User(
            id=str(uuid.uuid4()),
            username=username,
            email=email,
            first_name=rep.get("firstName"),
            last_name=rep.get("lastName"),
            enabled=rep.get("enabled", False),
            email_verified=rep.get("emailVerified", False),
            password=password,
            attributes=rep.get("attributes", {}),
            required_actions=list(rep.get("requiredActions", [])),
        )
        self.realm.users[user.id] = user
        return 201, None, {"Location": f"{self.url}admin/realms/{self.realm.name}/users/{user.id}"}

    def _get_user(self, params: dict, _query: dict, _body: bytes) -> tuple:
        return 200, self._user(params["id"]).representation(), {}

    def _update_user(self, params: dict, _query: dict, body: bytes) -> tuple:
        user, rep = self._user(params["id"]), json.loads(body or b"{}")
        for key, attr in (
            ("firstName", "first_name"),
            ("lastName", "last_name"),
            ("enabled", "enabled"),
            ("emailVerified", "email_verified"),
            ("attributes", "attributes"),
            ("requiredActions", "required_actions"),
        ):
            if key in rep:
                setattr(user, attr, rep[key])
        if "email" in rep and rep["email"] != user.email:
            email = (rep["email"] or "").lower() or None
            if email and any(u.email == email and u.id != user.id for u in self.realm.users.values()):
                return 409, {"errorMessage": "User exists with same email"}, {}
            user.email, user.email_verified = email, False
        return 204, None, {}

    def _delete_user(self, params: dict, _query: dict, _body: bytes) -> tuple:
        user = self._user(params["id"])
        del self.realm.users[user.id]
        for sid in [s.id for s in self.realm.sessions.values() if s.user_id == user.id]:
            del self.realm.sessions[sid]
        return 204, None, {}

    def _verify_email(self, params: dict, query: dict, _body: bytes) -> tuple:
        user = self._user(params["id"])
        if not user.email:
            return 400, {"errorMessage": "User email missing"}, {}
        self.realm.outbox.append({"to": user.email, "action": "VERIFY_EMAIL", "client_id": query.get("client_id")})
        return 204, None, {}

    def _actions_email(self, params: dict, query: dict, body: bytes) -> tuple:
        user = self._user(params["id"])
        self.realm.outbox.append({"to": user.email, "actions": json.loads(body or b"[]")})
        return 204, None, {}

    def _user_logout(self, params: dict, _query: dict, _body: bytes) -> tuple:
        user = self._user(params["id"])
        for sid in [s.id for s in self.realm.sessions.values() if s.user_id == user.id]:
            del self.realm.sessions[sid]
        return 204, None, {}

    def _user_roles(self, params: dict, _query: dict, _body: bytes) -> tuple:
        user = self._user(params["id"])
        return 200, [self.realm.roles[r] for r in sorted(user.realm_roles) if r in self.realm.roles], {}

    def _role_names(self, body: bytes) -> set[str]:
        names = {r["name"] for r in json.loads(body or b"[]")}
        unknown = names - set(self.realm.roles)
        if unknown:
            raise KeycloakError(404, {"error": f"Could not find role: {sorted(unknown)[0]}"})
        return names

    def _add_roles(self, params: dict, _query: dict, body: bytes) -> tuple:
        user = self._user(params["id"])
        user.realm_roles |= self._role_names(body)
        return 204, None, {}

    def _del_roles(self, params: dict, _query: dict, body: bytes) -> tuple:
        user = self._user(params["id"])
        user.realm_roles -= self._role_names(body)
        return 204, None, {}

    def _list_roles(self, *_: Any) -> tuple:
        return 200, list(self.realm.roles.values()), {}

    def _get_role(self, params: dict, _query: dict, _body: bytes) -> tuple:
        role = self.realm.roles.get(params["name"])
        if role is None:
            return 404, {"error": "Could not find role"}, {}
        return 200, role, {}


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def _handler_for(server: KeycloakStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # One request per connection: stopping the server then really ends every conversation with it.
        protocol_version = "HTTP/1.0"

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                status, payload, extra = server.handle(method, parts.path.rstrip("/") or "/", query, headers, body)
            except KeycloakError as exc:
                status, payload, extra = exc.status, exc.body, {}
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._dispatch("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._dispatch("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._dispatch("PUT")

        def do_DELETE(self) -> None:  # noqa: N802
            self._dispatch("DELETE")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            # Quiet: tests and the demo would otherwise print one line per request.
            pass

    return Handler
