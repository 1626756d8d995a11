"""What every page shares: who is signed in, which pages each role sees, pickers and error display."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

import streamlit as st
from eth_typing import HexStr

from dapp.client import Api, Chain, ClientError
from dapp.components import calls, wallet
from lec.chain.contracts import DeploymentError
from lec.settings import get_settings

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
    chain_community_id: int | None = None  # the token's optional `community_id` claim: a Registry id
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
        chain_community_id=int(community) if isinstance(community, int | str) and str(community).isdigit() else None,
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
    return get_settings().dapp_dev_identity


def current_identity() -> Identity | None:
    """The dev identity chosen in this session, else the Keycloak user of `st.login`, else nobody."""
    chosen = st.session_state.get(IDENTITY_KEY)
    if isinstance(chosen, Identity):
        return chosen
    if oidc_configured() and st.user.get("is_logged_in"):
        tokens = st.user.get("tokens")
        access = tokens.get("access") if isinstance(tokens, Mapping) else None
        claims = {k: st.user.get(k) for k in ("sub", "preferred_username", "name", "realm_access", "community_id")}
        return identity_from_claims(claims, access)
    return None


def signed_in() -> Identity:
    """The signed-in person; a page for signed-in people only stops here for anyone else."""
    identity = current_identity()
    if identity is None:
        st.stop()
    return identity


def api(identity: Identity | None) -> Api:
    return Api(identity.token if identity else None)


@st.cache_resource
def chain() -> Chain:
    return Chain()


_MARKDOWN = re.compile(r"""([!-/:-@\[-`{-~])""")  # every ASCII punctuation mark; CommonMark lets each be escaped


def plain(text: str) -> str:
    """`text` (typed by someone else: a name, a bundle's fields) for Streamlit's markdown elements, shown as typed:
    links, images, emphasis, headings, math and HTML all escaped, lines joined (Streamlit does not render HTML in
    markdown, but an image link would make the reader's browser fetch an address of the writer's choosing)."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.splitlines()))


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


def chain_community_picker(prefix: str, identity: Identity) -> int:
    """The Registry's id of the community the page is about: the user's own, or any for platform-wide roles."""
    own = identity.chain_community_id
    if own is not None and not identity.has("platform-admin", "auditor"):
        return own
    communities = attempt(lambda: chain().communities()) or []
    if not communities:
        return own or 1
    names = {c.chain_community_id: f"{c.chain_community_id} · {c.name}" for c in communities}
    ids = list(names)
    default = ids.index(own) if own in ids else 0
    picked: int = st.selectbox(
        "Community", ids, index=default, format_func=lambda i: names[i], key=f"{prefix}_community"
    )
    return picked


@dataclass(frozen=True)
class Membership:
    """A community the signed-in person belongs to: its API id, its on-chain id and their wallet there."""

    community_id: int
    chain_community_id: int | None
    name: str
    wallet: str | None


@st.cache_data(ttl=60, show_spinner=False)
def _me(token: str | None) -> dict[str, Any]:
    return Api(token).me()


@st.cache_data(ttl=300, show_spinner=False)
def _communities(token: str | None) -> list[dict[str, Any]]:
    return Api(token).communities()


def memberships(identity: Identity) -> list[Membership]:
    me = _me(identity.token)
    names = {c["id"]: c for c in _communities(identity.token)}
    found = []
    for m in me.get("memberships", []):
        c = names.get(m["community_id"], {})
        found.append(Membership(m["community_id"], c.get("chain_community_id"), c.get("name", "?"), m.get("wallet")))
    return found


def communities_of(identity: Identity) -> list[Membership]:
    """The communities a page may show: the person's own, or every community for roles that oversee communities
    (the API still refuses any community the person has no role in, with a sentence)."""
    if identity.has("platform-admin", "auditor", "community-admin"):
        return [Membership(c["id"], c.get("chain_community_id"), c["name"], None) for c in _communities(identity.token)]
    return memberships(identity)


def pick_membership(prefix: str, identity: Identity) -> Membership:
    """The community the page is about; stops the page with a sentence when there is none."""
    options = attempt(lambda: communities_of(identity))
    if options is None:
        st.stop()
    if not options:
        st.info("You are not a member of a community yet: register and bind your wallet, then ask for approval.")
        st.stop()
    if len(options) == 1:
        return options[0]
    return st.selectbox("Community", options, format_func=lambda m: m.name, key=f"{prefix}_membership")


def show_answer(purpose: str, success: str) -> wallet.WalletAnswer | None:
    """The wallet's answer to a request: waiting, refused (as a sentence) or done."""
    reply = wallet.answer(purpose)
    if wallet.waiting(purpose):
        st.info("Waiting for your wallet: confirm or reject the request in MetaMask.")
    elif reply is not None and not reply.ok:
        show_error(reply.sentence)
    elif reply is not None:
        st.success(success)
    return reply


def show_transaction(purpose: str, what: str) -> None:
    """The outcome of a transaction the wallet sent: mined, reverted, or still pending."""
    reply = wallet.answer(purpose)
    if wallet.waiting(purpose):
        st.info("Waiting for your wallet: check the transaction in MetaMask and sign it.")
    elif reply is not None and not reply.ok:
        show_error(reply.sentence)
    elif reply is not None:
        tx_hash = str(reply.value)
        try:
            receipt = chain().w3.eth.wait_for_transaction_receipt(HexStr(tx_hash), timeout=30)
        except Exception:  # web3's TimeExhausted: the network has not mined it yet
            st.info(f"Transaction {tx_hash} sent; not mined yet. Reload the page in a moment.")
            return
        if receipt["status"] == 1:
            st.success(f"{what} confirmed in block {receipt['blockNumber']} (transaction {tx_hash}).")
        else:
            show_error(f"{what} was mined in block {receipt['blockNumber']} but reverted: nothing changed.")


def sign(purpose: str, contract: str, to: str, data: str) -> None:
    """A button callback: simulate the transaction from the connected wallet, then hand it to the wallet."""
    error_key = f"{purpose}_error"
    st.session_state.pop(error_key, None)
    account = wallet.state().account
    if account is None:
        st.session_state[error_key] = "Connect your wallet first (Wallet page or the sidebar)."
        return
    tx = calls.tx(account, to, data)
    refusal = chain().preflight(contract, tx)
    if refusal:
        st.session_state[error_key] = refusal
        return
    wallet.ask(purpose, "eth_sendTransaction", [tx])


def show_signing(purpose: str, what: str) -> None:
    if st.session_state.get(f"{purpose}_error"):
        show_error(st.session_state[f"{purpose}_error"])
    show_transaction(purpose, what)


def wallet_hint() -> None:
    state = wallet.state()
    if state.account is None:
        st.info(
            "Connect your wallet on the Wallet page: changes here are signed in MetaMask by an account holding "
            "the role on chain."
        )
    else:
        st.caption(f"Transactions will be signed by {state.account}.")
