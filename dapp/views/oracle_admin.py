"""Reward models (oracle admin): every registered version with its parameters in clear, read from the chain, and
the registration of a new version — signed in the wallet by an account holding `oracle-admin`; then the period
runs notarised on chain (day, community, status, roots, share claimed, transaction)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dapp.components import calls
from dapp.i18n import t
from dapp.views import common, deals
from oracle.rewards.models import KINDS, RewardModelError, validate_model

P = "oracle_"


def run_status(run: dict) -> str:
    """A run's on-chain status in words: published, a correction (with its reason), or replaced by a later one."""
    if not run["latest"]:
        return t("oracle.status_replaced")
    if run["version"] > 1:
        return t("oracle.status_corrected", version=run["version"], reason=run["correction_reason"] or "")
    return t("oracle.status_published")


def run_row(run: dict, community: str) -> dict:
    claimed = run["claimed"]
    share = None if claimed is None or not run["total_rewards"] else 100 * claimed / run["total_rewards"]
    return {
        t("oracle.col_day"): common.day_text(run["period"]),
        t("oracle.col_community"): community,
        t("oracle.col_status"): run_status(run),
        t("oracle.col_rewards"): t("common.hours", n=deals.hours(run["total_rewards"])),
        t("oracle.col_members"): run["leaf_count"],
        t("oracle.col_claimed"): share,
        t("oracle.col_root"): run["rewards_root"],
        t("oracle.col_tx"): run["transaction"],
    }


identity = common.signed_in()
st.title(t("oracle.title"))
chain = common.chain()
models = common.attempt(chain.models)
if models is None:
    st.stop()
if models:
    table = pd.DataFrame(models)[["id", "name", "version", "kind", "params", "params_hash", "registered_by"]]
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "id": st.column_config.NumberColumn(t("oracle.col_id")),
            "name": st.column_config.TextColumn(t("oracle.col_name")),
            "version": st.column_config.NumberColumn(t("oracle.col_version")),
            "kind": st.column_config.TextColumn(t("oracle.col_kind")),
            "params": st.column_config.TextColumn(t("oracle.col_params")),
            "params_hash": st.column_config.TextColumn(t("oracle.col_hash")),
            "registered_by": st.column_config.TextColumn(t("oracle.col_by")),
        },
    )
    st.caption(t("oracle.versions_help"))
else:
    st.info(t("oracle.no_models"))

st.subheader(t("oracle.register_title"))
common.wallet_hint()
name = st.text_input(t("oracle.name"), value="lec-default", key=f"{P}name")
kind = st.selectbox(t("oracle.kind"), KINDS, key=f"{P}kind", help=t("oracle.kind_help"))
params_text = st.text_area(
    t("oracle.params"),
    value='{"a": 1000000000000000, "b": 500000000000000, "c": 500000000000000, "max_per_period": 10**21}'.replace(
        "10**21", str(10**21)
    ),
    key=f"{P}params",
    help=t("oracle.params_help"),
)
canonical = None
try:
    canonical = validate_model(name, kind, params_text).canonical_params
    st.code(canonical, language="json")
except RewardModelError as exc:
    common.show_error(str(exc))
address = common.attempt(lambda: chain.deployments()["contracts"]["RewardModels"])
st.button(
    t("oracle.register"),
    key=f"{P}register",
    type="primary",
    disabled=canonical is None or address is None,
    on_click=common.sign,
    args=(
        "register_model",
        "RewardModels",
        address,
        calls.encode_call("registerModel(string,string,string)", name, kind, canonical or ""),
    ),
)
common.show_signing("register_model", t("oracle.registration"))

st.subheader(t("oracle.runs_title"))
st.caption(t("oracle.runs_help"))
run_community = common.chain_community_picker(f"{P}runs", identity)
community_names = {c.chain_community_id: c.name for c in common.attempt(chain.communities) or []}
runs = common.attempt(lambda: chain.period_runs(run_community))
if runs is not None and not runs:
    st.info(t("oracle.no_runs"))
elif runs:
    st.dataframe(
        pd.DataFrame([run_row(r, community_names.get(run_community, str(run_community))) for r in runs]),
        hide_index=True,
        column_config={
            t("oracle.col_claimed"): st.column_config.ProgressColumn(
                t("oracle.col_claimed"), min_value=0, max_value=100, format="%.0f %%"
            )
        },
    )
