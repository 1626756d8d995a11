"""The member's comparisons that need more than their own days: with their own cluster (members with a similar
daily load shape, from the oracle's latest clustering) and with their previous period of the same length.
Called in one line by the member page; renders only (data from the API)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dapp.i18n import t
from dapp.views import common

P = "comparison_"


def _delta(now: float, before: float) -> str | None:
    return None if before <= 0 else f"{100 * (now - before) / before:+.1f} %"


def render(api: common.Api, community_id: int, start: date, end: date, days: pd.DataFrame) -> None:
    """Under the member's own days (`days`: kWh per day with a "Load" column)."""
    my_daily_kwh = float(days["Load"].mean()) if not days.empty else 0.0
    clustering = common.attempt(lambda: api.clusters(community_id))
    own = None
    if clustering and clustering.get("own_cluster_id") is not None:
        own = next((c for c in clustering["clusters"] if c["id"] == clustering["own_cluster_id"]), None)
    st.subheader(t("comparison.cluster.title"))
    if own is None:
        st.info(t("comparison.cluster.none"))
    else:
        cluster_kwh = sum(own["mean_curve"]) / 1000
        left, right = st.columns([1, 2])
        left.metric(
            t("comparison.cluster.mine"),
            f"{my_daily_kwh:,.1f} kWh",
            delta=_delta(my_daily_kwh, cluster_kwh),
            delta_color="inverse",
            help=t("comparison.cluster.help", members=own["members"]),
        )
        left.metric(t("comparison.cluster.average"), f"{cluster_kwh:,.1f} kWh")
        slots = clustering.get("slots") or [f"{i // 4:02d}:{i % 4 * 15:02d}" for i in range(len(own["mean_curve"]))]
        curve = pd.DataFrame(
            {t("comparison.cluster.curve"): [v / 1000 for v in own["mean_curve"]]},
            index=pd.Index(slots, name=t("comparison.cluster.time")),
        )
        right.line_chart(curve, y_label="kWh")
    n = (end - start).days + 1
    before_start, before_end = start - timedelta(days=n), start - timedelta(days=1)
    st.subheader(t("comparison.previous.title", first=before_start.isoformat(), last=before_end.isoformat()))
    previous: dict[str, Any] | None = common.attempt(lambda: api.my_daily(community_id, before_start, before_end))
    if not previous or not previous.get("items"):
        st.info(t("comparison.previous.none"))
        return
    now_totals = {
        "load": float(days["Load"].sum()),
        "production": float(days["Production"].sum()) if "Production" in days else 0.0,
    }
    was = previous["totals"]
    a, b, c = st.columns(3)
    a.metric(
        t("comparison.previous.load"),
        f"{now_totals['load']:,.1f} kWh",
        delta=_delta(now_totals["load"], was["load_wh"] / 1000),
        delta_color="inverse",
    )
    b.metric(
        t("comparison.previous.production"),
        f"{now_totals['production']:,.1f} kWh",
        delta=_delta(now_totals["production"], was["production_wh"] / 1000),
    )
    before_ss = previous.get("self_sufficiency_pct")
    c.metric(
        t("comparison.previous.self_sufficiency"),
        "—" if before_ss is None else f"{before_ss:.1f} %",
        help=t("comparison.previous.self_sufficiency_help"),
    )
