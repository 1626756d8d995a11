"""Community dashboard (report §4.3.9), two levels. Overview: the community table, the map of devices, last week's
load against production, monthly energy, the self-sufficiency trend and tokens. Details: each member's figures,
percentiles, rankings, the quality of the data, the oracle's anomalies and the load-curve clusters."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import pandas as pd
import streamlit as st

from dapp import charts
from dapp.components.calls import to_tokens
from dapp.views import common

P = "dash_"

identity = common.signed_in()
st.title("Community dashboard")
token = identity.token  # narrowed once: the loaders below close over it
membership = common.pick_membership(P, identity)
api = common.api(identity)


@st.cache_data(ttl=120, show_spinner=False)
def load_overview(token: str | None, community_id: int, first: date, last: date) -> tuple[list, list, list]:
    client = common.Api(token)
    return client.community_kpis(community_id, first, last), client.members(community_id), client.devices(community_id)


@st.cache_data(ttl=120, show_spinner=False)
def load_member_days(token: str | None, community_id: int, user_id: int, first: date, last: date) -> dict:
    return common.Api(token).member_daily(community_id, user_id, first, last)


@st.cache_data(ttl=120, show_spinner=False)
def load_anomalies(token: str | None, community_id: int) -> dict:
    return common.Api(token).anomalies(community_id)


@st.cache_data(ttl=120, show_spinner=False)
def load_clusters(token: str | None, community_id: int) -> dict | None:
    return common.Api(token).clusters(community_id)


latest = date.today() - timedelta(days=1)
history_start = latest - timedelta(days=179)
loaded = common.attempt(lambda: load_overview(token, membership.community_id, history_start, latest))
if loaded is None:
    st.stop()
kpis, members, devices = loaded
days = charts.daily_frame(kpis)

overview, details = st.tabs(["Overview", "Details"])
with overview:
    week = days[days["day"] > pd.Timestamp(latest - timedelta(days=7))]
    table = pd.DataFrame(
        [
            {
                "Community": membership.name,
                "Members": len(members),
                "Active members": sum(1 for m in members if m["active"]),
                "Devices": len(devices),
                "Load last 7 days (kWh)": week["Load"].sum() if not week.empty else 0.0,
                "Production last 7 days (kWh)": week["Production"].sum() if not week.empty else 0.0,
            }
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="%.1f") for c in table.columns if "kWh" in c},
    )

    left, right = st.columns(2)
    with left:
        device_map = charts.device_map(devices)
        if device_map is not None:
            st.altair_chart(device_map, use_container_width=True)
        else:
            st.info(
                "No device carries coordinates yet: the map appears once devices are registered with their position."
            )
        kinds = pd.Series([str(d["kind"]) for d in devices]).value_counts().rename_axis("Device kind")
        st.dataframe(kinds.reset_index(name="Devices"), hide_index=True)
    with right:
        if week.empty:
            st.info("No readings in the last seven days.")
        else:
            st.altair_chart(
                charts.energy_lines(
                    week, ["Load", "Production", "Self-consumption"], title="Last week: load vs production"
                ),
                use_container_width=True,
            )

    if not days.empty:
        left, right = st.columns(2)
        monthly = charts.monthly_frame(days)
        left.altair_chart(
            charts.energy_bars(monthly, ["Load", "Production", "Self-consumption"], x="month", title="Monthly energy"),
            use_container_width=True,
        )
        trend = charts.shares(days)
        right.altair_chart(
            charts.percent_trend(trend, {"Self-sufficiency %": "Self-sufficiency"}, title="Self-sufficiency trend"),
            use_container_width=True,
        )

    st.subheader("Tokens")
    chain_community_id = membership.chain_community_id
    if chain_community_id is not None:
        chain = common.chain()
        policy = common.attempt(partial(chain.token_policy, chain_community_id))
        claims = common.attempt(partial(chain.claims, chain_community_id)) or []
        if policy is not None:
            symbol = chain.symbol(chain_community_id)
            t1, t2, t3 = st.columns(3)
            t1.metric(f"Treasury ({symbol})", f"{to_tokens(policy['treasury']):,.2f}")
            t2.metric(f"In circulation ({symbol})", f"{to_tokens(chain.total_supply(chain_community_id)):,.2f}")
            t3.metric(f"Rewards claimed ({symbol})", f"{to_tokens(sum(c['amount'] for c in claims)):,.2f}")
            if claims:
                per_day = (
                    pd.DataFrame(
                        [
                            {"day": pd.Timestamp(charts.day_of(c["period"])), "tokens": float(to_tokens(c["amount"]))}
                            for c in claims
                        ]
                    )
                    .groupby("day", as_index=False)
                    .sum()
                )
                st.bar_chart(per_day, x="day", y="tokens", x_label="Period", y_label=f"Rewards claimed ({symbol})")

with details:
    start, end = common.period_picker(P, default_days=7, latest=latest)
    rows = []
    for m in members:
        page = common.attempt(partial(load_member_days, token, membership.community_id, m["user_id"], start, end))
        if page is None:
            continue
        t = page["totals"]
        peaks = [d["peak_w"] for d in page["items"]]
        samples = sum(d["samples"] for d in page["items"])
        rows.append(
            {
                "Member": f"{m['name']} {m['surname']}",
                "Kind": m["member_kind"],
                "Profile": m["energy_profile"],
                "Load (kWh)": t["load_wh"] / 1000,
                "Production (kWh)": t["production_wh"] / 1000,
                "Self-consumption %": page["self_consumption_pct"],
                "Self-sufficiency %": page["self_sufficiency_pct"],
                "Peak (kW)": max(peaks) / 1000 if peaks else None,
                "Readings": samples,
            }
        )
    detail = pd.DataFrame(rows)
    if detail.empty:
        st.info("No member has readings in this period.")
    else:
        st.markdown("**Members**")
        st.dataframe(
            detail,
            hide_index=True,
            column_config={
                "Load (kWh)": st.column_config.NumberColumn(format="%.1f"),
                "Production (kWh)": st.column_config.NumberColumn(format="%.1f"),
                "Self-consumption %": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f %%"),
                "Self-sufficiency %": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f %%"),
                "Peak (kW)": st.column_config.NumberColumn(format="%.2f"),
            },
        )
        left, right = st.columns(2)
        with left:
            st.markdown("**Percentiles across members**")
            pct = pd.DataFrame(
                {
                    "Load (kWh)": charts.percentiles(detail["Load (kWh)"]),
                    "Peak (kW)": charts.percentiles(detail["Peak (kW)"].dropna()),
                    "Self-sufficiency %": charts.percentiles(detail["Self-sufficiency %"].dropna()),
                }
            )
            st.dataframe(pct, column_config={c: st.column_config.NumberColumn(format="%.2f") for c in pct.columns})
        with right:
            st.markdown("**Ranking by self-sufficiency**")
            ranking = detail.sort_values("Self-sufficiency %", ascending=False)[["Member", "Self-sufficiency %"]]
            ranking.insert(0, "Rank", range(1, len(ranking) + 1))
            st.dataframe(ranking, hide_index=True)
        st.markdown("**Data quality**")
        quarters = (end - start).days * 96 + 96
        quality = detail[["Member", "Readings"]].assign(**{"Expected (per meter)": quarters})
        st.dataframe(quality, hide_index=True)

    st.markdown("**Anomalies**")
    anomalies = common.attempt(partial(load_anomalies, token, membership.community_id))
    if anomalies is not None:
        if not anomalies["items"]:
            st.info("The oracle has found no anomaly in this community's readings.")
        else:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Reason": a["reason"].replace("_", " "),
                            "Sentence": a["message"],
                            "POD": a["pod"],
                            "Time": pd.Timestamp(a["timestamp"] or a["detected_at"]),
                        }
                        for a in anomalies["items"]
                    ]
                ),
                hide_index=True,
            )
            st.caption(f"The {len(anomalies['items'])} newest of {anomalies['total']} anomalies.")

    st.markdown("**Load-curve clusters**")
    clustering = common.attempt(partial(load_clusters, token, membership.community_id))
    if clustering is None or not clustering["clusters"]:
        st.info("This community has no load-curve clusters yet: the oracle admin makes them with `lec oracle cluster`.")
    else:
        st.altair_chart(
            charts.cluster_lines(charts.cluster_frame(clustering), title="Mean daily curve of each cluster"),
            use_container_width=True,
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Cluster": f"Cluster {j + 1}",
                        "Members": c["members"],
                        "Std (Wh per quarter hour)": c["std"],
                        "Coefficient of variation": c["cv"],
                    }
                    for j, c in enumerate(clustering["clusters"])
                ]
            ),
            hide_index=True,
            column_config={
                "Std (Wh per quarter hour)": st.column_config.NumberColumn(format="%.1f"),
                "Coefficient of variation": st.column_config.NumberColumn(format="%.3f"),
            },
        )
        st.caption(f"{clustering['description']}, run {clustering['last_update'][:10]}.")
