"""Audit a bundle (auditor): take a member's proof bundle from the platform or from a file, recompute the leaf and
the reward, and check both against the chain — every check shown with its result."""

from __future__ import annotations

import json

import streamlit as st

from dapp.views import common
from oracle.audit.verify import verify_bundle

P = "audit_"

identity = common.signed_in()
st.title("Audit a bundle")
st.markdown(
    "The checks run here, against the chain node, with the oracle's own verification code: nothing is taken on "
    "the platform's word. The same bundle verifies with `lec verify` or with web3 alone."
)
source = st.radio("Bundle", ["From the platform", "Upload a file"], horizontal=True, key=f"{P}source")
bundle = None
if source == "From the platform":
    membership = common.pick_membership(P, identity)
    api = common.api(identity)
    periods = common.attempt(lambda: api.periods(membership.community_id, notarised_only=True)) or []
    if not periods:
        st.info("No notarised period yet.")
        st.stop()
    period = st.selectbox("Period", [p["period_id"] for p in periods], key=f"{P}period")
    account = st.text_input("Member wallet", key=f"{P}account", placeholder="0x…")
    if st.button("Fetch the bundle", key=f"{P}fetch", disabled=not account):
        st.session_state[f"{P}bundle"] = common.attempt(lambda: api.bundle(membership.community_id, period, account))
    bundle = st.session_state.get(f"{P}bundle")
else:
    upload = st.file_uploader("Proof bundle (JSON)", type=["json"], key=f"{P}upload")
    if upload is not None:
        try:
            bundle = json.loads(upload.getvalue())
        except json.JSONDecodeError as exc:
            common.show_error(f"The file is not JSON ({exc.msg} at line {exc.lineno}).")

if bundle:
    # A bundle may come from a file its member wrote: its fields are shown as text, never as markdown.
    st.caption(
        f"Community {common.plain(str(bundle.get('communityId')))} · period "
        f"{common.plain(str(bundle.get('periodId')))} · member "
        f"{common.plain(str((bundle.get('member') or {}).get('account')))} · "
        f"{len(bundle.get('devices') or [])} device(s)"
    )
    if st.button("Run the verification", key=f"{P}run", type="primary"):
        try:
            checks = verify_bundle(bundle, common.chain().w3)
        except (KeyError, TypeError, ValueError) as exc:
            common.show_error(f"The bundle is incomplete or malformed ({exc}): fetch it again from the platform.")
            st.stop()
        for check in checks:
            (st.success if check.ok else st.error)(
                f"**{check.name}** — {common.plain(check.detail)}",
                icon=":material/check_circle:" if check.ok else ":material/cancel:",
            )
        if checks and all(c.ok for c in checks):
            st.success("Every check passed: the member's data and reward match what was notarised on chain.")
        else:
            common.show_error("The bundle does not match the chain: see the failed check above.")
