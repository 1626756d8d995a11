"""Messages (living lab, report §3.2 "messaggi generalizzati o puntuali", newsletter): each member reads their own
inbox, marks messages read, asks for e-mail copies and mutes categories; the community admin writes a message or
newsletter to every member, a cluster, a project's participants or one member, now or at a scheduled time, and
sees how many opened it. The rules are the API's (docs/living-lab.md)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import streamlit as st

from dapp.client import ClientError
from dapp.i18n import t
from dapp.views import common
from lec.calendar import ROME

P = "inbox_"
CATEGORIES = ("newsletter", "project", "announcements")

page = common.community_page(P, t("lab.inbox.title"), t("lab.inbox.intro"))
api = page.api
base = page.base
is_admin = page.is_admin


def _mark(message_id: int, read: bool) -> None:
    try:
        path = f"{base}/inbox/{message_id}/read"
        api.post(path) if read else api.delete(path)
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _save_preferences() -> None:
    muted = [c for c in CATEGORIES if not st.session_state.get(f"{P}cat_{c}", True)]
    try:
        api.put(f"{base}/inbox/preferences", {"email": bool(st.session_state.get(f"{P}email")), "muted": muted})
        page.flash(t("lab.inbox.preferences_saved"))
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _send(projects: dict[int, str]) -> None:
    subject = (st.session_state.get(f"{P}subject") or "").strip()
    body_text = (st.session_state.get(f"{P}body") or "").strip()
    target = st.session_state.get(f"{P}audience", "all")
    body: dict[str, Any] = {"subject": subject, "body": body_text, "kind": st.session_state.get(f"{P}kind", "message")}
    kind, _, ident = str(target).partition(":")
    if kind in ("project", "cluster", "recipient"):
        body[f"{kind}_id"] = int(ident)
    if st.session_state.get(f"{P}later"):
        day = st.session_state.get(f"{P}day") or datetime.now(UTC).date()
        at = st.session_state.get(f"{P}time") or time(9, 0)
        body["send_at"] = datetime.combine(day, at, tzinfo=ROME).isoformat()  # the community's clock
    try:
        sent = api.post(f"{base}/messages", body)
        page.flash(
            t("lab.inbox.sent", n=sent["recipients"])
            if sent["sent_at"]
            else t("lab.inbox.scheduled", when=common.local_time(sent["send_at"]))
        )
        st.session_state[f"{P}subject"] = ""
        st.session_state[f"{P}body"] = ""
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _audience(m: dict[str, Any], projects: dict[int, str], clusters: dict[int, str], members: dict[int, str]) -> str:
    if m["project_id"]:
        return projects.get(m["project_id"], "—")
    if m.get("cluster_id"):
        return t("lab.inbox.cluster", name=clusters.get(m["cluster_id"], str(m["cluster_id"])))
    if m.get("recipient_id"):
        return members.get(m["recipient_id"], "—")
    return t("lab.inbox.all_members")


def _paragraphs(text: str) -> str:
    return "\n\n".join(common.plain(line) for line in text.splitlines() if line.strip())


page.show_flash()

inbox = common.attempt(lambda: api.get(f"{base}/inbox"))
if inbox is not None:
    st.metric(t("lab.inbox.unread"), inbox["unread"])
    if not inbox["messages"]:
        st.info(t("lab.inbox.empty"))
    for m in inbox["messages"]:
        marker = "" if m["read"] else "● "
        kind = t(f"lab.inbox.category_{m.get('category', 'announcements')}")
        # Unread messages are shown open; marking one read folds it away.
        title = f"{marker}{common.plain(m['subject'])} · {kind} · {common.local_time(m['created_at'], time_too=False)}"
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

prefs = common.attempt(lambda: api.get(f"{base}/inbox/preferences"))
if prefs is not None:
    with st.expander(t("lab.inbox.preferences")):
        st.toggle(t("lab.inbox.email_opt_in"), value=prefs["email"], key=f"{P}email")
        st.caption(t("lab.inbox.categories_help"))
        for c in CATEGORIES:
            st.checkbox(t(f"lab.inbox.category_{c}"), value=c not in prefs["muted"], key=f"{P}cat_{c}")
        st.button(t("lab.inbox.save_preferences"), key=f"{P}save_prefs", on_click=_save_preferences)

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
    try:  # no clustering yet: no cluster to write to (not an error for this page)
        clusters = {c["id"]: c["description"] for c in api.get(f"{base}/clusters")["clusters"]}
    except ClientError:
        clusters = {}
    members_page = common.attempt(lambda: api.get(f"{base}/members", limit=500)) or {"items": []}
    members = {m["user_id"]: f"{m['name']} {m['surname']}" for m in members_page["items"] if m["active"]}
    audiences = {"all": t("lab.inbox.all_members")}
    audiences |= {f"project:{pid}": t("lab.inbox.project", title=title) for pid, title in projects.items()}
    audiences |= {f"cluster:{cid}": t("lab.inbox.cluster", name=name) for cid, name in clusters.items()}
    audiences |= {f"recipient:{uid}": t("lab.inbox.one_member", name=name) for uid, name in members.items()}
    st.selectbox(t("lab.inbox.audience"), list(audiences), format_func=audiences.__getitem__, key=f"{P}audience")
    subject = st.text_input(t("lab.inbox.subject"), key=f"{P}subject", max_chars=160)
    text = st.text_area(t("lab.inbox.body"), key=f"{P}body", height=160)
    later = st.toggle(t("lab.inbox.later"), key=f"{P}later")
    if later:
        left, right = st.columns(2)
        left.date_input(t("lab.inbox.day"), datetime.now(UTC).date() + timedelta(days=1), key=f"{P}day")
        right.time_input(t("lab.inbox.time"), time(9, 0), key=f"{P}time")
        st.caption(t("lab.inbox.later_help"))
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
                    t("lab.inbox.col_date"): common.local_time(m["sent_at"] or m["created_at"]),
                    t("lab.inbox.col_subject"): m["subject"],
                    t("lab.inbox.col_kind"): t(f"lab.inbox.kind_{m['kind']}"),
                    t("lab.inbox.col_to"): _audience(m, projects, clusters, members),
                    t("lab.inbox.col_read"): f"{m['read']} / {m['recipients']}"
                    if m["sent_at"]
                    else t("lab.inbox.waiting", when=common.local_time(m["send_at"])),
                }
                for m in sent
            ],
            hide_index=True,
            use_container_width=True,
        )
