"""Flexibility (docs/flexibility.md): a member's flexible loads and events; the community admin's events
(requested vs committed, participants) and the aggregated offer the buyers read."""

from __future__ import annotations

from datetime import time

import pandas as pd
import streamlit as st

from dapp.i18n import t
from dapp.views import common

P = "flex_"
KINDS = ("shiftable", "modulable", "storage", "non-controllable")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
QUARTERS = [time(h, m) for h in range(24) for m in (0, 15, 30, 45)]

identity = common.signed_in()
st.title(t("flex.title"))
api = common.api(identity)
is_buyer = identity.has("flexibility-buyer")
# What was just saved: its sentence survives the rerun that shows the saved state.
done = st.session_state.pop(f"{P}done", None)
if done:
    st.success(done)
if is_buyer and not identity.has("token-holder", "community-admin", "platform-admin"):
    # A buyer (a DSO's or an aggregator's staff) belongs to no community: it picks the one whose offer it reads.
    listed = common.attempt(api.communities)
    if not listed:
        st.info(t("common.no_community"))
        st.stop()
    chosen_community = st.selectbox(
        t("common.community"), listed, format_func=lambda c: c["name"], key=f"{P}buyer_community"
    )
    membership = common.Membership(chosen_community["id"], chosen_community.get("chain_community_id"), "", None)
else:
    membership = common.pick_membership(P, identity)
base = f"/communities/{membership.community_id}/flexibility"
is_member = identity.has("token-holder") and membership.wallet is not None
is_admin = identity.has("community-admin", "platform-admin")
# Each reader is told what the page is for them: a buyer or an admin without a wallet declares nothing here.
st.caption(t("flex.intro") if is_member else t("flex.intro_admin") if is_admin else t("flex.intro_buyer"))


def saved(sentence: str) -> None:
    st.session_state[f"{P}done"] = sentence
    st.rerun()


def when(moment: str) -> str:
    return pd.Timestamp(moment).tz_convert("Europe/Rome").strftime("%d/%m/%Y %H:%M")


def euro_per_kwh(cents: int) -> str:
    return f"{cents / 100:.2f}".replace(".", "," if st.session_state.get("language", "it") == "it" else ".")


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def days_text(mask: int) -> str:
    return ", ".join(t(f"flex.day.{d}") for i, d in enumerate(DAYS) if mask >> i & 1)


def kw(watts: int) -> float:
    return round(watts / 1000, 2)


if is_member:
    st.subheader(t("flex.mine"))
    declarations = common.attempt(lambda: api.get(f"{base}/declarations"))
    if declarations:
        st.dataframe(
            pd.DataFrame(
                {
                    t("flex.col.kind"): [t(f"flex.kind.{d['kind']}") for d in declarations],
                    t("flex.col.power"): [kw(d["power_w"]) for d in declarations],
                    t("flex.col.offer"): [kw(d["down_w"]) for d in declarations],
                    t("flex.col.days"): [days_text(d["days_mask"]) for d in declarations],
                    t("flex.col.hours"): [f"{clock(d['start_minute'])}–{clock(d['end_minute'])}" for d in declarations],
                    t("flex.col.notice"): [d["notice_minutes"] for d in declarations],
                }
            ),
            hide_index=True,
        )
        chosen = st.selectbox(
            t("flex.delete.pick"),
            declarations,
            format_func=lambda d: f"{t('flex.kind.' + d['kind'])} · {kw(d['power_w'])} kW",
            key=f"{P}delete_pick",
        )
        if st.button(t("flex.delete.button"), key=f"{P}delete"):
            with common.sentences():
                api.delete(f"{base}/declarations/{chosen['id']}")
                saved(t("flex.delete.done"))
    elif declarations is not None:
        st.info(t("flex.none"))

    with st.form(f"{P}declare"):
        st.markdown(f"**{t('flex.form.title')}**")
        kind = st.selectbox(t("flex.col.kind"), KINDS, format_func=lambda k: t(f"flex.kind.{k}"), key=f"{P}kind")
        power = st.number_input(t("flex.form.power"), min_value=0.1, max_value=1000.0, value=2.0, step=0.1)
        days = st.multiselect(t("flex.col.days"), DAYS, default=list(DAYS), format_func=lambda d: t(f"flex.day.{d}"))
        left, right = st.columns(2)
        start = left.selectbox(t("flex.form.start"), QUARTERS, index=72, format_func=lambda q: q.strftime("%H:%M"))
        end = right.selectbox(t("flex.form.end"), QUARTERS, index=84, format_func=lambda q: q.strftime("%H:%M"))
        notice = st.number_input(t("flex.form.notice"), min_value=0, max_value=7 * 24 * 60, value=60, step=15)
        setpoint = st.number_input(t("flex.form.setpoint"), min_value=0.0, max_value=1000.0, value=0.0, step=0.1)
        if st.form_submit_button(t("flex.form.submit"), type="primary"):
            body = {
                "kind": kind,
                "power_w": round(power * 1000),
                "days_mask": sum(1 << DAYS.index(d) for d in days),
                "start_minute": start.hour * 60 + start.minute,
                "end_minute": (end.hour * 60 + end.minute) or 24 * 60,
                "notice_minutes": int(notice),
                "setpoint_w": round(setpoint * 1000) if kind == "modulable" and setpoint > 0 else None,
            }
            if not days:
                common.show_error(t("flex.form.no_days"))
            else:
                with common.sentences():
                    api.post(f"{base}/declarations", body)
                    saved(t("flex.form.done"))

    st.subheader(t("flex.events.mine"))
    dispatches = common.attempt(lambda: api.get(f"{base}/dispatches"))
    if dispatches:
        st.dataframe(
            pd.DataFrame(
                {
                    t("flex.col.start"): [when(d["start"]) for d in dispatches],
                    t("flex.col.end"): [when(d["end"])[-5:] for d in dispatches],
                    t("flex.col.share"): [kw(d["share_w"]) for d in dispatches],
                    t("flex.col.status"): [
                        t("flex.status.out") if d["opted_out_at"] else t("flex.status.in") for d in dispatches
                    ],
                }
            ),
            hide_index=True,
        )
        # Only an event still to come can be opted out of: a past one is shown, not offered.
        now = pd.Timestamp.now(tz="UTC")
        open_ones = [d for d in dispatches if not d["opted_out_at"] and pd.Timestamp(d["start"]) > now]
        if open_ones:
            pick = st.selectbox(
                t("flex.optout.pick"),
                open_ones,
                format_func=lambda d: when(d["start"]),
                key=f"{P}optout_pick",
            )
            if st.button(t("flex.optout.button"), key=f"{P}optout"):
                with common.sentences():
                    api.post(f"{base}/events/{pick['event_id']}/opt-out")
                    saved(t("flex.optout.done"))
    elif dispatches is not None:
        st.info(t("flex.events.none_mine"))

if is_admin:
    st.subheader(t("flex.events.community"))
    events = common.attempt(lambda: api.get(f"{base}/events"))
    if events:
        # A plain table (a few events, read not sorted): its text stays text, for screen readers as well.
        st.table(
            pd.DataFrame(
                {
                    t("flex.col.start"): [when(e["start"]) for e in events],
                    t("flex.col.end"): [when(e["end"])[-5:] for e in events],
                    t("flex.col.buyer"): [e["buyer"] for e in events],
                    t("flex.col.requested"): [f"{kw(e['request_w']):g}" for e in events],
                    t("flex.col.committed"): [f"{kw(e['committed_w']):g}" for e in events],
                    t("flex.col.participants"): [str(e["participants"]) for e in events],
                    t("flex.col.decision"): [t(f"flex.decision.{e['decision']}") for e in events],
                }
            ).set_index(t("flex.col.start"))
        )
    elif events is not None:
        st.info(t("flex.events.none"))

if is_admin or is_buyer:
    st.subheader(t("flex.offer.title"))
    offer = common.attempt(lambda: api.get(f"{base}/offer", hours=48))
    if offer:
        if offer.get("price_cents_per_kwh") is None:
            st.info(t("flex.price.none"))
        else:
            st.metric(t("flex.price.label"), t("flex.price.value", price=euro_per_kwh(offer["price_cents_per_kwh"])))
        st.caption(t("flex.offer.caption", k=offer["k"]))
        frame = pd.DataFrame(offer["slots"])
        frame["start"] = pd.to_datetime(frame["start"]).dt.tz_convert("Europe/Rome")
        if frame["withheld"].all():
            st.info(t("flex.offer.all_withheld", k=offer["k"]))
        else:
            published = frame[~frame["withheld"]]
            st.markdown(
                t(
                    "flex.offer.summary",
                    published=len(published),
                    slots=len(frame),
                    down=f"{published['down_w'].max() / 1000:g}",
                    up=f"{published['up_w'].max() / 1000:g}",
                )
            )
            # Two charts: a shiftable load offers as much up as down, and one line would hide the other.
            for column, key, field in zip(st.columns(2), ("down", "up"), ("down_w", "up_w"), strict=True):
                column.markdown(f"**{t(f'flex.offer.{key}')}**")
                column.line_chart(frame.set_index("start")[field] / 1000, x_label="", y_label="kW", height=220)

    if is_admin:
        with st.form(f"{P}price"):
            current = (offer or {}).get("price_cents_per_kwh")
            asked = st.number_input(
                t("flex.price.set"),
                min_value=0.0,
                max_value=1000.0,
                value=(current or 0) / 100,
                step=0.01,
                format="%.2f",
                key=f"{P}price_value",
            )
            if st.form_submit_button(t("flex.price.submit")):
                with common.sentences():
                    api.put(f"{base}/price", {"price_cents_per_kwh": round(asked * 100)})
                    saved(t("flex.price.done", price=euro_per_kwh(round(asked * 100))))
