"""Members and registrations (community admin): approve or reject registration requests — the API then adds the
member on chain with the welcome bonus — and see who is in the community."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dapp.client import ClientError
from dapp.views import common

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
st.caption(
    "Community tasks and marketplace disputes are published and resolved with `ape run admin` until the "
    "API exposes the marketplace."
)
