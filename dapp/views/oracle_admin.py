"""Reward models (oracle admin): every registered version with its parameters in clear, read from the chain, and
the registration of a new version — signed in the wallet by an account holding `oracle-admin`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dapp.components import calls
from dapp.views import common
from oracle.rewards.models import KINDS, RewardModelError, validate_model

P = "oracle_"

identity = common.signed_in()
st.title("Reward models")
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
            "params": st.column_config.TextColumn("parameters (canonical JSON, on chain)"),
            "params_hash": st.column_config.TextColumn("keccak256(params)"),
        },
    )
    st.caption("A version never changes: a change of parameters is registered as a new version of the same name.")
else:
    st.info("No reward model is registered yet.")

st.subheader("Register a new version")
common.wallet_hint()
name = st.text_input("Model name", value="lec-default", key=f"{P}name")
kind = st.selectbox("Kind", KINDS, key=f"{P}kind", help="self-consumption, no-peaks or both combined (DESIGN §5.6).")
params_text = st.text_area(
    "Parameters (integers, JSON)",
    value='{"a": 1000000000000000, "b": 500000000000000, "c": 500000000000000, "max_per_period": 10**21}'.replace(
        "10**21", str(10**21)
    ),
    key=f"{P}params",
    help="Token units per kWh for a, b, c; max_per_period caps the period's total. Only integers, so any auditor "
    "recomputes every reward bit for bit.",
)
canonical = None
try:
    canonical = validate_model(name, kind, params_text).canonical_params
    st.code(canonical, language="json")
except RewardModelError as exc:
    common.show_error(str(exc))
address = common.attempt(lambda: chain.deployments()["contracts"]["RewardModels"])
st.button(
    "Register in MetaMask",
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
common.show_signing("register_model", "Registration")
