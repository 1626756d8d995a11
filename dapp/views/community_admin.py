"""Members and tasks (community admin): approve or reject registration requests — the API then adds the member on
chain with the welcome bonus —, see who is in the community, publish community tasks paid by the treasury, confirm
them when done and resolve disputed deals (signed in the admin's wallet)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from web3 import Web3

from dapp.client import ClientError
from dapp.components import calls
from dapp.views import common, deals

P = "cadmin_"

identity = common.signed_in()
st.title("Members and tasks")
membership = common.pick_membership(P, identity)
api = common.api(identity)


def _decide(registration_id: int, approve: bool) -> None:
    try:
        result = api.decide(membership.community_id, registration_id, approve)
        st.session_state[f"{P}decided"] = (registration_id, result.get("status"), result.get("tx_hash"))
    except ClientError as exc:
        st.session_state[f"{P}decided"] = (registration_id, None, str(exc))


st.subheader("Registration requests")
registrations = common.attempt(lambda: api.registrations(membership.community_id))
decided = st.session_state.get(f"{P}decided")
if decided:
    rid, status, detail = decided
    if status is None:
        common.show_error(f"Request {rid}: {detail}")
    else:
        st.success(f"Request {rid} is now {status}" + (f" (on chain: {detail})." if detail else "."))
pending = [r for r in registrations or [] if r["status"] == "pending"]
if not pending:
    st.info("No registration request is waiting.")
for r in pending:
    with st.container(border=True):
        st.markdown(f"**Request {r['id']}** · {r['member_kind']} · {r['energy_profile']} · wallet `{r['wallet']}`")
        a, b = st.columns(2)
        a.button(
            "Approve",
            key=f"{P}approve_{r['id']}",
            on_click=_decide,
            args=(r["id"], True),
            type="primary",
            disabled=not r["wallet"],
            help="Adds the wallet on chain; needs the wallet bound by the member first.",
        )
        b.button("Reject", key=f"{P}reject_{r['id']}", on_click=_decide, args=(r["id"], False))

st.subheader("Members")
members = common.attempt(lambda: api.members(membership.community_id))
if members:
    st.dataframe(
        pd.DataFrame(members)[["name", "surname", "member_kind", "energy_profile", "wallet", "active", "joined_at"]],
        hide_index=True,
    )

# Community tasks and disputes live on the community's marketplace contract: signed in the admin's wallet.
st.subheader("Community tasks")
chain = common.chain()
chain_community_id = membership.chain_community_id
market = chain.marketplace(chain_community_id) if chain_community_id is not None else None
if chain_community_id is None or market is None:
    st.info("This community has no marketplace yet: the platform admin deploys and registers one.")
    st.stop()
symbol = chain.symbol(chain_community_id)
common.wallet_hint()
TASK_CATEGORIES = {5: "citizen → community", 6: "stakeholder → community", 7: "citizen → community with a venue"}
with st.container(border=True):
    category = st.selectbox(
        "Category", list(TASK_CATEGORIES), format_func=lambda c: f"{c} · {TASK_CATEGORIES[c]}", key=f"{P}task_category"
    )
    description = st.text_area(
        "What is to be done",
        key=f"{P}task_text",
        help="Kept off chain; the chain holds its keccak256 hash so the task cannot change.",
    )
    price_text = st.text_input(f"Reward paid by the treasury ({symbol})", key=f"{P}task_price", placeholder="e.g. 3")
    taker = st.text_input("Reserved to (optional wallet)", key=f"{P}task_taker", placeholder="0x… or empty: anyone")
    venue = st.text_input("Venue (category 7 only)", key=f"{P}task_venue", placeholder="0x…") if category == 7 else ""
    data = None
    try:
        if description and price_text:
            data = calls.encode_call(
                "publishTask(uint8,uint256,bytes32,address,address)",
                category,
                calls.to_units(price_text),
                Web3.keccak(text=description),
                calls.checksum(taker) if taker else deals.ZERO,
                calls.checksum(venue) if venue else deals.ZERO,
            )
    except calls.CallError as exc:
        common.show_error(str(exc))
    st.button(
        "Publish the task in MetaMask",
        key=f"{P}task_send",
        type="primary",
        disabled=data is None,
        on_click=common.sign,
        args=("task_publish", "Marketplace", market.address, data or "0x"),
    )
    common.show_signing("task_publish", "Task publication")

all_deals = chain.deals(chain_community_id)
tasks = [d for d in all_deals if d["side"] == 2]
to_confirm = [d for d in tasks if d["state"] in (deals.ACCEPTED, deals.COMPLETED)]
if tasks:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Task": d["id"],
                    "State": deals.STATES[d["state"]],
                    "Category": d["category"],
                    f"Reward ({symbol})": float(calls.to_tokens(d["price"])),
                    "Taken by": d["provider"],
                }
                for d in tasks
            ]
        ),
        hide_index=True,
    )
for d in to_confirm:
    st.button(
        f"Confirm task #{d['id']} done in MetaMask",
        key=f"{P}task_confirm_{d['id']}",
        on_click=common.sign,
        args=("task_confirm", "Marketplace", market.address, calls.encode_call("confirm(uint256)", d["id"])),
    )
common.show_signing("task_confirm", "Task settlement")

st.subheader("Disputes")
disputed = [d for d in all_deals if d["state"] == 4]
if not disputed:
    st.info("No deal is disputed.")
for d in disputed:
    with st.container(border=True):
        st.markdown(
            f"**Deal #{d['id']}** · {calls.to_tokens(d['price']):f} {symbol} in escrow · provider "
            f"`{d['provider']}` · payer `{d['payer']}`"
        )
        share = st.slider(
            "Share to the provider (%)",
            0,
            100,
            50,
            key=f"{P}resolve_share_{d['id']}",
            help="The rest of the escrow is refunded to the payer.",
        )
        st.button(
            f"Resolve deal #{d['id']} in MetaMask",
            key=f"{P}resolve_{d['id']}",
            on_click=common.sign,
            args=(
                "dispute_resolve",
                "Marketplace",
                market.address,
                calls.encode_call("resolve(uint256,uint16)", d["id"], share * 100),
            ),
        )
common.show_signing("dispute_resolve", "Resolution")
