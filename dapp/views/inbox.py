"""Messages (living lab, report §3.2 "messaggi generalizzati o puntuali", newsletter): each member reads their own
inbox and marks messages read; the community admin writes a message or newsletter to every member or to a
project's participants and sees how many opened it. The rules are the API's (docs/living-lab.md)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dapp.client import ClientError
from dapp.i18n import t
from dapp.views import common

P = "inbox_"

identity = common.signed_in()
st.title(t("lab.inbox.title"))
st.caption(t("lab.inbox.intro"))
membership = common.pick_membership(P, identity)
api = common.api(identity)
base = f"/communities/{membership.community_id}"
is_admin = identity.has("community-admin", "platform-admin")


def _flash(message: str, ok: bool = True) -> None:
    st.session_state[f"{P}flash"] = (ok, message)


def _mark(message_id: int, read: bool) -> None:
    try:
        path = f"{base}/inbox/{message_id}/read"
        api.post(path) if read else api.delete(path)
    except ClientError as exc:
        _flash(str(exc), ok=False)


def _send(projects: dict[int, str]) -> None:
    subject = (st.session_state.get(f"{P}subject") or "").strip()
    body_text = (st.session_state.get(f"{P}body") or "").strip()
    target = st.session_state.get(f"{P}audience", 0)
    body: dict[str, Any] = {"subject": subject, "body": body_text, "kind": st.session_state.get(f"{P}kind", "message")}
    if target:
        body["project_id"] = int(target)
    try:
        sent = api.post(f"{base}/messages", body)
        _flash(t("lab.inbox.sent", n=sent["recipients"]))
        st.session_state[f"{P}subject"] = ""
        st.session_state[f"{P}body"] = ""
    except ClientError as exc:
        _flash(str(exc), ok=False)


def _paragraphs(text: str) -> str:
    return "\n\n".join(common.plain(line) for line in text.splitlines() if line.strip())


flash = st.session_state.pop(f"{P}flash", None)
if flash:
    (st.success if flash[0] else common.show_error)(flash[1])

inbox = common.attempt(lambda: api.get(f"{base}/inbox"))
if inbox is not None:
    st.metric(t("lab.inbox.unread"), inbox["unread"])
    if not inbox["messages"]:
        st.info(t("lab.inbox.empty"))
    for m in inbox["messages"]:
        marker = "" if m["read"] else "● "
        kind = t(f"lab.inbox.kind_{m['kind']}")
        # Unread messages are shown open; marking one read folds it away.
        title = f"{marker}{common.plain(m['subject'])} · {kind} · {m['created_at'][:10]}"
        with st.expander(title, expanded=not m["read"]):
            st.markdown(_paragraphs(m["body"]))
            if m["read"]:
                st.button(t("lab.inbox.mark_unread"), key=f"{P}unread_{m['id']}", on_click=_mark, args=(m["id"], False))
            else:
                st.button(
                    t("lab.inbox.mark_read"),
                    key=f"{P}read_{m['id']}",
                    type="primary",
                    on_click=_mark,
                    args=(m["id"], True),
                )

if is_admin:
    st.divider()
    st.subheader(t("lab.inbox.write"))
    projects = {
        p["id"]: p["title"]
        for p in common.attempt(lambda: api.get(f"{base}/projects")) or []
        if p["state"] in ("open", "active", "completed")
    }
    st.radio(
        t("lab.inbox.kind"),
        ["message", "newsletter"],
        format_func=lambda k: t(f"lab.inbox.kind_{k}"),
        horizontal=True,
        key=f"{P}kind",
    )
    st.selectbox(
        t("lab.inbox.audience"),
        [0, *projects],
        format_func=lambda pid: t("lab.inbox.all_members") if not pid else t("lab.inbox.project", title=projects[pid]),
        key=f"{P}audience",
    )
    subject = st.text_input(t("lab.inbox.subject"), key=f"{P}subject", max_chars=160)
    text = st.text_area(t("lab.inbox.body"), key=f"{P}body", height=160)
    st.button(
        t("lab.inbox.send"),
        key=f"{P}send",
        type="primary",
        disabled=len(subject.strip()) < 3 or not text.strip(),
        on_click=_send,
        args=(projects,),
    )
    sent = common.attempt(lambda: api.get(f"{base}/messages")) or []
    if sent:
        st.subheader(t("lab.inbox.sent_title"))
        st.dataframe(
            [
                {
                    t("lab.inbox.col_date"): m["created_at"][:16].replace("T", " "),
                    t("lab.inbox.col_subject"): m["subject"],
                    t("lab.inbox.col_kind"): t(f"lab.inbox.kind_{m['kind']}"),
                    t("lab.inbox.col_to"): projects.get(m["project_id"], "—")
                    if m["project_id"]
                    else t("lab.inbox.all_members"),
                    t("lab.inbox.col_read"): f"{m['read']} / {m['recipients']}",
                }
                for m in sent
            ],
            hide_index=True,
            use_container_width=True,
        )
