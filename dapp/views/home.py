"""Home: what the platform is, who is signed in and what each role finds here."""

from __future__ import annotations

import streamlit as st

from dapp.views import common

identity = common.current_identity()
st.title("Local Energy Community")
st.markdown(
    "Members share the energy produced in the community and earn tokens (1 token = 1 hour of the time bank) "
    "for consuming it when it is produced and for avoiding load peaks. Every reward is computed by the oracle, "
    "notarised on the community's chain and claimable with a proof anyone can check."
)
if identity is None:
    st.info("Sign in from the sidebar to see your energy, your wallet and the pages of your role.")
else:
    st.subheader(f"Welcome, {common.plain(identity.name)}")
    jobs = {
        "token-holder": "**My energy** shows your curves, bands and rewards; **Wallet** moves tokens.",
        "community-admin": "**Community dashboard** and **Members and tasks** run the community.",
        "oracle-admin": "**Reward models** registers model versions, stored in clear on chain.",
        "token-admin": "**Token policy** sets fees, incentives and bonuses, signed in your wallet.",
        "auditor": "**Audit a bundle** checks a member's data and reward against the chain.",
        "platform-admin": "**Community dashboard** shows every community.",
    }
    for role in sorted(identity.roles):
        st.markdown(f"- {jobs[role]}")
