"""Wallet: connect MetaMask, add the LEC network and the community token, transfer to a member with the
fee shown before signing, and claim energy rewards with their proof. Every transaction is signed in the wallet."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dapp.client import LEC_CHAIN_ID, ClientError
from dapp.components import calls, wallet
from dapp.views import common, deals
from dapp.views.wallet_ops import FeePreview, RewardClaim, parse_reward_claim

P = "wallet_"  # session_state prefix of this page

identity = common.signed_in()
st.title("Wallet")
chain_community_id = common.chain_community_picker(P, identity)
chain = common.chain()
community = common.attempt(lambda: chain.community(chain_community_id))
if community is None:
    st.stop()
symbol = chain.symbol(chain_community_id)
w = wallet.state()


# ------------------------------------------------------------------------------------------- connect
st.subheader("1 · Connect your wallet")
if w.installed is None:
    st.caption("Loading the wallet bridge…")
elif not w.installed:
    common.show_error(wallet.wallet_error_sentence(-1))
c1, c2, c3, c4 = st.columns(4)
c1.button("Connect MetaMask", key=f"{P}connect", on_click=wallet.ask, args=("connect", "eth_requestAccounts"))
c2.button(
    "Add the LEC network",
    key=f"{P}add_network",
    on_click=wallet.ask,
    args=("add_network", "wallet_addEthereumChain", calls.add_chain_params(LEC_CHAIN_ID, chain.url)),
    help=f"Chain {LEC_CHAIN_ID}, RPC {chain.url}. Gas is free on the LEC network.",
)
c3.button(
    "Switch to the LEC network",
    key=f"{P}switch_network",
    on_click=wallet.ask,
    args=("switch_network", "wallet_switchEthereumChain", calls.switch_chain_params(LEC_CHAIN_ID)),
)
c4.button(
    f"Add {symbol} to MetaMask",
    key=f"{P}watch",
    on_click=wallet.ask,
    args=("watch_asset", "wallet_watchAsset", calls.watch_asset_params(community.token, symbol)),
)
common.show_answer("connect", "Wallet connected.")
common.show_answer("add_network", "The LEC network is in your wallet.")
common.show_answer("switch_network", "Your wallet is on the LEC network.")
common.show_answer("watch_asset", f"{symbol} is shown in your wallet.")

account = w.account
ready = account is not None and w.on_chain(LEC_CHAIN_ID)
if account is None:
    st.stop()
me: str = account  # narrowed once: the button callbacks below close over these
token_address: str = community.token
if not w.on_chain(LEC_CHAIN_ID):
    st.warning(f"Your wallet is on chain {w.chain_id}: add or switch to the LEC network (chain {LEC_CHAIN_ID}).")

# ------------------------------------------------------------------------------------------- balance
st.subheader("2 · Balance")
member = chain.member(chain_community_id, account)
balance = chain.balance(chain_community_id, account)
m1, m2 = st.columns(2)
m1.metric(
    f"Balance ({symbol})",
    f"{calls.to_tokens(balance):,.2f}",
    help="1 token = 1 hour of the community's time bank.",
)
m2.metric("Membership", "active member" if member.active else "not a member")
if not member.active:
    common.show_error(
        f"The connected account {account} is not an active member of {community.name}: tokens only move between "
        "members. Connect the wallet you registered, or ask the community admin to approve it."
    )


# ------------------------------------------------------------------------------------------- transfer
def _send_transfer(recipient: str, units: int) -> None:
    st.session_state.pop(f"{P}transfer_error", None)
    try:
        tx = calls.transfer_tx(me, token_address, recipient, units)
    except calls.CallError as exc:
        st.session_state[f"{P}transfer_error"] = str(exc)
        return
    refusal = chain.preflight("CommunityToken", tx)
    if refusal:
        st.session_state[f"{P}transfer_error"] = refusal
        return
    wallet.ask("transfer", "eth_sendTransaction", [tx])


st.subheader("3 · Pay a member")
recipient = st.text_input("Recipient's wallet address", key=f"{P}recipient", placeholder="0x…")
amount_text = st.text_input(f"Amount ({symbol})", key=f"{P}amount", placeholder="e.g. 2.5")
units = None
if amount_text:
    try:
        units = calls.to_units(amount_text)
    except calls.CallError as exc:
        common.show_error(str(exc))
if units:
    preview = FeePreview(amount=units, fee=chain.fee_of(chain_community_id, units))
    st.info(preview.sentence(symbol, chain.token_policy(chain_community_id)["fee_bps"]), icon=":material/receipt_long:")
st.button(
    "Sign the transfer in MetaMask",
    key=f"{P}send",
    disabled=not (ready and units and recipient),
    on_click=_send_transfer,
    args=(recipient, units or 0),
    type="primary",
)
if st.session_state.get(f"{P}transfer_error"):
    common.show_error(st.session_state[f"{P}transfer_error"])
common.show_transaction("transfer", "Transfer")

# ------------------------------------------------------------------------------------------- claim
st.subheader("4 · Claim energy rewards")
st.caption("Rewards are minted against the rewards root the oracle notarised for the period; the proof shows yours.")
claim: RewardClaim | None = st.session_state.get(f"{P}claim")
f1, f2 = st.columns([1, 2])
period_text = f1.text_input("Period (day, YYYYMMDD)", key=f"{P}period", placeholder="20261124")
if f1.button("Fetch my proof", key=f"{P}fetch", disabled=not period_text.isdigit()):
    try:
        api = common.api(identity)
        community_id = next(c["id"] for c in api.communities() if c.get("chain_community_id") == chain_community_id)
        claim = parse_reward_claim(api.bundle(community_id, int(period_text)))
    except StopIteration:
        common.show_error(f"The platform does not list community {chain_community_id}: ask its admin.")
        claim = None
    except (ClientError, calls.CallError) as exc:
        common.show_error(str(exc))
        claim = None
    st.session_state[f"{P}claim"] = claim
upload = f2.file_uploader("…or upload your proof bundle (JSON)", type=["json"], key=f"{P}bundle")
if upload is not None and upload.file_id != st.session_state.get(f"{P}upload_id"):
    # Parsed once per uploaded file, so a later "Fetch my proof" is not overridden on the next rerun.
    st.session_state[f"{P}upload_id"] = upload.file_id
    try:
        claim = parse_reward_claim(upload.getvalue())
    except calls.CallError as exc:
        common.show_error(str(exc))
        claim = None
    st.session_state[f"{P}claim"] = claim

if claim is not None:
    if claim.account.lower() != account.lower():
        common.show_error(
            f"This proof is for {claim.account}, not for the connected account {account}: connect that wallet."
        )
    else:
        already = chain.claimed(chain_community_id, claim.period_id, account)
        due = claim.due(already)
        st.info(
            f"Period {claim.period_id}: reward {calls.to_tokens(claim.amount):f} {symbol}, already claimed "
            f"{calls.to_tokens(already):f} {symbol}, to claim now {calls.to_tokens(due):f} {symbol}.",
            icon=":material/redeem:",
        )

        def _send_claim(c: RewardClaim = claim) -> None:
            st.session_state.pop(f"{P}claim_error", None)
            tx = calls.claim_tx(me, token_address, c.period_id, c.amount, c.proof)
            refusal = chain.preflight("CommunityToken", tx)
            if refusal:
                st.session_state[f"{P}claim_error"] = refusal
                return
            wallet.ask("claim", "eth_sendTransaction", [tx])

        st.button(
            "Claim in MetaMask",
            key=f"{P}claim_send",
            disabled=not (ready and due),
            on_click=_send_claim,
            type="primary",
        )
if st.session_state.get(f"{P}claim_error"):
    common.show_error(st.session_state[f"{P}claim_error"])
common.show_transaction("claim", "Claim")

# ------------------------------------------------------------------------------------------- marketplace
st.subheader("5 · Marketplace deals")
market = chain.marketplace(chain_community_id)
if market is None:
    st.info("This community has no marketplace yet: the platform admin deploys and registers one.")
    st.stop()
mine = [d for d in chain.deals(chain_community_id) if deals.involves(d, account)]
if not mine:
    st.info("No deal involves you and none is open to you.")
    st.stop()
st.dataframe(
    pd.DataFrame(
        [
            {
                "Deal": d["id"],
                "Side": deals.SIDES[d["side"]],
                "State": deals.STATES[d["state"]],
                "Category": d["category"],
                f"Price ({symbol})": float(calls.to_tokens(d["price"])),
                "Provider": d["provider"],
                "Payer": d["payer"],
            }
            for d in mine
        ]
    ),
    hide_index=True,
)
deal = st.selectbox("Deal", mine, format_func=lambda d: f"#{d['id']} · {deals.STATES[d['state']]}", key=f"{P}deal")
possible = deals.actions(deal, account)
if not possible:
    st.caption("Nothing for you to do on this deal now.")
price = deal["price"]
if "accept" in possible and deals.pays_on_accept(deal):
    allowance = chain.allowance(chain_community_id, account, market.address)
    if allowance < price:
        st.info(
            f"Accepting puts {calls.to_tokens(price):f} {symbol} in escrow: approve the marketplace to take it first."
        )
        st.button(
            "1 · Approve the escrow in MetaMask",
            key=f"{P}deal_approve",
            on_click=common.sign,
            args=(
                "deal_approve",
                "CommunityToken",
                community.token,
                calls.encode_call("approve(address,uint256)", market.address, price),
            ),
        )
        common.show_signing("deal_approve", "Approval")
        possible = [a for a in possible if a != "accept"]
if "confirm" in possible:
    split = chain.settlement_preview(chain_community_id, deal["id"])
    st.info(
        f"Confirming pays {calls.to_tokens(split['to_provider']):f} {symbol} to the provider, "
        f"{calls.to_tokens(split['fee']):f} {symbol} fee to the treasury"
        + (f", {calls.to_tokens(split['venue_share']):f} {symbol} to the venue" if split["venue_share"] else "")
        + (
            f"; the treasury adds an incentive of {calls.to_tokens(split['incentive']):f} {symbol}"
            if split["incentive"]
            else ""
        )
        + ".",
        icon=":material/receipt_long:",
    )
columns = st.columns(max(len(possible), 1))
for column, action in zip(columns, possible, strict=False):
    column.button(
        f"{action.capitalize()} deal #{deal['id']} in MetaMask",
        key=f"{P}deal_{action}",
        type="primary" if action in ("accept", "confirm") else "secondary",
        on_click=common.sign,
        args=(f"deal_{action}", "Marketplace", market.address, calls.encode_call(f"{action}(uint256)", deal["id"])),
    )
for action, what in (
    ("accept", "Acceptance"),
    ("complete", "Completion"),
    ("confirm", "Settlement"),
    ("dispute", "Dispute"),
):
    common.show_signing(f"deal_{action}", f"{what} of deal #{deal['id']}")
