"""Signing in: Keycloak through Streamlit's native OIDC (`st.login`: authorization code with PKCE S256, the
password typed on Keycloak's own page, `/oauth2callback`; `st.logout` ends the Keycloak session too through its
end-session endpoint with the ID token as hint), or, in the explicit dev identity mode only (`lec dapp
--dev-identity`), a username and password sent to the local dev realm's token endpoint."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt
import streamlit as st
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakConnectionError, KeycloakError

from dapp.client import ClientError
from dapp.i18n import current_language, t
from dapp.views import common
from lec.settings import get_settings

DEFAULT_KEYCLOAK_URL = "http://127.0.0.1:8080/"


def dev_accounts() -> dict[str, Any]:
    """What the API's dev identity wrote for the demo (`$LEC_DATA_DIR/dev-identity.json`): its realm server's
    URL and the demo users' generated passwords. Empty when the API runs against a real Keycloak."""
    path = get_settings().data_dir / "dev-identity.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def keycloak() -> KeycloakOpenID:
    dev = dev_accounts()
    settings = get_settings()
    return KeycloakOpenID(
        server_url=settings.dapp_keycloak_url or dev.get("keycloak_url") or DEFAULT_KEYCLOAK_URL,
        realm_name=settings.dapp_keycloak_realm or dev.get("realm") or "lec",
        client_id=settings.dapp_keycloak_client or dev.get("dapp_client_id") or "lec-dapp",
    )


def dev_sign_in(username: str, password: str) -> common.Identity:
    """A token from the realm's token endpoint for a demo user; the API validates it like any other."""
    try:
        reply = keycloak().token(username, password)
    except KeycloakAuthenticationError as exc:
        raise ClientError(t("signin.wrong_password")) from exc
    except KeycloakConnectionError as exc:
        raise ClientError(t("signin.keycloak_down")) from exc
    except KeycloakError as exc:
        raise ClientError(t("signin.refused", detail=repr(exc.error_message))) from exc
    token = reply["access_token"]
    # Decoded only to label the session and choose pages; the API verifies every request's signature.
    claims = jwt.decode(token, options={"verify_signature": False})
    return common.identity_from_claims(claims, token, source="demo")


def _demo_sign_in() -> None:
    st.session_state.pop("signin_error", None)
    username = st.session_state.get("signin_username", "")
    password = st.session_state.get("signin_password", "")
    if not password:
        # The demo's users and passwords come from the API's dev identity file, so nobody has to copy them.
        password = dev_accounts().get("users", {}).get(username, {}).get("password", "")
    try:
        identity = dev_sign_in(username, password)
    except ClientError as exc:
        st.session_state["signin_error"] = str(exc)
        return
    st.session_state[common.IDENTITY_KEY] = identity
    st.session_state.pop("signin_password", None)


def _sign_out() -> None:
    identity = st.session_state.pop(common.IDENTITY_KEY, None)
    if identity is None and common.oidc_configured():
        st.logout()  # to Keycloak's end-session endpoint, which ends its session and sends the browser back


def registration_url() -> str | None:
    """Keycloak's own registration page for the dApp's client (the password never passes through the dApp), in the
    dApp's language. The realm verifies e-mail addresses, so Keycloak 26.7 asks there for the username, e-mail and
    names only, mails a link, and asks for the password once the link is opened (nobody can pre-register another
    person's address with a password of their own). Back at the dApp, the newcomer signs in (Keycloak's session:
    no password again) and asks to join a community on the Account page."""
    if not common.oidc_configured():
        return None
    try:
        metadata = str(st.secrets["auth"]["keycloak"]["server_metadata_url"])
        redirect = str(st.secrets["auth"]["redirect_uri"]).removesuffix("/oauth2callback")
        client = str(st.secrets["auth"]["keycloak"]["client_id"])
    except (KeyError, FileNotFoundError):
        return None
    issuer = metadata.removesuffix("/.well-known/openid-configuration")
    # The realm's dApp client requires PKCE (S256): without a challenge Keycloak answers the registrations endpoint
    # by sending the browser straight back with `error=invalid_request`, i.e. to Home. The code Keycloak returns
    # after the registration is never exchanged (the newcomer then signs in), so the verifier is not kept.
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode(
        {
            "client_id": client,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": redirect + "/",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "ui_locales": current_language(),  # Keycloak's pages and its e-mail in the dApp's language
        }
    )
    return f"{issuer}/protocol/openid-connect/registrations?{query}"


def renew_keycloak_sign_in() -> None:
    """Streamlit keeps the access token of the sign-in but no refresh token, so a session longer than the token
    (5 minutes) signs in again before it expires: the browser goes through Keycloak, which answers at once while its
    own session lives (30 minutes idle, 10 hours at most) and asks for the password once it has ended."""
    st.caption(t("signin.renewing"))
    st.login("keycloak")
    st.stop()


def sign_in_sidebar(identity: common.Identity | None) -> None:
    if identity is not None:
        roles = ", ".join(t(f"signin.role_{r}") for r in sorted(identity.roles)) or t("signin.no_role")
        st.markdown(f"**{common.plain(identity.name)}**  \n{roles}")
        st.button(t("signin.sign_out"), key="signin_out", on_click=_sign_out)
        return
    if common.oidc_configured():
        st.button(t("signin.sign_in"), key="signin_keycloak", on_click=st.login, args=("keycloak",), type="primary")
        st.caption(t("signin.password_where"))
    if common.dev_identity_enabled():
        with st.container(border=True):
            st.caption(t("signin.demo"))
            demo_users = sorted(dev_accounts().get("users", {}))
            if demo_users:
                st.selectbox(t("signin.demo_user"), demo_users, key="signin_username")
            else:
                st.text_input(t("signin.username"), key="signin_username")
                st.text_input(t("signin.password"), type="password", key="signin_password")
            st.button(t("signin.sign_in"), key="signin_demo", on_click=_demo_sign_in)
            if st.session_state.get("signin_error"):
                common.show_error(st.session_state["signin_error"])
    if not common.oidc_configured() and not common.dev_identity_enabled():
        st.warning(t("signin.not_configured"))
