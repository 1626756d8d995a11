"""Token policy (token admin): the transfer fee, welcome bonuses and per-category fees, incentives and venue shares,
read from the community token and changed by transactions signed in the wallet (`token-admin` role on chain)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dapp.components import calls
from dapp.views import common

P = "token_"
CATEGORIES = [
    "citizen ↔ citizen",
    "citizen ↔ citizen with a venue",
    "stakeholder → citizen",
    "stakeholder ↔ stakeholder",
    "citizen → stakeholder",
    "citizen → community",
    "stakeholder → community",
    "citizen → community with a venue",
]

identity = common.signed_in()
st.title("Token policy")
chain_community_id = common.chain_community_picker(P, identity)
chain = common.chain()
policy = common.attempt(lambda: chain.token_policy(chain_community_id))
if policy is None:
    st.stop()
token = chain.community(chain_community_id).token
symbol = chain.symbol(chain_community_id)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Transfer fee", f"{policy['fee_bps'] / 100:.2f} %", help="Paid to the treasury on member transfers.")
m2.metric(f"Welcome bonus, citizen ({symbol})", f"{calls.to_tokens(policy['welcome_bonus']['citizen']):,.2f}")
m3.metric(f"Welcome bonus, stakeholder ({symbol})", f"{calls.to_tokens(policy['welcome_bonus']['stakeholder']):,.2f}")
m4.metric(f"Treasury ({symbol})", f"{calls.to_tokens(policy['treasury']):,.2f}")
if policy["paused"]:
    st.warning("The token is paused: transfers and claims are refused until it is unpaused.")
st.dataframe(
    pd.DataFrame(
        [
            {
                "Category": f"{i} · {CATEGORIES[i]}",
                "Fee %": c["fee_bps"] / 100,
                "Incentive %": c["incentive_bps"] / 100,
                "Venue share %": c["venue_bps"] / 100,
                "Enabled": c["enabled"],
            }
            for i, c in enumerate(policy["categories"])
        ]
    ),
    hide_index=True,
)

common.wallet_hint()
fee_tab, bonus_tab, category_tab = st.tabs(["Transfer fee", "Welcome bonus", "Marketplace category"])
with fee_tab:
    fee_pct = st.number_input("New transfer fee (%)", 0.0, 10.0, policy["fee_bps"] / 100, 0.25, key=f"{P}fee")
    st.button(
        "Sign the new fee in MetaMask",
        key=f"{P}fee_send",
        on_click=common.sign,
        args=("set_fee", "CommunityToken", token, calls.encode_call("setTransferFee(uint16)", round(fee_pct * 100))),
    )
    common.show_signing("set_fee", "Fee change")
with bonus_tab:
    kind = st.radio("Member kind", ["citizen", "stakeholder"], horizontal=True, key=f"{P}bonus_kind")
    amount = st.number_input(
        f"Welcome bonus ({symbol})",
        0.0,
        1000.0,
        float(calls.to_tokens(policy["welcome_bonus"][kind])),
        1.0,
        key=f"{P}bonus",
    )
    st.button(
        "Sign the new bonus in MetaMask",
        key=f"{P}bonus_send",
        on_click=common.sign,
        args=(
            "set_bonus",
            "CommunityToken",
            token,
            calls.encode_call(
                "setWelcomeBonus(uint8,uint256)", 1 if kind == "citizen" else 2, int(round(amount * 100)) * 10**16
            ),
        ),
    )
    common.show_signing("set_bonus", "Bonus change")
with category_tab:
    category = st.selectbox("Category", range(8), format_func=lambda i: f"{i} · {CATEGORIES[i]}", key=f"{P}cat")
    current = policy["categories"][category]
    c1, c2, c3 = st.columns(3)
    fee = c1.number_input("Fee (%)", 0.0, 10.0, current["fee_bps"] / 100, 0.25, key=f"{P}cat_fee")
    incentive = c2.number_input("Incentive (%)", 0.0, 50.0, current["incentive_bps"] / 100, 0.5, key=f"{P}cat_inc")
    venue = c3.number_input("Venue share (%)", 0.0, 50.0, current["venue_bps"] / 100, 0.5, key=f"{P}cat_venue")
    enabled = st.checkbox("Enabled", value=current["enabled"], key=f"{P}cat_enabled")
    st.button(
        "Sign the category policy in MetaMask",
        key=f"{P}cat_send",
        on_click=common.sign,
        args=(
            "set_category",
            "CommunityToken",
            token,
            calls.encode_call(
                "setCategoryPolicy(uint8,uint16,uint16,uint16,bool)",
                category,
                round(fee * 100),
                round(incentive * 100),
                round(venue * 100),
                enabled,
            ),
        ),
    )
    common.show_signing("set_category", "Category policy change")
