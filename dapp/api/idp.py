"""The identity provider's admin side, through python-keycloak: users, e-mail verification, roles, logout.

The API's own confidential client (`lec-api`) authenticates with client credentials; its service account holds
the realm-management roles `manage-users` (create, edit and delete users, map their realm roles, end their
sessions, send the verification e-mail) and `view-realm` (read a realm role by name, to grant it), nothing else
(the realm file grants them; docs/identity.md says why each).
"""

from __future__ import annotations

import threading
from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenID
from keycloak.exceptions import KeycloakError

from lec.settings import Settings


class IdentityProviderError(RuntimeError):
    """Keycloak refused or could not be reached; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


def _describe(exc: KeycloakError) -> str:
    body = exc.response_body.decode(errors="replace") if isinstance(exc.response_body, bytes) else exc.response_body
    return f"{exc.response_code}: {body}"


class IdentityProvider:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._admin: KeycloakAdmin | None = None
        self._lock = threading.Lock()

    def _secret(self) -> str | None:
        return self._settings.client_secret.get_secret_value() if self._settings.client_secret else None

    def admin(self) -> KeycloakAdmin:
        with self._lock:
            if self._admin is None:
                if self._secret() is None:
                    raise IdentityProviderError(
                        "The API has no client secret for Keycloak's admin API: set LEC_API_CLIENT_SECRET.", 503
                    )
                self._admin = KeycloakAdmin(
                    server_url=self._settings.keycloak_url,
                    realm_name=self._settings.keycloak_realm,
                    client_id=self._settings.client_id,
                    client_secret_key=self._secret(),
                    timeout=10,
                )
            return self._admin

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KeycloakError as exc:
            if exc.response_code == 409:
                raise IdentityProviderError(
                    f"Keycloak refused to {what}: an account with that e-mail exists.", 409
                ) from exc
            if exc.response_code == 404:
                raise IdentityProviderError(f"Keycloak could not {what}: the account does not exist.", 404) from exc
            raise IdentityProviderError(f"Keycloak refused to {what} ({_describe(exc)}).") from exc
        except OSError as exc:
            raise IdentityProviderError(f"Keycloak could not be reached to {what}: {exc}.", 503) from exc

    def register(self, email: str, password: str, first_name: str, last_name: str) -> str:
        """Create the account (enabled, e-mail not yet verified) and ask Keycloak to send the verification."""
        admin = self.admin()
        user_id: str = self._call(
            "create the account",
            admin.create_user,
            {
                "username": email,
                "email": email,
                "firstName": first_name,
                "lastName": last_name,
                "enabled": True,
                "emailVerified": False,
                "requiredActions": ["VERIFY_EMAIL"],
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            },
        )
        self._call("send the verification e-mail", admin.send_verify_email, user_id, client_id="lec-dapp")
        return user_id

    def send_verification(self, user_id: str) -> None:
        """Ask Keycloak to send the verification e-mail again (after the address changed)."""
        self._call("send the verification e-mail", self.admin().send_verify_email, user_id, client_id="lec-dapp")

    def update_profile(self, user_id: str, changes: dict[str, Any]) -> None:
        self._call("update the profile", self.admin().update_user, user_id, changes)

    def grant_realm_role(self, user_id: str, role: str) -> None:
        admin = self.admin()
        representation = self._call(f"find the role {role}", admin.get_realm_role, role)
        self._call(f"grant the role {role}", admin.assign_realm_roles, user_id, [representation])

    def revoke_realm_role(self, user_id: str, role: str) -> None:
        admin = self.admin()
        representation = self._call(f"find the role {role}", admin.get_realm_role, role)
        self._call(f"revoke the role {role}", admin.delete_realm_roles_of_user, user_id, [representation])

    def delete_user(self, user_id: str) -> None:
        """End every session of the account (its refresh tokens stop working, clients are told through
        back-channel logout), then delete it."""
        admin = self.admin()
        self._call("end the sessions of the account", admin.user_logout, user_id)
        self._call("delete the account", admin.delete_user, user_id)

    def logout(self, refresh_token: str, client_id: str) -> None:
        """End the Keycloak session of a refresh token issued to `client_id` (the dApp's public client)."""
        openid = KeycloakOpenID(
            server_url=self._settings.keycloak_url,
            realm_name=self._settings.keycloak_realm,
            client_id=client_id,
            timeout=10,
        )
        try:
            openid.logout(refresh_token)
        except KeycloakError as exc:
            raise IdentityProviderError(
                f"Keycloak did not end the session ({_describe(exc)}): the refresh token is invalid or expired.", 400
            ) from exc
        except OSError as exc:
            raise IdentityProviderError(f"Keycloak could not be reached to log out: {exc}.", 503) from exc
