"""What every page shares: who is signed in, which pages each role sees, pickers and error display."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

import streamlit as st

from dapp.client import Api, Chain, ClientError
from oracle.chain.contracts import DeploymentError

IDENTITY_KEY = "identity"
USER_ERRORS = (ClientError, DeploymentError)
T = TypeVar("T")

ROLES = ("token-holder", "community-admin", "oracle-admin", "token-admin", "auditor", "platform-admin")


@dataclass(frozen=True)
class Identity:
    """The signed-in person: their realm roles and the bearer token the API accepts for them."""

    username: str
    name: str
    roles: frozenset[str]
    token: str | None = None
    community_id: int | None = None
    wallet: str | None = None
    source: str = "keycloak"
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


def identity_from_claims(claims: dict[str, Any], token: str | None, source: str = "keycloak") -> Identity:
    """An identity from Keycloak's token layout (`realm_access.roles`, `preferred_username`)."""
    roles = frozenset(r for r in (claims.get("realm_access") or {}).get("roles", []) if r in ROLES)
    community = claims.get("community_id")
    return Identity(
        username=str(claims.get("preferred_username") or claims.get("sub") or "unknown"),
        name=str(claims.get("name") or claims.get("preferred_username") or "unknown"),
        roles=roles,
        token=token,
        community_id=int(community) if isinstance(community, int | str) and str(community).isdigit() else None,
        wallet=claims.get("wallet"),
        source=source,
        claims=claims,
    )


def oidc_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an `[auth]` section, so `st.login` can reach Keycloak."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def dev_identity_enabled() -> bool:
    return os.environ.get("LEC_DEV_IDENTITY", "").lower() in {"1", "true", "yes"}


def current_identity() -> Identity | None:
    """The dev identity chosen in this session, else the Keycloak user of `st.login`, else nobody."""
    chosen = st.session_state.get(IDENTITY_KEY)
    if isinstance(chosen, Identity):
        return chosen
    if oidc_configured() and st.user.get("is_logged_in"):
        tokens = st.user.get("tokens") or {}
        claims = {k: st.user.get(k) for k in ("sub", "preferred_username", "name", "realm_access", "community_id")}
        return identity_from_claims(claims, tokens.get("access"))
    return None


def api(identity: Identity | None) -> Api:
    return Api(identity.token if identity else None)


@st.cache_resource
def chain() -> Chain:
    return Chain()


def show_error(message: str) -> None:
    st.error(message, icon=":material/error:")


@contextmanager
def sentences() -> Iterator[None]:
    """Shows the platform's refusals as the sentences they are, instead of tracebacks."""
    try:
        yield
    except USER_ERRORS as exc:
        show_error(str(exc))


def attempt(load: Callable[[], T]) -> T | None:
    try:
        return load()
    except USER_ERRORS as exc:
        show_error(str(exc))
        return None


def period_picker(prefix: str, default_days: int = 7, latest: date | None = None) -> tuple[date, date]:
    """A date range (both ends included) with quick choices; keys are prefixed by the page."""
    end_default = latest or date.today() - timedelta(days=1)
    choice = st.segmented_control(
        "Period",
        ["Last day", "Last week", "Last month", "Custom"],
        default="Last week" if default_days == 7 else "Last month",
        key=f"{prefix}_period_choice",
        help="The settlement period is a local calendar day (Europe/Rome); longer periods add days up.",
    )
    if choice == "Last day":
        return end_default, end_default
    if choice == "Last month":
        return end_default - timedelta(days=29), end_default
    if choice == "Custom":
        picked = st.date_input(
            "From – to", (end_default - timedelta(days=6), end_default), key=f"{prefix}_period_custom"
        )
        if isinstance(picked, tuple) and len(picked) == 2:
            return picked[0], picked[1]
        st.info("Pick the last day of the period too.")
        st.stop()
    return end_default - timedelta(days=6), end_default


def community_picker(prefix: str, identity: Identity) -> int:
    """The community the page is about: the user's own, or any for platform-wide roles."""
    if identity.community_id is not None and not identity.has("platform-admin", "auditor"):
        return identity.community_id
    communities = attempt(lambda: chain().communities()) or []
    if not communities:
        return identity.community_id or 1
    names = {c.id: f"{c.id} · {c.name}" for c in communities}
    ids = list(names)
    default = ids.index(identity.community_id) if identity.community_id in ids else 0
    return st.selectbox("Community", ids, index=default, format_func=names.get, key=f"{prefix}_community")
