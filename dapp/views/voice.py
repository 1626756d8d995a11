"""The community's voice (living lab, report §5.4): members say what they think of the community or of a project
(text and 1–5 stars) and see the sentiment read in their words; the community admin sees how many texts are
positive, neutral or negative, the averages overall and per project (hidden below k texts) and the latest texts,
without their authors. The sentiment comes from the shipped Italian/English lexicon (docs/living-lab.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from dapp.client import ClientError
from dapp.i18n import t
from dapp.views import common
from lec.calendar import ROME
from lec.lab.objectives import curve_with_pv_share, hourly_shares, pv_share

P = "voice_"
K = 3

page = common.community_page(P, t("lab.voice.title"), t("lab.voice.intro"))
identity, api = page.identity, page.api
base = page.base
is_admin = page.is_admin
is_member = page.is_member


def _label(label: str) -> str:
    return t(f"lab.voice.label_{label}")


def _give() -> None:
    text = (st.session_state.get(f"{P}text") or "").strip()
    stars = int(st.session_state.get(f"{P}stars") or 0) + 1
    target = st.session_state.get(f"{P}about", 0)
    body: dict[str, Any] = {"text": text, "rating": stars}
    if target:
        body["project_id"] = int(target)
    try:
        row = api.post(f"{base}/feedback", body)
        page.flash(t("lab.voice.thanks", label=_label(row["label"]).lower()))
        st.session_state[f"{P}text"] = ""
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _trend(points: list[dict[str, Any]]) -> None:
    """Sentiment per period (rows) and target (columns): a line chart of the cells shown (k texts or more) and the
    table with the counts."""
    if not points:
        return
    st.subheader(t("lab.voice.trend"))
    about = {p["project_id"]: p["title"] or t("lab.voice.community") for p in points}
    about[None] = t("lab.voice.community")
    periods = sorted({p["period"] for p in points})
    chart: dict[str, list[float | None]] = {about[k]: [None] * len(periods) for k in about}
    for p in points:
        if p["average_sentiment"] is not None:
            chart[about[p["project_id"]]][periods.index(p["period"])] = p["average_sentiment"]
    shown = {name: values for name, values in chart.items() if any(v is not None for v in values)}
    if shown:
        st.line_chart(
            {t("lab.voice.col_period"): periods, **shown},
            x=t("lab.voice.col_period"),
            x_label=t("lab.voice.period_axis"),
            y_label=t("lab.voice.tone_axis"),
        )
    st.dataframe(
        [
            {
                t("lab.voice.col_period"): _period(p["period"]),
                t("lab.voice.col_about"): about[p["project_id"]],
                t("lab.voice.col_count"): p["count"],
                t("lab.voice.col_rating"): f"{p['average_rating']:.1f}" if p["average_rating"] is not None else "—",
                t("lab.voice.col_sentiment"): f"{p['average_sentiment']:+.2f}"
                if p["average_sentiment"] is not None
                else "—",
            }
            for p in points
        ],
        hide_index=True,
        use_container_width=True,
    )


def _themes(words: list[dict[str, Any]]) -> None:
    st.subheader(t("lab.voice.themes"))
    if not words:
        st.caption(t("lab.voice.no_themes", k=K))
        return
    st.bar_chart(
        {t("lab.voice.col_word"): [w["word"] for w in words], t("lab.voice.col_texts"): [w["texts"] for w in words]},
        x=t("lab.voice.col_word"),
        y=t("lab.voice.col_texts"),
        horizontal=True,
    )
    st.caption(t("lab.voice.themes_help", k=K))


def _follow() -> None:
    url = (st.session_state.get(f"{P}feed_url") or "").strip()
    words = [w.strip() for w in (st.session_state.get(f"{P}feed_words") or "").split(",") if w.strip()]
    try:
        feed = api.post(f"{base}/voices/feeds", {"url": url, "keywords": words})
        fetched = api.post(f"{base}/voices/feeds/{feed['id']}/fetch")
        page.flash(t("lab.voice.feed_added", n=fetched["added"]))
        st.session_state[f"{P}feed_url"] = ""
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _fetch(feed_id: int) -> None:
    try:
        page.flash(t("lab.voice.feed_fetched", n=api.post(f"{base}/voices/feeds/{feed_id}/fetch")["added"]))
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _unfollow(feed_id: int) -> None:
    try:
        api.delete(f"{base}/voices/feeds/{feed_id}")
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _external(summary: dict[str, Any] | None) -> None:
    """Voices from the followed feeds: counts, tone over time, themes, the latest entries with their links, and
    the feeds themselves (follow, read now, stop following)."""
    st.subheader(t("lab.voice.external"))
    st.caption(t("lab.voice.external_intro"))
    if summary and summary["count"]:
        cols = st.columns(4)
        cols[0].metric(t("lab.voice.external_count"), summary["count"])
        cols[1].metric(_label("positive"), summary["positive"])
        cols[2].metric(_label("neutral"), summary["neutral"])
        cols[3].metric(_label("negative"), summary["negative"])
        if len(summary["trend"]) > 1:
            st.line_chart(
                {
                    t("lab.voice.col_period"): [p["period"] for p in summary["trend"]],
                    t("lab.voice.col_sentiment"): [p["average_sentiment"] for p in summary["trend"]],
                },
                x=t("lab.voice.col_period"),
                x_label=t("lab.voice.period_axis"),
                y_label=t("lab.voice.tone_axis"),
            )
        if summary["themes"]:
            st.caption(t("lab.voice.external_themes", words=", ".join(w["word"] for w in summary["themes"])))
        for v in summary["latest"]:
            with st.container(border=True):
                when = common.local_time(v["published_at"], time_too=False)
                st.caption(f"{when} · {common.plain(v['source'])} · {_label(v['label'])} ({v['sentiment']:+.2f})")
                st.markdown(f"**{common.plain(v['title'])}**")
                if v["text"]:
                    st.write(common.plain(v["text"][:500]))
                if v["link"].startswith(("http://", "https://")):
                    st.link_button(t("lab.voice.open_link"), v["link"])
    else:
        st.info(t("lab.voice.external_none"))
    followed = common.attempt(lambda: api.get(f"{base}/voices/feeds")) or []
    with st.expander(t("lab.voice.feeds", n=len(followed))):
        for f in followed:
            left, mid, right = st.columns([6, 1, 1])
            status = (
                t("lab.voice.feed_error", error=f["error"])
                if f["error"]
                else (t("lab.voice.feed_read", when=common.local_time(f["fetched_at"])) if f["fetched_at"] else "")
            )
            left.markdown(
                f"**{common.plain(f['title'] or f['url'])}**  \n{common.plain(', '.join(f['keywords']))} · {status}"
            )
            mid.button(t("lab.voice.feed_fetch"), key=f"{P}fetch_{f['id']}", on_click=_fetch, args=(f["id"],))
            right.button(t("lab.voice.feed_remove"), key=f"{P}drop_{f['id']}", on_click=_unfollow, args=(f["id"],))
        url = st.text_input(t("lab.voice.feed_url"), key=f"{P}feed_url", placeholder="https://…/rss")
        words = st.text_input(
            t("lab.voice.feed_words"), key=f"{P}feed_words", placeholder="San Salvario, comunità energetica"
        )
        st.button(
            t("lab.voice.feed_follow"),
            key=f"{P}follow",
            disabled=not url.strip() or not words.strip(),
            on_click=_follow,
        )


def _set_objective() -> None:
    month = st.session_state.get(f"{P}obj_month")
    target = st.session_state.get(f"{P}obj_target")
    try:
        api.put(f"{base}/objectives", {"month": month, "target_pct": float(target or 0)})
        page.flash(t("lab.voice.objective_saved", month=_month(month or ""), pct=f"{float(target or 0):.0f}"))
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _month(month: str) -> str:
    """ "2026-11" as a resident reads it: "novembre 2026"."""
    year, number = month.split("-")
    return t(f"lab.month_{int(number)}", year=year)


def _period(period: str) -> str:
    """A trend's period in words: "novembre 2026" for "2026-11", "settimana 48 del 2026" for "2026-W48"."""
    if "-W" in period:
        year, week = period.split("-W")
        return t("lab.voice.week_n", n=int(week), year=year)
    return _month(period)


def _hour(h: int) -> str:
    return f"{h:02d}:00"


def _group_names(clustering: dict[str, Any] | None) -> dict[int, str]:
    """The clusters of the latest clustering, named as the member page numbers them ("Gruppo 2")."""
    clusters = (clustering or {}).get("clusters") or []
    return {c["id"]: t("lab.voice.group_n", n=i + 1) for i, c in enumerate(clusters)}


def _set_cluster_objective(proposal: list[float]) -> None:
    cluster = st.session_state.get(f"{P}cobj_cluster")
    month = st.session_state.get(f"{P}cobj_month")
    try:
        api.put(f"{base}/objectives/clusters/{cluster}", {"month": month, "target_curve": proposal})
        page.flash(t("lab.voice.cobj_saved", month=_month(month or ""), pct=f"{pv_share(proposal):.0f}"))
    except ClientError as exc:
        page.flash(str(exc), ok=False)


def _curve_chart(target: list[float], actual: list[float] | None) -> None:
    """Target and actual day (% of the daily consumption per local hour), the PV hours named in the caption."""
    lines: dict[str, list[Any]] = {t("lab.voice.col_hour"): [_hour(h) for h in range(24)]}
    lines[t("lab.voice.cobj_target_line")] = target
    if actual is not None:
        lines[t("lab.voice.cobj_actual_line")] = actual
    st.line_chart(lines, x=t("lab.voice.col_hour"), x_label=t("lab.voice.cobj_x"), y_label=t("lab.voice.cobj_y"))


def _days_caption(o: dict[str, Any]) -> str:
    """How many days of the objective's month have data, out of those gone by and of the month."""
    return t("lab.voice.objective_days", n=o["days_with_data"], elapsed=o["days_elapsed"], total=o["days_in_month"])


def _cluster_objectives(months: list[str]) -> None:
    """The consumption groups' target curves: the admin's (every group) or the member's own group's, with the
    share of consumption in the sun hours so far, the match of the two curves and the hours furthest off."""
    rows = common.attempt(lambda: api.get(f"{base}/objectives/clusters"))
    if rows is None:
        return
    clustering = common.attempt(lambda: api.clusters(page.membership.community_id)) if rows or is_admin else None
    names = _group_names(clustering)
    st.markdown(f"#### {t('lab.voice.cobj_title')}")
    st.caption(t("lab.voice.cobj_help", k=K))
    for o in rows:
        name = names.get(o["cluster_id"], t("lab.voice.group_old"))
        with st.container(border=True):
            achieved = o["achieved_pct"]
            st.markdown(
                t(
                    "lab.voice.cobj_line",
                    group=name,
                    month=_month(o["month"]),
                    target=f"{o['target_pct']:.0f}",
                    achieved=f"{achieved:.1f}" if achieved is not None else "—",
                    status=t(f"lab.voice.objective_{o['status']}", k=K),
                )
            )
            if not o["shown"]:
                continue
            if achieved is not None:
                st.progress(min(1.0, achieved / o["target_pct"]) if o["target_pct"] else 1.0)
            _curve_chart(o["target_curve"], o["actual_curve"])
            if o["gaps"] is not None and max(abs(g) for g in o["gaps"]) < 0.5:
                st.caption(t("lab.voice.cobj_gaps_close", match=f"{o['match_pct']:.0f}"))
            elif o["gaps"] is not None:
                over = max(range(24), key=lambda h: o["gaps"][h])
                under = min(range(24), key=lambda h: o["gaps"][h])
                st.caption(
                    t(
                        "lab.voice.cobj_gaps",
                        match=f"{o['match_pct']:.0f}",
                        over=_hour(over),
                        over_pp=f"{o['gaps'][over]:+.1f}",
                        under=_hour(under),
                        under_pp=f"{o['gaps'][under]:+.1f}",
                    )
                )
            st.caption(_days_caption(o))
    if not rows:
        st.info(t("lab.voice.cobj_none_admin" if is_admin else "lab.voice.cobj_none_member"))
    if not is_admin:
        return
    clusters = [c for c in (clustering or {}).get("clusters") or [] if c["members"] >= K]
    if not clusters:
        st.caption(t("lab.voice.cobj_no_groups", k=K))
        return
    by_id = {c["id"]: c for c in clusters}
    left, mid, right = st.columns(3)
    picked = left.selectbox(
        t("lab.voice.cobj_group"),
        list(by_id),
        format_func=lambda cid: t("lab.voice.group_members", name=names[cid], n=by_id[cid]["members"]),
        key=f"{P}cobj_cluster",
    )
    mid.selectbox(t("lab.voice.objective_month"), months, format_func=_month, key=f"{P}cobj_month")
    pct = right.number_input(t("lab.voice.cobj_pct"), 0, 100, 40, step=5, key=f"{P}cobj_pct")
    now = hourly_shares(by_id[picked]["mean_curve"]) if by_id[picked]["mean_curve"] else None
    proposal = curve_with_pv_share(now, float(pct))
    st.caption(t("lab.voice.cobj_proposal", now=f"{pv_share(now):.0f}" if now else "—", pct=f"{pct:.0f}"))
    _curve_chart(proposal, [round(x, 2) for x in now] if now else None)
    st.button(t("lab.voice.cobj_set"), key=f"{P}cobj_set", on_click=_set_cluster_objective, args=(proposal,))


def _objectives() -> None:
    """The community's monthly self-sufficiency objectives with their progress; the admin sets them."""
    rows = common.attempt(lambda: api.get(f"{base}/objectives"))
    if rows is None:
        return
    st.subheader(t("lab.voice.objectives"))
    st.caption(t("lab.voice.objectives_help"))
    for o in rows:
        achieved = o["achieved_pct"]
        with st.container(border=True):
            st.markdown(
                t(
                    "lab.voice.objective_line",
                    month=_month(o["month"]),
                    target=f"{o['target_pct']:.0f}",
                    achieved=f"{achieved:.1f}" if achieved is not None else "—",
                    status=t(f"lab.voice.objective_{o['status']}"),
                )
            )
            if achieved is not None:
                st.progress(min(1.0, achieved / o["target_pct"]))
            st.caption(_days_caption(o))
    if not rows:
        st.info(t("lab.voice.no_objectives"))
    today = datetime.now(ROME).date()
    months = [today.strftime("%Y-%m"), ((today.replace(day=28) + timedelta(days=4)).replace(day=1)).strftime("%Y-%m")]
    if is_admin:
        left, right = st.columns(2)
        left.selectbox(t("lab.voice.objective_month"), months, format_func=_month, key=f"{P}obj_month")
        right.number_input(t("lab.voice.objective_target"), 1, 100, 30, step=1, key=f"{P}obj_target")
        st.button(t("lab.voice.objective_set"), key=f"{P}obj_set", on_click=_set_objective)
    _cluster_objectives(months)


page.show_flash()

projects = {
    p["id"]: p["title"]
    for p in common.attempt(lambda: api.get(f"{base}/projects")) or []
    if p["state"] in ("open", "active", "completed")
}

if is_admin:
    by = (
        st.segmented_control(
            t("lab.voice.by"),
            ["month", "week"],
            default="month",
            format_func=lambda b: t(f"lab.voice.by_{b}"),
            key=f"{P}by",
        )
        or "month"
    )
    summary = common.attempt(lambda: api.get(f"{base}/feedback/summary", by=by))
    if summary is not None:
        st.subheader(t("lab.voice.dashboard"))
        cols = st.columns(5)
        cols[0].metric(t("lab.voice.count"), summary["count"])
        cols[1].metric(_label("positive"), summary["positive"])
        cols[2].metric(_label("neutral"), summary["neutral"])
        cols[3].metric(_label("negative"), summary["negative"])
        rating = summary["average_rating"]
        cols[4].metric(
            t("lab.voice.average_rating"),
            f"{rating:.1f} / 5" if rating is not None else "—",
            help=t("lab.voice.hidden", k=K),
        )
        mood = summary["average_sentiment"]
        if mood is not None:
            st.caption(t("lab.voice.average_sentiment", score=f"{mood:+.2f}"))
        if summary["groups"]:
            st.dataframe(
                [
                    {
                        t("lab.voice.col_about"): g["title"] or t("lab.voice.community"),
                        t("lab.voice.col_count"): g["count"],
                        t("lab.voice.col_rating"): f"{g['average_rating']:.1f}" if g["average_rating"] else "—",
                        t("lab.voice.col_sentiment"): f"{g['average_sentiment']:+.2f}"
                        if g["average_sentiment"] is not None
                        else "—",
                    }
                    for g in summary["groups"]
                ],
                hide_index=True,
                use_container_width=True,
            )
            st.caption(t("lab.voice.hidden", k=K))
        _trend(summary.get("trend") or [])
        _themes(summary.get("themes") or [])
        if summary["latest"]:
            st.subheader(t("lab.voice.latest"))
        for f in summary["latest"]:
            about = (
                projects.get(f["project_id"], t("lab.voice.a_project")) if f["project_id"] else t("lab.voice.community")
            )
            with st.container(border=True):
                st.caption(
                    f"{common.local_time(f['created_at'], time_too=False)} · {common.plain(about)} · "
                    f"{'★' * f['rating']} · {_label(f['label'])} ({f['sentiment']:+.2f})"
                )
                st.write(common.plain(f["text"]))
        if not summary["count"]:
            st.info(t("lab.voice.none_yet"))
        _external(summary.get("external"))

if is_admin or identity.has("token-holder"):
    _objectives()

if is_member:
    st.subheader(t("lab.voice.give"))
    st.selectbox(
        t("lab.voice.about"),
        [0, *projects],
        format_func=lambda pid: t("lab.voice.community") if not pid else projects[pid],
        key=f"{P}about",
    )
    st.radio(
        t("lab.voice.stars"), range(5), format_func=lambda i: "★" * (i + 1), horizontal=True, index=3, key=f"{P}stars"
    )
    text = st.text_area(t("lab.voice.text"), key=f"{P}text", max_chars=4000)
    st.button(t("lab.voice.send"), key=f"{P}send", type="primary", disabled=not text.strip(), on_click=_give)
    mine = common.attempt(lambda: api.get(f"{base}/feedback/mine")) or []
    if mine:
        st.subheader(t("lab.voice.mine"))
    for f in mine:
        st.caption(
            f"{common.local_time(f['created_at'], time_too=False)} · {'★' * f['rating']} · {_label(f['label'])} — "
            f"{common.plain(f['text'])}"
        )
elif not is_admin:
    st.info(t("lab.voice.members_only"))
