"""What every page shares: who is signed in, which pages each role sees, pickers and error display."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import streamlit as st
from eth_typing import HexStr

from dapp.client import LEC_CHAIN_ID, Api, Chain, ClientError
from dapp.components import calls, wallet
from dapp.i18n import t
from lec.chain.contracts import DeploymentError
from lec.settings import get_settings

IDENTITY_KEY = "identity"
PERIODS = ("day", "week", "month", "custom")
USER_ERRORS = (ClientError, DeploymentError)
T = TypeVar("T")

ROLES = (
    "token-holder",
    "community-admin",
    "oracle-admin",
    "token-admin",
    "auditor",
    "platform-admin",
    "flexibility-buyer",
)


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
        return keycloak_identity()
    return None


def keycloak_identity() -> Identity:
    """The person signed in with `st.login`: roles and names from the access token Keycloak issued at the
    callback (`expose_tokens = ["access"]`). It is decoded only to choose the pages (realm roles are in the access
    token, not in the ID token); the API verifies its signature on every request."""
    import jwt

    tokens = st.user.get("tokens")
    access = tokens.get("access") if isinstance(tokens, Mapping) else None
    if not access:
        claims = {k: st.user.get(k) for k in ("sub", "preferred_username", "name")}
        return identity_from_claims(claims, None)
    return identity_from_claims(jwt.decode(access, options={"verify_signature": False}), access)


RENEWAL_MARGIN_SECONDS = 30


def renewal_due(identity: Identity, now: float | None = None) -> bool:
    """True when the Keycloak access token has expired or expires within the margin (at most a third of its
    lifetime), so the dApp signs in again before the API would refuse it."""
    exp, iat = identity.claims.get("exp"), identity.claims.get("iat")
    if identity.source != "keycloak" or not isinstance(exp, int | float):
        return False
    lifetime = exp - iat if isinstance(iat, int | float) else RENEWAL_MARGIN_SECONDS * 3
    margin = min(RENEWAL_MARGIN_SECONDS, lifetime / 3)
    return (time.time() if now is None else now) >= exp - margin


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


_SERVER_PATH = re.compile(r"(?<![\w:/])(?:[A-Za-z]:)?(?:/[\w.\-]+){2,}/?")  # /srv/lec/data/periods/1/…/period.json
_SETTING = re.compile(r"`?\bLEC_[A-Z0-9_]+\b`?")  # the platform's environment variables
_COMMAND = re.compile(r"`lec [^`]*`")  # an operator's command


def resident_sentence(message: str) -> str:
    """`message` without what only the platform's operator can use: server paths, settings' names, commands."""
    cleaned = _SERVER_PATH.sub(t("common.a_server_file"), message)
    cleaned = _SETTING.sub(t("common.a_setting"), cleaned)
    return _COMMAND.sub(t("common.the_operator"), cleaned)


def show_error(message: str) -> None:
    st.error(resident_sentence(message), icon=":material/error:")


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


def labels(options: Iterable[Any], label: Callable[[Any], str]) -> Callable[[Any], str]:
    """A widget's `format_func` with every option's text computed now, in this run's language: Streamlit (and its
    AppTest) may format options outside the script run, where the language picked is not known."""
    table = {option: label(option) for option in options}
    return table.__getitem__


def period_picker(prefix: str, default_days: int = 7, latest: date | None = None) -> tuple[date, date]:
    """A date range (both ends included) with quick choices; keys are prefixed by the page."""
    end_default = latest or date.today() - timedelta(days=1)
    choice = st.segmented_control(
        t("common.period"),
        PERIODS,
        format_func=labels(PERIODS, lambda c: t(f"common.period_{c}")),
        default="week" if default_days == 7 else "month",
        key=f"{prefix}_period_choice",
        help=t("common.period_help"),
    )
    if choice == "day":
        return end_default, end_default
    if choice == "month":
        return end_default - timedelta(days=29), end_default
    if choice == "custom":
        picked = st.date_input(
            t("common.period_range"), (end_default - timedelta(days=6), end_default), key=f"{prefix}_period_custom"
        )
        if isinstance(picked, tuple) and len(picked) == 2:
            return picked[0], picked[1]
        st.info(t("common.period_last_day"))
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
        t("common.community"), ids, index=default, format_func=lambda i: names[i], key=f"{prefix}_community"
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
        st.info(t("common.no_community"))
        st.stop()
    if len(options) == 1:
        return options[0]
    return st.selectbox(t("common.community"), options, format_func=lambda m: m.name, key=f"{prefix}_membership")


def platform_community_id(identity: Identity, chain_community_id: int) -> int | None:
    """The platform's id of the community the Registry numbers `chain_community_id` (None if it does not list it)."""
    return next(
        (c["id"] for c in _communities(identity.token) if c.get("chain_community_id") == chain_community_id), None
    )


def day_text(period_id: int) -> str:
    """A period id (YYYYMMDD) as a day a resident reads (30/11/2026)."""
    text = str(period_id)
    return f"{text[6:8]}/{text[4:6]}/{text[:4]}" if len(text) == 8 else text


def local_time(iso: str | None, time_too: bool = True) -> str:
    """An API time (ISO, UTC) as the community's clock shows it: 30/11/2026 17:05 (or the day only); "—" for none."""
    if not iso:
        return "—"
    from lec.calendar import ROME

    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ROME).strftime("%d/%m/%Y %H:%M" if time_too else "%d/%m/%Y")


def show_answer(purpose: str, success: str) -> wallet.WalletAnswer | None:
    """The wallet's answer to a request: waiting, refused (as a sentence) or done."""
    reply = wallet.answer(purpose)
    if wallet.waiting(purpose):
        st.info(t("common.waiting_request"))
    elif reply is not None and not reply.ok:
        show_error(reply.sentence)
    elif reply is not None:
        st.success(success)
    return reply


def show_transaction(purpose: str, what: str) -> None:
    """The outcome of a transaction the wallet sent: mined, reverted, or still pending."""
    reply = wallet.answer(purpose)
    if wallet.waiting(purpose):
        st.info(t("common.waiting_transaction"))
    elif reply is not None and not reply.ok:
        show_error(reply.sentence)
    elif reply is not None:
        tx_hash = str(reply.value)
        try:
            receipt = chain().w3.eth.wait_for_transaction_receipt(HexStr(tx_hash), timeout=30)
        except Exception:  # web3's TimeExhausted: the network has not mined it yet
            st.info(t("common.not_mined", tx=tx_hash))
            return
        if receipt["status"] == 1:
            st.success(t("common.mined", what=what, block=receipt["blockNumber"], tx=tx_hash))
        else:
            show_error(t("common.reverted", what=what, block=receipt["blockNumber"]))


def sign(purpose: str, contract: str, to: str, data: str) -> None:
    """A button callback: simulate the transaction from the connected wallet, then hand it to the wallet."""
    error_key = f"{purpose}_error"
    st.session_state.pop(error_key, None)
    account = wallet.state().account
    if account is None:
        st.session_state[error_key] = t("common.connect_first")
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


def wallet_status() -> str:
    """The wallet's state in one line, on the page itself (on a phone the sidebar with the bridge is closed)."""
    state = wallet.state()
    if state.installed is None:
        return ""
    if not state.installed:
        return t("common.wallet_none")
    if state.account is None:
        return t("common.wallet_not_connected")
    short = state.account[:6] + "…" + state.account[-4:]
    return t("common.wallet_on_lec" if state.chain_id == LEC_CHAIN_ID else "common.wallet_off_lec", account=short)


def wallet_hint() -> None:
    state = wallet.state()
    if state.account is None:
        st.info(t("common.wallet_hint"))
    else:
        st.caption(t("common.signed_by", account=state.account))


# Streamlit closes its sidebar after a page is chosen only when the browser says it is a phone (user agent); a
# narrow window (a tablet, a desktop browser made small, a phone asking for the desktop site) kept it open over
# the page. After a change of page, this script closes it whenever the window is narrower than Streamlit's own
# `md` breakpoint, where the sidebar overlays the page instead of sitting beside it.
NARROW_PX = 768
_COLLAPSE_JS = """<script>
(() => {{
  if (window.innerWidth >= {narrow}) return;
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  if (!sidebar || sidebar.getAttribute('data-collapsed') !== 'false') return;
  const button = document.querySelector(
    '[data-testid="stSidebarCollapseButton"] button, button[aria-label="Collapse sidebar"]');
  if (button) button.click();
}})();  /* run {run} */
</script>"""


def collapse_sidebar_after_navigation(page_path: str) -> None:
    """Close the sidebar on a narrow screen once the person has chosen another page (not on other reruns:
    changing the language in the open sidebar leaves it open)."""
    previous = st.session_state.get("_lec_page")
    st.session_state["_lec_page"] = page_path
    if previous is None or previous == page_path:
        return
    run = st.session_state["_lec_page_runs"] = st.session_state.get("_lec_page_runs", 0) + 1
    with st.sidebar:
        st.html(_COLLAPSE_JS.format(narrow=NARROW_PX, run=run), unsafe_allow_javascript=True)


def device_map(devices: list[dict[str, Any]]) -> None:
    """The community's devices on a map: on the basemap the Settings name (`LEC_MAP_TILES`) when an operator chose
    one, else on a plain projection that fetches nothing from anybody (the default: no home position leaves the
    platform). Either way devices at one place are grouped with their count and every kind is in the legend."""
    from dapp import charts

    settings = get_settings()
    if settings.dapp_map_tiles:
        deck = charts.device_deck(devices, settings.dapp_map_tiles, settings.dapp_map_attribution)
        if deck is not None:
            st.pydeck_chart(deck, height=320)
            st.html(
                " &nbsp; ".join(
                    f'<span style="color:{color}">●</span> {html.escape(name)}' for color, name in charts.kind_legend()
                )
            )
            return
    chart = charts.device_map(devices)
    if chart is None:
        st.info(t("dashboard.no_map"))
    else:
        st.altair_chart(chart, use_container_width=True)


@dataclass(frozen=True)
class CommunityPage:
    """What a community page (the living lab's Polls, Projects, Messages, Community voice) starts with: the person,
    the community picked, the API and the community's path in it, the person's roles there, and the sentence the
    last button left for the next run (`flash`, shown by `show_flash`)."""

    prefix: str
    identity: Identity
    membership: Membership
    api: Api
    base: str  # /communities/{id}
    is_admin: bool  # community admin (or platform admin)
    is_member: bool  # token-holder with a wallet in this community

    def flash(self, message: str, ok: bool = True) -> None:
        st.session_state[f"{self.prefix}flash"] = (ok, message)

    def show_flash(self) -> None:
        flash = st.session_state.pop(f"{self.prefix}flash", None)
        if flash:
            (st.success if flash[0] else show_error)(flash[1])


def community_page(prefix: str, title: str, intro: str) -> CommunityPage:
    """Signs in, titles the page and picks the community (stopping with a sentence when there is none)."""
    identity = signed_in()
    st.title(title)
    st.caption(intro)
    membership = pick_membership(prefix, identity)
    return CommunityPage(
        prefix,
        identity,
        membership,
        api(identity),
        f"/communities/{membership.community_id}",
        identity.has("community-admin", "platform-admin"),
        identity.has("token-holder") and membership.wallet is not None,
    )
