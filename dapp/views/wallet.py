"""Wallet: connect MetaMask, add the LEC network and the community token, pay a member (picked by name) with the
fee shown before signing, and claim energy rewards in one click per period. Every transaction is signed in the
wallet. The time bank's deals have their own page."""

from __future__ import annotations

import streamlit as st

from dapp.client import LEC_CHAIN_ID, ClientError, NotFoundError
from dapp.components import calls, wallet
from dapp.i18n import t
from dapp.views import common, deals
from dapp.views.wallet_ops import FeePreview, RewardClaim, parse_reward_claim

P = "wallet_"  # session_state prefix of this page
OTHER = "__other__"

identity = common.signed_in()
st.title(t("wallet.title"))
chain_community_id = common.chain_community_picker(P, identity)
chain = common.chain()
community = common.attempt(lambda: chain.community(chain_community_id))
if community is None:
    st.stop()
symbol = chain.symbol(chain_community_id)
w = wallet.state()
holder = identity.has("token-holder", "community-admin")  # oracle, token and auditor roles only connect


# ------------------------------------------------------------------------------------------- connect
st.subheader(t("wallet.connect"))
if w.installed is None:
    st.caption(t("wallet.loading"))
elif not w.installed:
    common.show_error(wallet.wallet_error_sentence(-1))
c1, c2, c3, c4 = st.columns(4)
c1.button(t("wallet.connect_button"), key=f"{P}connect", on_click=wallet.ask, args=("connect", "eth_requestAccounts"))
c2.button(
    t("wallet.add_network"),
    key=f"{P}add_network",
    on_click=wallet.ask,
    args=("add_network", "wallet_addEthereumChain", calls.add_chain_params(LEC_CHAIN_ID, chain.url)),
    help=t("wallet.add_network_help", chain=LEC_CHAIN_ID),
)
c3.button(
    t("wallet.switch_network"),
    key=f"{P}switch_network",
    on_click=wallet.ask,
    args=("switch_network", "wallet_switchEthereumChain", calls.switch_chain_params(LEC_CHAIN_ID)),
)
c4.button(
    t("wallet.watch", symbol=symbol),
    key=f"{P}watch",
    on_click=wallet.ask,
    args=("watch_asset", "wallet_watchAsset", calls.watch_asset_params(community.token, symbol)),
    help=t("wallet.watch_help"),
)
common.show_answer("connect", t("wallet.connected"))
common.show_answer("add_network", t("wallet.network_added"))
common.show_answer("switch_network", t("wallet.network_switched"))
common.show_answer("watch_asset", t("wallet.watched", symbol=symbol))

account = w.account
ready = account is not None and w.on_chain(LEC_CHAIN_ID)
if account is None:
    st.stop()
me: str = account  # narrowed once: the button callbacks below close over these
token_address: str = community.token
if not w.on_chain(LEC_CHAIN_ID):
    st.warning(t("common.wrong_network", chain=w.chain_id, lec=LEC_CHAIN_ID))

# ------------------------------------------------------------------------------------------- balance
st.subheader(t("wallet.balance"))
member = chain.member(chain_community_id, account)
balance = chain.balance(chain_community_id, account)
m1, m2 = st.columns(2)
m1.metric(t("wallet.balance_metric"), t("common.hours", n=deals.hours(balance)), help=t("common.hour_help"))
m2.metric(t("wallet.membership"), t("wallet.active") if member.active else t("wallet.not_member"))
if not holder:
    st.caption(t("wallet.role_only"))
    st.stop()
if not member.active:
    common.show_error(t("wallet.not_member_long", account=account, community=community.name))


# ------------------------------------------------------------------------------------------- transfer
def _send_transfer(recipient: str, units: int, inputs: tuple[str, str]) -> None:
    st.session_state.pop(f"{P}transfer_error", None)
    try:
        tx = calls.transfer_tx(me, token_address, recipient, units)
    except calls.CallError as exc:
        st.session_state[f"{P}transfer_error"] = (inputs, str(exc))
        return
    refusal = chain.preflight("CommunityToken", tx)
    if refusal:
        st.session_state[f"{P}transfer_error"] = (inputs, refusal)
        return
    wallet.ask("transfer", "eth_sendTransaction", [tx])


st.subheader(t("wallet.pay"))
people = []
try:
    mine_id = common.platform_community_id(identity, chain_community_id)
    if mine_id is not None:
        people = [p for p in common.api(identity).people(mine_id) if p["wallet"].lower() != me.lower()]
except ClientError:
    people = []  # the address field below still works
choices = [p["wallet"] for p in people] + [OTHER]
names = {p["wallet"]: p["name"] for p in people}
picked = st.selectbox(
    t("wallet.pay_to"),
    choices,
    format_func=common.labels(choices, lambda a: t("wallet.pay_other") if a == OTHER else names[a]),
    key=f"{P}payee",
)
recipient = st.text_input(t("wallet.recipient"), key=f"{P}recipient", placeholder="0x…") if picked == OTHER else picked
amount_text = st.text_input(t("wallet.amount"), key=f"{P}amount", placeholder=t("wallet.amount_hint"))
units = None
if amount_text:
    try:
        units = calls.to_units(amount_text)
    except calls.CallError:
        common.show_error(t("wallet.bad_amount", value=amount_text))
if units:
    preview = FeePreview(amount=units, fee=chain.fee_of(chain_community_id, units))
    st.info(preview.sentence(chain.token_policy(chain_community_id)["fee_bps"]), icon=":material/receipt_long:")
inputs = (recipient, amount_text)
st.button(
    t("wallet.sign_transfer"),
    key=f"{P}send",
    disabled=not (ready and units and recipient),
    on_click=_send_transfer,
    args=(recipient, units or 0, inputs),
    type="primary",
)
kept = st.session_state.get(f"{P}transfer_error")
if kept and kept[0] == inputs:  # an error about other inputs (or cleared fields) is not shown again
    common.show_error(kept[1])
common.show_transaction("transfer", t("wallet.transfer"))

# ------------------------------------------------------------------------------------------- claim
st.subheader(t("wallet.claim"))
st.caption(t("wallet.claim_help"))


def _send_claim(c: RewardClaim) -> None:
    st.session_state.pop(f"{P}claim_error", None)
    st.session_state[f"{P}claimed_period"] = c.period_id
    tx = calls.claim_tx(me, token_address, c.period_id, c.amount, c.proof)
    refusal = chain.preflight("CommunityToken", tx)
    if refusal:
        st.session_state[f"{P}claim_error"] = (c.period_id, refusal)
        return
    wallet.ask("claim", "eth_sendTransaction", [tx])


@st.cache_data(ttl=120, show_spinner=False)
def _claimable(token: str | None, community_id: int, account: str) -> list[dict]:
    """The notarised periods with a reward for `account`, newest first (at most a month), with their proofs."""
    api = common.Api(token)
    found = []
    for period in api.periods(community_id, notarised_only=True)[:31]:
        try:
            found.append(api.bundle(community_id, int(period["period_id"])))
        except NotFoundError:
            continue
    return found


platform_id = common.attempt(lambda: common.platform_community_id(identity, chain_community_id))
due_claims: list[tuple[RewardClaim, int]] = []
if platform_id is not None:
    bundles = common.attempt(lambda: _claimable(identity.token, platform_id, me)) or []
    for bundle in bundles:
        try:
            c = parse_reward_claim(bundle)
        except calls.CallError:
            continue
        if c.account.lower() != me.lower():
            continue
        due = c.due(chain.claimed(chain_community_id, c.period_id, me))
        if due:
            due_claims.append((c, due))
if due_claims:
    for c, due in due_claims:
        line = st.columns([3, 2])
        line[0].markdown(
            t("wallet.claim_line", day=common.day_text(c.period_id), hours=t("common.hours", n=deals.hours(due)))
        )
        line[1].button(
            t("wallet.claim_one", day=common.day_text(c.period_id)),
            key=f"{P}claim_{c.period_id}",
            disabled=not ready,
            on_click=_send_claim,
            args=(c,),
            type="primary",
        )
else:
    st.info(t("wallet.nothing_to_claim"))

with st.expander(t("wallet.claim_other")):
    claim: RewardClaim | None = st.session_state.get(f"{P}claim")
    f1, f2 = st.columns([1, 2])
    period_text = f1.text_input(t("wallet.period"), key=f"{P}period", placeholder="20261124")
    if not period_text and st.session_state.get(f"{P}claim_source") == "fetch":
        claim = None  # the field was cleared: forget the proof and its message
        st.session_state[f"{P}claim"] = None
    if f1.button(t("wallet.fetch"), key=f"{P}fetch", disabled=not period_text.isdigit()):
        try:
            if platform_id is None:
                raise NotFoundError(t("wallet.no_community"))
            claim = parse_reward_claim(common.api(identity).bundle(platform_id, int(period_text)))
        except NotFoundError:
            common.show_error(t("wallet.no_bundle", period=period_text))
            claim = None
        except (ClientError, calls.CallError) as exc:
            common.show_error(str(exc))
            claim = None
        st.session_state[f"{P}claim"] = claim
        st.session_state[f"{P}claim_source"] = "fetch"
    upload = f2.file_uploader(t("wallet.upload"), type=["json"], key=f"{P}bundle")
    if upload is not None and upload.file_id != st.session_state.get(f"{P}upload_id"):
        # Parsed once per uploaded file, so a later "Fetch my proof" is not overridden on the next rerun.
        st.session_state[f"{P}upload_id"] = upload.file_id
        try:
            claim = parse_reward_claim(upload.getvalue())
        except calls.CallError as exc:
            common.show_error(str(exc))
            claim = None
        st.session_state[f"{P}claim"] = claim
        st.session_state[f"{P}claim_source"] = "upload"

    if claim is not None:
        if claim.account.lower() != account.lower():
            common.show_error(t("wallet.other_proof", owner=claim.account, account=account))
        else:
            already = chain.claimed(chain_community_id, claim.period_id, account)
            due = claim.due(already)
            st.info(
                t(
                    "wallet.claim_summary",
                    period=claim.period_id,
                    reward=deals.hours(claim.amount),
                    already=deals.hours(already),
                    due=deals.hours(due),
                ),
                icon=":material/redeem:",
            )
            st.button(
                t("wallet.claim_button"),
                key=f"{P}claim_send",
                disabled=not (ready and due),
                on_click=_send_claim,
                args=(claim,),
                type="primary",
            )
kept_claim = st.session_state.get(f"{P}claim_error")
if kept_claim:
    common.show_error(kept_claim[1])
common.show_transaction(
    "claim", t("wallet.claim_done", day=common.day_text(st.session_state.get(f"{P}claimed_period") or 0))
)
st.page_link("views/timebank.py", label=t("wallet.to_timebank"), icon=":material/handshake:")
