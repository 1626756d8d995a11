"""Token policy (token admin): the transfer fee, welcome bonuses and per-category fees, incentives and venue shares,
read from the community token and changed by transactions signed in the wallet (`token-admin` role on chain); and
the sale of hours from the treasury to a stakeholder who paid in euros, at the published exchange rate, with the
payment receipt's reference (its hash goes on chain, so a receipt pays once)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st
from web3 import Web3

from dapp.client import ClientError
from dapp.components import calls
from dapp.i18n import t
from dapp.views import common, deals

P = "token_"
UNIT = 10**18  # token units per hour


def euros_per_hour(units_per_cent: int) -> Decimal:
    """The published rate (token units per euro cent) as a resident reads it: euros for one hour."""
    return (Decimal(UNIT) / Decimal(units_per_cent) / 100).quantize(Decimal("0.01"))


def units_per_cent(euros: Decimal) -> int:
    """Euros per hour as the contract's rate: token units per euro cent."""
    return int(Decimal(UNIT) / (euros * 100))


def stakeholder_names() -> dict[str, str]:
    """Display names by wallet, when the token admin may read the community's members (else addresses only)."""
    try:
        found = [m for m in common.memberships(identity) if m.chain_community_id == chain_community_id]
        if not found:
            return {}
        return {p["wallet"].lower(): p["name"] for p in common.api(identity).people(found[0].community_id)}
    except ClientError:
        return {}


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
fee_tab, bonus_tab, category_tab, sale_tab = st.tabs(
    [t("tokenadmin.fee"), t("tokenadmin.bonus"), t("tokenadmin.category"), t("tokenadmin.sale")]
)
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

with sale_tab:
    rate = policy["exchange_rate"]  # token units per euro cent
    st.caption(t("tokenadmin.sale_help"))
    if rate:
        st.metric(t("tokenadmin.rate"), t("tokenadmin.rate_value", euros=euros_per_hour(rate)))
    else:
        st.warning(t("tokenadmin.no_rate"))
    new_rate = st.number_input(
        t("tokenadmin.new_rate"),
        0.01,
        10_000.0,
        float(euros_per_hour(rate)) if rate else 10.0,
        0.5,
        key=f"{P}rate",
        help=t("tokenadmin.new_rate_help"),
    )
    st.button(
        t("tokenadmin.sign_rate"),
        key=f"{P}rate_send",
        on_click=common.sign,
        args=(
            "set_rate",
            "CommunityToken",
            token,
            calls.encode_call("setExchangeRate(uint256)", units_per_cent(Decimal(str(new_rate)))),
        ),
    )
    common.show_signing("set_rate", t("tokenadmin.rate_change"))
    buyers = common.attempt(lambda: chain.stakeholders(chain_community_id)) or []
    if not buyers:
        st.info(t("tokenadmin.no_stakeholders"))
    else:
        names = stakeholder_names()
        buyer = st.selectbox(
            t("tokenadmin.buyer"),
            buyers,
            format_func=lambda a: f"{names[a.lower()]} · {a[:6]}…{a[-4:]}" if a.lower() in names else a,
            key=f"{P}buyer",
        )
        paid = st.number_input(t("tokenadmin.paid"), 0.0, 1_000_000.0, 10.0, 1.0, format="%.2f", key=f"{P}paid")
        reference = st.text_input(
            t("tokenadmin.receipt"), key=f"{P}receipt", placeholder=t("tokenadmin.receipt_hint"), max_chars=200
        )
        cents = int((Decimal(str(paid)) * 100).to_integral_value())
        receipt_hash = Web3.keccak(text=reference.strip()) if reference.strip() else None
        problem = None
        if not rate:
            problem = t("tokenadmin.no_rate")
        elif cents <= 0:
            problem = t("tokenadmin.paid_zero")
        elif receipt_hash is None:
            problem = t("tokenadmin.receipt_missing")
        elif chain.receipt_used(chain_community_id, receipt_hash):
            problem = t("tokenadmin.receipt_used")
        if problem:
            st.caption(problem)
        else:
            st.info(
                t(
                    "tokenadmin.sale_preview",
                    hours=deals.hours(cents * rate),
                    euros=f"{paid:.2f}",
                    treasury=deals.hours(policy["treasury"]),
                ),
                icon=":material/receipt_long:",
            )
        st.button(
            t("tokenadmin.sign_sale"),
            key=f"{P}sale_send",
            type="primary",
            disabled=problem is not None,
            on_click=common.sign,
            args=(
                "sell",
                "CommunityToken",
                token,
                calls.encode_call(
                    "sellToStakeholder(address,uint256,bytes32)", buyer, cents, receipt_hash or b"\0" * 32
                ),
            ),
        )
        common.show_signing("sell", t("tokenadmin.sale_done"))
    sales = common.attempt(lambda: chain.sales(chain_community_id)) or []
    if sales:
        names = stakeholder_names()
        st.markdown(f"**{t('tokenadmin.sales')}**")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("tokenadmin.col_buyer"): names.get(r["buyer"].lower(), r["buyer"]),
                        t("tokenadmin.col_paid"): f"{r['paid_cents'] / 100:.2f} €",
                        t("tokenadmin.col_hours"): deals.hours(r["amount"]),
                        t("tokenadmin.col_receipt"): r["receipt_hash"],
                        t("tokenadmin.col_tx"): r["transaction"],
                    }
                    for r in sales
                ]
            ),
            hide_index=True,
        )
