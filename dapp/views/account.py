"""Account: the person's own data and choices — edit the profile, ask to join a community, bind the wallet by
Sign-In with Ethereum (signed in the wallet), leave a community, delete the account (right to be forgotten,
saying what is deleted and what stays on chain)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dapp.client import ClientError
from dapp.components import wallet
from dapp.i18n import t
from dapp.views import common

P = "account_"
KINDS = ["citizen", "stakeholder"]
PROFILES = ["consumer", "prosumer", "prostormer"]

identity = common.signed_in()
st.title(t("account.title"))
api = common.api(identity)


def _load() -> dict[str, Any] | None:
    return common.attempt(api.me)


me = _load()
if me is None:
    st.stop()
communities = common.attempt(api.communities) or []
names = {c["id"]: c["name"] for c in communities}


def _remember(outcome: str, ok: bool) -> None:
    st.session_state[f"{P}outcome"] = (ok, outcome)
    common._me.clear()  # the pages read the memberships again


outcome = st.session_state.pop(f"{P}outcome", None)
if outcome:
    (st.success if outcome[0] else common.show_error)(outcome[1])

# ------------------------------------------------------------------------------------------------ profile
st.subheader(t("account.profile"))
if not me.get("registered"):
    st.info(t("account.not_registered"))
else:
    with st.form(f"{P}profile"):
        c1, c2 = st.columns(2)
        name = c1.text_input(t("account.name"), value=me.get("name") or "")
        surname = c2.text_input(t("account.surname"), value=me.get("surname") or "")
        email = st.text_input(t("account.email"), value=me.get("email") or "", help=t("account.email_help"))
        address = st.text_input(t("account.address"), value=me.get("address") or "")
        c3, c4, c5 = st.columns(3)
        zip_code = c3.text_input(t("account.zip"), value=me.get("zip") or "")
        city = c4.text_input(t("account.city"), value=me.get("city") or "")
        province = c5.text_input(t("account.province"), value=me.get("province") or "")
        saved = st.form_submit_button(t("account.save"))
    if saved:
        changes = {
            "name": name.strip(),
            "surname": surname.strip(),
            "email": email.strip(),
            "address": address.strip() or None,
            "zip": zip_code.strip() or None,
            "city": city.strip() or None,
            "province": province.strip().upper() or None,
        }
        try:
            api.update_me({k: v for k, v in changes.items() if v != me.get(k)})
            _remember(t("account.saved"), True)
        except ClientError as exc:
            _remember(str(exc), False)
        st.rerun()

# ------------------------------------------------------------------------------------------------ communities
st.subheader(t("account.communities"))
memberships = {m["community_id"]: m for m in me.get("memberships", [])}
requests = {r["community_id"]: r for r in me.get("registrations", [])}
for cid in sorted(set(memberships) | set(requests)):
    m, r = memberships.get(cid), requests.get(cid)
    with st.container(border=True):
        status = t("account.member") if m and m.get("active") else t(f"account.request_{r['status']}") if r else ""
        wallet_text = (m or {}).get("wallet") or (r or {}).get("wallet") or t("cadmin.no_wallet")
        st.markdown(
            t(
                "account.community_line",
                community=common.plain(names.get(cid, str(cid))),
                status=status,
                wallet=wallet_text,
            )
        )
        if r and r["status"] == "pending" and not r.get("wallet"):
            st.caption(t("account.bind_help"))
            account = wallet.state().account

            def _challenge(community_id: int = cid) -> None:
                address = wallet.state().account
                if address is None:
                    _remember(t("common.connect_first"), False)
                    return
                try:
                    challenge = api.post("/me/wallet-challenges", {"community_id": community_id, "address": address})
                except ClientError as exc:
                    _remember(str(exc), False)
                    return
                st.session_state[f"{P}siwe_message"] = challenge["message"]
                hex_message = "0x" + challenge["message"].encode("utf-8").hex()
                wallet.ask("siwe", "personal_sign", [hex_message, address])

            st.button(
                t("account.bind"),
                key=f"{P}bind_{cid}",
                type="primary",
                disabled=account is None,
                on_click=_challenge,
            )
        if m and m.get("active"):
            confirm = st.checkbox(t("account.leave_confirm"), key=f"{P}leave_ok_{cid}")

            def _leave(community_id: int = cid) -> None:
                try:
                    api.leave(community_id)
                    _remember(t("account.left", community=names.get(community_id, str(community_id))), True)
                except ClientError as exc:
                    _remember(str(exc), False)

            st.button(t("account.leave"), key=f"{P}leave_{cid}", disabled=not confirm, on_click=_leave)

# The wallet's answer to the Sign-In with Ethereum request: the signed message binds the wallet.
reply = wallet.answer("siwe")
if wallet.waiting("siwe"):
    st.info(t("common.waiting_request"))
elif reply is not None and st.session_state.get(f"{P}siwe_message"):
    message = st.session_state.pop(f"{P}siwe_message")
    if not reply.ok:
        common.show_error(reply.sentence)
    else:
        try:
            api.post("/me/wallets", {"message": message, "signature": str(reply.value)})
            common._me.clear()
            st.success(t("account.bound"))
        except ClientError as exc:
            common.show_error(str(exc))

open_ids = [c["id"] for c in communities if c["id"] not in memberships and c["id"] not in requests]
if open_ids:
    with st.expander(t("account.join"), expanded=not memberships and not requests):
        with st.form(f"{P}join"):
            community_id = st.selectbox(t("common.community"), open_ids, format_func=lambda i: names[i])
            kind = st.radio(
                t("cadmin.col_kind"),
                KINDS,
                format_func=common.labels(KINDS, lambda k: t(f"cadmin.kind_{k}")),
            )
            profile = st.radio(
                t("cadmin.col_profile"),
                PROFILES,
                format_func=common.labels(PROFILES, lambda k: t(f"cadmin.profile_{k}")),
                help=t("account.profile_help"),
            )
            asked = st.form_submit_button(t("account.join_send"))
        if asked:
            try:
                api.post(
                    "/me/registrations",
                    {"community_id": community_id, "member_kind": kind, "energy_profile": profile},
                )
                _remember(t("account.joined", community=names[community_id]), True)
            except ClientError as exc:
                _remember(str(exc), False)
            st.rerun()

# ------------------------------------------------------------------------------------------------ delete
st.subheader(t("account.delete"))
st.markdown(t("account.delete_what"))
if me.get("registered"):
    sure = st.checkbox(t("account.delete_confirm"), key=f"{P}delete_ok")

    def _delete() -> None:
        try:
            api.delete_me()
        except ClientError as exc:
            _remember(str(exc), False)
            return
        st.session_state.pop(common.IDENTITY_KEY, None)
        st.session_state[f"{P}deleted"] = True

    st.button(t("account.delete_button"), key=f"{P}delete", type="primary", disabled=not sure, on_click=_delete)
if st.session_state.pop(f"{P}deleted", False):
    st.success(t("account.deleted"))
    if common.oidc_configured():
        st.logout()
