"""Polls (co-governance, one member one vote): members sign their ballot in the wallet (EIP-712 typed data, no gas,
no transaction) and check after the close that it is counted in the notarised tally; the community admin writes,
opens (membership snapshot) and closes polls; everyone who reads the community downloads the public bundle for
`lec verify`. The rules are the API's (docs/living-lab.md); this page only renders and relays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from dapp.client import ClientError
from dapp.components import wallet
from dapp.i18n import t
from dapp.views import common

P = "polls_"

page = common.community_page(P, t("lab.polls.title"), t("lab.polls.intro"))
api = page.api
base = f"{page.base}/polls"
is_admin = page.is_admin


def _request_signature(poll_id: int) -> None:
    """Button callback: the API writes the ballot's typed data, the wallet signs it (eth_signTypedData_v4).
    The choice is read from the radio's state now, not from the render before: a click on an option followed at
    once by the button reaches Streamlit as one run, and the ballot must carry the option the member sees."""
    choice = int(st.session_state.get(f"{P}choice_{poll_id}", 0))
    account = wallet.state().account
    if account is None:
        page.flash(t("lab.polls.connect_wallet"), ok=False)
        return
    try:
        request = api.get(f"{base}/{poll_id}/ballot-request", choice=choice)
    except ClientError as exc:
        page.flash(str(exc), ok=False)
        return
    if request["wallet"] and request["wallet"].lower() != account.lower():
        page.flash(t("lab.polls.wrong_account", wallet=request["wallet"], account=account), ok=False)
        return
    typed = request["typed_data"]
    st.session_state[f"{P}typed_{poll_id}"] = typed
    wallet.ask(f"{P}ballot_{poll_id}", "eth_signTypedData_v4", [account, json.dumps(typed)])


def _send_signed(poll_id: int, options: list[str]) -> None:
    """Once the wallet has answered: send the signature to the API, once."""
    purpose = f"{P}ballot_{poll_id}"
    reply = wallet.answer(purpose)
    if wallet.waiting(purpose):
        st.info(t("lab.polls.waiting_wallet"))
        return
    if reply is None:
        return
    st.session_state.get(wallet.ANSWERS_KEY, {}).pop(purpose, None)  # the answer is used once
    if not reply.ok:
        common.show_error(reply.sentence)
        return
    typed = st.session_state.pop(f"{P}typed_{poll_id}", None)
    if typed is None:
        return
    body = {"choice": typed["message"]["choice"], "nonce": typed["message"]["nonce"], "signature": str(reply.value)}
    try:
        accepted = api.post(f"{base}/{poll_id}/ballots", body)
    except ClientError as exc:
        page.flash(str(exc), ok=False)
        return
    key = "lab.polls.ballot_replaced" if accepted["replaced"] else "lab.polls.ballot_counted"
    page.flash(t(key, option=options[accepted["choice"]]))


def _admin_action(poll_id: int, action: str) -> None:
    try:
        api.post(f"{base}/{poll_id}/{action}")
        page.flash(t(f"lab.polls.done_{action}"))
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _create(question: str, options_text: str, start: datetime, end: datetime) -> None:
    options = [line.strip() for line in options_text.splitlines() if line.strip()]
    try:
        api.post(
            base, {"question": question, "options": options, "starts_at": start.isoformat(), "ends_at": end.isoformat()}
        )
        page.flash(t("lab.polls.created"))
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _tally(poll: dict[str, Any]) -> None:
    counts = poll["counts"] or []
    frame = pd.DataFrame({t("lab.polls.option"): poll["options"], t("lab.polls.votes"): counts})
    st.dataframe(frame, hide_index=True)
    st.caption(
        t("lab.polls.turnout", ballots=poll["ballots"], eligible=poll["eligible"])
        + " · "
        + (t("lab.polls.notarised", tx=poll["tx_hash"]) if poll["tx_hash"] else t("lab.polls.not_notarised"))
    )


def _my_check(poll: dict[str, Any]) -> None:
    receipt = common.attempt(lambda: api.get(f"{base}/{poll['id']}/receipt"))
    if receipt is None:
        return
    option = poll["options"][receipt["choice"]]
    if receipt["counted"]:
        st.success(t("lab.polls.my_ballot_counted", option=option))
    else:
        common.show_error(t("lab.polls.my_ballot_not_confirmed"))
    bundle = common.attempt(lambda: api.get(f"{base}/{poll['id']}/bundle"))
    if bundle is not None:
        st.download_button(
            t("lab.polls.download_receipt"),
            json.dumps({**bundle, "receipt": receipt}, indent=2),
            file_name=f"poll-{poll['id']}-my-receipt.json",
            key=f"{P}receipt_dl_{poll['id']}",
            help=t("lab.polls.receipt_help"),
        )


polls = common.attempt(lambda: api.get(base)) or []
answered = [p for p in polls if wallet.answer(f"{P}ballot_{p['id']}") or wallet.waiting(f"{P}ballot_{p['id']}")]
for poll in answered:
    _send_signed(poll["id"], poll["options"])
if answered:
    polls = common.attempt(lambda: api.get(base)) or polls  # after a ballot was sent: the fresh counts
page.show_flash()

if is_admin:
    with st.expander(t("lab.polls.new"), expanded=not polls):
        question = st.text_input(t("lab.polls.question"), key=f"{P}question")
        options_text = st.text_area(t("lab.polls.options"), key=f"{P}options", help=t("lab.polls.options_help"))
        today = datetime.now(UTC).date()
        a, b = st.columns(2)
        start_day = a.date_input(t("lab.polls.starts"), today, key=f"{P}start")
        end_day = b.date_input(t("lab.polls.ends"), today + timedelta(days=7), key=f"{P}end")
        st.button(
            t("lab.polls.create"),
            key=f"{P}create",
            type="primary",
            disabled=not question or not options_text,
            on_click=_create,
            args=(
                question,
                options_text,
                datetime.combine(start_day, time(0), tzinfo=UTC),
                datetime.combine(end_day, time(23, 59), tzinfo=UTC),
            ),
        )

if not polls:
    st.info(t("lab.polls.none"))
now = datetime.now(UTC)
for poll in polls:
    with st.container(border=True):
        st.markdown(f"**{common.plain(poll['question'])}**")
        ends = datetime.fromisoformat(poll["ends_at"])
        st.caption(
            t(f"lab.polls.state_{poll['state']}")
            + " · "
            + t(
                "lab.polls.window",
                start=poll["starts_at"][:16].replace("T", " "),
                end=poll["ends_at"][:16].replace("T", " "),
            )
        )
        if poll["state"] == "open":
            if poll["my_choice"] is not None:
                st.info(t("lab.polls.your_choice", option=poll["options"][poll["my_choice"]]))
            if poll["may_vote"] and now < ends:
                labels: list[str] = poll["options"]
                st.radio(
                    t("lab.polls.your_vote"),
                    list(range(len(labels))),
                    format_func=labels.__getitem__,
                    key=f"{P}choice_{poll['id']}",
                )
                st.button(
                    t("lab.polls.sign"),
                    key=f"{P}sign_{poll['id']}",
                    type="primary",
                    on_click=_request_signature,
                    args=(poll["id"],),
                    help=t("lab.polls.sign_help"),
                )
            elif not poll["may_vote"] and not is_admin:
                st.caption(t("lab.polls.not_in_snapshot"))
            st.caption(t("lab.polls.ballots_so_far", ballots=poll["ballots"], eligible=poll["eligible"]))
            if is_admin:
                st.button(
                    t("lab.polls.close"),
                    key=f"{P}close_{poll['id']}",
                    disabled=now < ends,
                    on_click=_admin_action,
                    args=(poll["id"], "close"),
                    help=t("lab.polls.close_help"),
                )
        elif poll["state"] == "draft" and is_admin:
            st.write(", ".join(common.plain(o) for o in poll["options"]))
            st.button(
                t("lab.polls.open"),
                key=f"{P}open_{poll['id']}",
                on_click=_admin_action,
                args=(poll["id"], "open"),
                help=t("lab.polls.open_help"),
            )
        elif poll["state"] == "closed":
            _tally(poll)
            if poll["my_choice"] is not None and st.button(t("lab.polls.check_mine"), key=f"{P}check_{poll['id']}"):
                _my_check(poll)
            bundle_path = f"{base}/{poll['id']}/bundle"
            bundle = common.attempt(partial(api.get, bundle_path))
            if bundle is not None:
                st.download_button(
                    t("lab.polls.download_bundle"),
                    json.dumps(bundle, indent=2),
                    file_name=f"poll-{poll['id']}-bundle.json",
                    key=f"{P}bundle_dl_{poll['id']}",
                    help=t("lab.polls.bundle_help"),
                )
