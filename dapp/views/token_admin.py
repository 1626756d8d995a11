"""Token policy (token admin): the transfer fee, welcome bonuses and per-category fees, incentives and venue shares,
read from the community token and changed by transactions signed in the wallet (`token-admin` role on chain)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dapp.components import calls
from dapp.i18n import t
from dapp.views import common, deals

P = "token_"

identity = common.signed_in()
st.title(t("tokenadmin.title"))
chain_community_id = common.chain_community_picker(P, identity)
chain = common.chain()
policy = common.attempt(lambda: chain.token_policy(chain_community_id))
if policy is None:
    st.stop()
token = chain.community(chain_community_id).token
symbol = chain.symbol(chain_community_id)
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("tokenadmin.fee"), f"{policy['fee_bps'] / 100:.2f} %", help=t("tokenadmin.fee_help"))
m2.metric(t("tokenadmin.bonus_citizen"), t("common.hours", n=deals.hours(policy["welcome_bonus"]["citizen"])))
m3.metric(t("tokenadmin.bonus_stakeholder"), t("common.hours", n=deals.hours(policy["welcome_bonus"]["stakeholder"])))
m4.metric(t("tokenadmin.treasury"), t("common.hours", n=deals.hours(policy["treasury"])), help=t("common.hour_help"))
if policy["paused"]:
    st.warning(t("tokenadmin.paused"))
st.dataframe(
    pd.DataFrame(
        [
            {
                t("tokenadmin.col_category"): deals.category_name(i),
                t("tokenadmin.col_fee"): c["fee_bps"] / 100,
                t("tokenadmin.col_incentive"): c["incentive_bps"] / 100,
                t("tokenadmin.col_venue"): c["venue_bps"] / 100,
                t("tokenadmin.col_enabled"): c["enabled"],
            }
            for i, c in enumerate(policy["categories"])
        ]
    ),
    hide_index=True,
)

common.wallet_hint()
fee_tab, bonus_tab, category_tab = st.tabs([t("tokenadmin.fee"), t("tokenadmin.bonus"), t("tokenadmin.category")])
with fee_tab:
    fee_pct = st.number_input(t("tokenadmin.new_fee"), 0.0, 10.0, policy["fee_bps"] / 100, 0.25, key=f"{P}fee")
    st.button(
        t("tokenadmin.sign_fee"),
        key=f"{P}fee_send",
        on_click=common.sign,
        args=("set_fee", "CommunityToken", token, calls.encode_call("setTransferFee(uint16)", round(fee_pct * 100))),
    )
    common.show_signing("set_fee", t("tokenadmin.fee_change"))
with bonus_tab:
    kind = st.radio(
        t("tokenadmin.kind"),
        ["citizen", "stakeholder"],
        format_func=common.labels(["citizen", "stakeholder"], lambda k: t(f"cadmin.kind_{k}")),
        horizontal=True,
        key=f"{P}bonus_kind",
    )
    amount = st.number_input(
        t("tokenadmin.bonus_hours"),
        0.0,
        1000.0,
        float(calls.to_tokens(policy["welcome_bonus"][kind])),
        1.0,
        key=f"{P}bonus",
    )
    st.button(
        t("tokenadmin.sign_bonus"),
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
    common.show_signing("set_bonus", t("tokenadmin.bonus_change"))
with category_tab:
    category = st.selectbox(
        t("tokenadmin.col_category"),
        list(range(8)),
        format_func=common.labels(range(8), deals.category_name),
        key=f"{P}cat",
    )
    current = policy["categories"][category]
    c1, c2, c3 = st.columns(3)
    fee = c1.number_input(t("tokenadmin.col_fee"), 0.0, 10.0, current["fee_bps"] / 100, 0.25, key=f"{P}cat_fee")
    incentive = c2.number_input(
        t("tokenadmin.col_incentive"), 0.0, 50.0, current["incentive_bps"] / 100, 0.5, key=f"{P}cat_inc"
    )
    venue = c3.number_input(t("tokenadmin.col_venue"), 0.0, 50.0, current["venue_bps"] / 100, 0.5, key=f"{P}cat_venue")
    enabled = st.checkbox(t("tokenadmin.col_enabled"), value=current["enabled"], key=f"{P}cat_enabled")
    st.button(
        t("tokenadmin.sign_category"),
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
    common.show_signing("set_category", t("tokenadmin.category_change"))
