"""Neighbourhood projects (living lab, report §3.4): members join, leave, comment, rate and suggest projects; the
community admin defines them and decides on suggestions; the report's statistics on top (groups below k hidden).
The rules are the API's (docs/living-lab.md); this page only renders and relays."""

from __future__ import annotations

from functools import partial
from typing import Any

import streamlit as st

from dapp.client import ClientError
from dapp.i18n import t
from dapp.views import common

P = "lab_"
KINDS = ["sharing", "co-design", "co-governance"]
NEXT = {"suggested": ["open", "declined"], "open": ["active", "declined"], "active": ["completed"]}

page = common.community_page(P, t("lab.projects.title"), t("lab.projects.intro"))
api = page.api
base = page.base
is_admin = page.is_admin
is_member = page.is_member


def _call(method: str, path: str, body: Any, success: str) -> None:
    try:
        url = f"{base}{path}"
        if method == "POST":
            api.post(url, body)
        elif method == "PUT":
            api.put(url, body)
        elif method == "DELETE":
            api.delete(url)
        else:  # pragma: no cover  (the page calls only the three above)
            raise ValueError(method)
        page.flash(success)
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _create(title: str, description: str, kind: str, capacity: int, benefits: str) -> None:
    body: dict[str, Any] = {"title": title, "description": description, "kind": kind, "expected_benefits": benefits}
    if capacity:
        body["capacity"] = capacity
    _call("POST", "/projects", body, t("lab.projects.created_admin" if is_admin else "lab.projects.suggested"))


def _decide(project_id: int) -> None:
    state = st.session_state.get(f"{P}next_{project_id}")
    reason = st.session_state.get(f"{P}reason_{project_id}") or None
    benefits = st.session_state.get(f"{P}benefits_{project_id}")
    body: dict[str, Any] = {"state": state, "reason": reason}
    if state == "completed" and benefits:
        body["benefits_recorded"] = int(benefits)
    _call(
        "POST",
        f"/projects/{project_id}/decision",
        body,
        t("lab.projects.decided", state=t(f"lab.projects.state_{state}")),
    )


def _comment(project_id: int) -> None:
    text = (st.session_state.get(f"{P}comment_{project_id}") or "").strip()
    if text:
        _call("POST", f"/projects/{project_id}/comments", {"text": text}, t("lab.projects.commented"))


def _rate(project_id: int) -> None:
    stars = int(st.session_state.get(f"{P}stars_{project_id}") or 0) + 1
    _call("PUT", f"/projects/{project_id}/rating", {"stars": stars}, t("lab.projects.rated"))


page.show_flash()

stats = common.attempt(lambda: api.get(f"{base}/projects-statistics"))
if stats:
    cols = st.columns(6)
    cols[0].metric(t("lab.projects.open_count"), stats["open"])
    cols[1].metric(t("lab.projects.active"), stats["active"])
    cols[2].metric(t("lab.projects.completed"), stats["completed"])
    cols[3].metric(t("lab.projects.suggested_count"), stats["suggested"])
    hidden = t("lab.projects.hidden", k=stats["k"])
    rate = stats["adhesion_rate"]
    cols[4].metric(t("lab.projects.adhesion"), f"{rate * 100:.0f} %" if rate is not None else "—", help=hidden)
    sat = stats["satisfaction"]
    cols[5].metric(t("lab.projects.satisfaction"), f"{sat:.1f} / 5" if sat is not None else "—", help=hidden)
    st.caption(t("lab.projects.benefits", benefits=stats["benefits_recorded"]))

if is_admin or is_member:
    with st.expander(t("lab.projects.new_admin" if is_admin else "lab.projects.new_member")):
        title = st.text_input(t("lab.projects.name"), key=f"{P}title")
        description = st.text_area(t("lab.projects.description"), key=f"{P}description")
        kind = st.selectbox(
            t("lab.projects.kind"), KINDS, format_func=lambda k: t(f"lab.projects.kind_{k}"), key=f"{P}kind"
        )
        capacity = st.number_input(
            t("lab.projects.capacity"), min_value=0, max_value=10_000, step=1, key=f"{P}capacity"
        )
        benefits = st.text_input(t("lab.projects.expected"), key=f"{P}expected")
        st.button(
            t("lab.projects.save"),
            key=f"{P}save",
            type="primary",
            disabled=len(title.strip()) < 3 or not description.strip(),
            on_click=_create,
            args=(title, description, kind, int(capacity), benefits),
        )

projects = common.attempt(lambda: api.get(f"{base}/projects")) or []
if not projects:
    st.info(t("lab.projects.none"))
for p in projects:
    with st.container(border=True):
        st.markdown(f"**{common.plain(p['title'])}**")
        places = (
            t("lab.projects.places", n=p["participants"], capacity=p["capacity"])
            if p["capacity"]
            else t("lab.projects.people", n=p["participants"])
        )
        state_text, kind_text = t("lab.projects.state_" + p["state"]), t("lab.projects.kind_" + p["kind"])
        st.caption(f"{state_text} · {kind_text} · {places}")
        st.write(common.plain(p["description"]))
        if p["expected_benefits"]:
            st.caption(t("lab.projects.expected_is", text=common.plain(p["expected_benefits"])))
        if p["decision_reason"]:
            st.caption(t("lab.projects.reason_is", text=common.plain(p["decision_reason"])))
        if is_member and p["state"] in ("open", "active"):
            if p["joined"]:
                st.button(
                    t("lab.projects.leave"),
                    key=f"{P}leave_{p['id']}",
                    on_click=_call,
                    args=("DELETE", f"/projects/{p['id']}/participants", None, t("lab.projects.left")),
                )
            else:
                st.button(
                    t("lab.projects.join"),
                    key=f"{P}join_{p['id']}",
                    type="primary",
                    on_click=_call,
                    args=("POST", f"/projects/{p['id']}/participants", None, t("lab.projects.joined")),
                )
        if is_member and p["state"] == "completed" and p["joined"]:
            st.radio(
                t("lab.projects.your_rating"),
                range(5),
                format_func=lambda i: "★" * (i + 1),
                horizontal=True,
                key=f"{P}stars_{p['id']}",
            )
            st.button(t("lab.projects.rate"), key=f"{P}rate_{p['id']}", on_click=_rate, args=(p["id"],))
        if is_admin and p["state"] in NEXT:
            a, b = st.columns([1, 2])
            a.selectbox(
                t("lab.projects.move_to"),
                NEXT[p["state"]],
                format_func=lambda s: t(f"lab.projects.state_{s}"),
                key=f"{P}next_{p['id']}",
            )
            b.text_input(t("lab.projects.reason"), key=f"{P}reason_{p['id']}")
            if p["state"] == "active":
                st.number_input(t("lab.projects.benefits_recorded"), min_value=0, step=1, key=f"{P}benefits_{p['id']}")
            st.button(t("lab.projects.apply"), key=f"{P}apply_{p['id']}", on_click=_decide, args=(p["id"],))
        if p["state"] != "suggested":
            with st.expander(t("lab.projects.comments")):
                comments_path = f"{base}/projects/{p['id']}/comments"
                for c in common.attempt(partial(api.get, comments_path)) or []:
                    st.caption(f"{c['created_at'][:10]} · {common.plain(c['text'])}")
                if (is_member or is_admin) and p["state"] != "declined":
                    st.text_input(t("lab.projects.your_comment"), key=f"{P}comment_{p['id']}")
                    st.button(t("lab.projects.send"), key=f"{P}send_{p['id']}", on_click=_comment, args=(p["id"],))
