"""Audit a bundle (auditor): take a member's proof bundle from the platform or from a file, recompute the leaf and
the reward, and check both against the chain — every check shown with its result."""

from __future__ import annotations

import json

import streamlit as st

from dapp.i18n import t
from dapp.views import common
from oracle.audit.verify import verify_bundle

P = "audit_"

identity = common.signed_in()
st.title(t("auditor.title"))
st.markdown(t("auditor.intro"))
source = st.radio(
    t("auditor.bundle"),
    ["platform", "file"],
    format_func=common.labels(["platform", "file"], lambda s: t(f"auditor.source_{s}")),
    horizontal=True,
    key=f"{P}source",
)
bundle = None
if source == "platform":
    membership = common.pick_membership(P, identity)
    api = common.api(identity)
    periods = common.attempt(lambda: api.periods(membership.community_id, notarised_only=True)) or []
    if not periods:
        st.info(t("auditor.no_periods"))
        st.stop()
    period = st.selectbox(
        t("member.day"), [p["period_id"] for p in periods], format_func=common.day_text, key=f"{P}period"
    )
    people = common.attempt(lambda: api.people(membership.community_id)) or []
    names = {p["wallet"]: p["name"] for p in people}
    picked = st.selectbox(
        t("auditor.member"),
        [*names, ""],
        format_func=common.labels([*names, ""], lambda w: names.get(w, t("wallet.pay_other"))),
        key=f"{P}member",
    )
    account = picked or st.text_input(t("auditor.wallet"), key=f"{P}account", placeholder="0x…")
    if st.button(t("auditor.fetch"), key=f"{P}fetch", disabled=not account):
        st.session_state[f"{P}bundle"] = common.attempt(lambda: api.bundle(membership.community_id, period, account))
    bundle = st.session_state.get(f"{P}bundle")
else:
    upload = st.file_uploader(t("auditor.upload"), type=["json"], key=f"{P}upload")
    if upload is not None:
        try:
            bundle = json.loads(upload.getvalue())
        except json.JSONDecodeError as exc:
            common.show_error(t("auditor.not_json", msg=exc.msg, line=exc.lineno))

if bundle:
    # A bundle may come from a file its member wrote: its fields are shown as text, never as markdown.
    st.caption(
        t(
            "auditor.summary",
            community=common.plain(str(bundle.get("communityId"))),
            period=common.plain(str(bundle.get("periodId"))),
            member=common.plain(str((bundle.get("member") or {}).get("account"))),
            devices=len(bundle.get("devices") or []),
        )
    )
    if st.button(t("auditor.run"), key=f"{P}run", type="primary"):
        try:
            checks = verify_bundle(bundle, common.chain().w3)
        except (KeyError, TypeError, ValueError) as exc:
            common.show_error(t("auditor.malformed", detail=exc))
            st.stop()
        for check in checks:
            (st.success if check.ok else st.error)(
                f"**{check.name}** — {common.plain(check.detail)}",
                icon=":material/check_circle:" if check.ok else ":material/cancel:",
            )
        if checks and all(c.ok for c in checks):
            st.success(t("auditor.passed"))
        else:
            common.show_error(t("auditor.failed"))
