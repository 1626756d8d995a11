"""Community dashboard (report §4.3.9), two levels. Overview: the community table, the map of devices, last week's
load against production, monthly energy, the self-sufficiency trend and tokens. Details: each member's figures,
percentiles, rankings, the quality of the data, the oracle's anomalies and the load-curve clusters."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import pandas as pd
import streamlit as st

from dapp import charts
from dapp.i18n import t
from dapp.views import common, deals
from dapp.views import details as second_level

P = "dash_"

identity = common.signed_in()
st.title(t("dashboard.title"))
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


# The members' table keeps its internal column names (the charts use them); a resident reads these.
COLUMNS = {
    "Member": t("dashboard.col_member"),
    "Kind": t("cadmin.col_kind"),
    "Profile": t("cadmin.col_profile"),
    "Load (kWh)": t("dashboard.col_load"),
    "Production (kWh)": t("dashboard.col_production"),
    "Self-consumption %": t("dashboard.col_sc"),
    "Self-sufficiency %": t("dashboard.col_ss"),
    "Peak (kW)": t("dashboard.col_peak"),
    "Readings": t("dashboard.col_readings"),
    "Rank": t("dashboard.col_rank"),
    "Expected (per meter)": t("dashboard.col_expected"),
}
latest = date.today() - timedelta(days=1)
history_start = latest - timedelta(days=179)
loaded = common.attempt(lambda: load_overview(token, membership.community_id, history_start, latest))
if loaded is None:
    st.stop()
kpis, members, devices = loaded
days = charts.daily_frame(kpis)

# One level at a time: a chart drawn inside a hidden tab measures no width and came out about 25 px tall.
LEVELS = {"overview": t("dashboard.overview"), "details": t("dashboard.details")}
level = st.segmented_control(
    t("dashboard.level"), list(LEVELS), format_func=LEVELS.__getitem__, default="overview", key=f"{P}level"
)
if level == "overview":
    week = days[days["day"] > pd.Timestamp(latest - timedelta(days=7))]
    table = pd.DataFrame(
        [
            {
                t("dashboard.community"): membership.name,
                t("dashboard.members"): len(members),
                t("dashboard.active_members"): sum(1 for m in members if m["active"]),
                t("dashboard.devices"): len(devices),
                t("dashboard.load_7"): week["Load"].sum() if not week.empty else 0.0,
                t("dashboard.production_7"): week["Production"].sum() if not week.empty else 0.0,
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
        common.device_map(devices)
        kinds = pd.Series([str(d["kind"]) for d in devices]).value_counts().rename_axis(t("dashboard.device_kind"))
        st.dataframe(kinds.reset_index(name=t("dashboard.devices")), hide_index=True)
    with right:
        if week.empty:
            st.info(t("dashboard.no_week"))
        else:
            st.altair_chart(
                charts.energy_lines(week, ["Load", "Production", "Self-consumption"], title=t("dashboard.last_week")),
                use_container_width=True,
            )

    if not days.empty:
        left, right = st.columns(2)
        monthly = charts.monthly_frame(days)
        left.altair_chart(
            charts.energy_bars(
                monthly, ["Load", "Production", "Self-consumption"], x="month", title=t("dashboard.monthly")
            ),
            use_container_width=True,
        )
        trend = charts.shares(days)
        right.altair_chart(
            charts.percent_trend(
                trend, {"Self-sufficiency %": t("member.self_sufficiency")}, title=t("dashboard.trend")
            ),
            use_container_width=True,
        )

    st.subheader(t("dashboard.tokens"))
    chain_community_id = membership.chain_community_id
    if chain_community_id is not None:
        chain = common.chain()
        policy = common.attempt(partial(chain.token_policy, chain_community_id))
        claims = common.attempt(partial(chain.claims, chain_community_id)) or []
        if policy is not None:
            k1, k2, k3 = st.columns(3)
            k1.metric(t("tokenadmin.treasury"), t("common.hours", n=deals.hours(policy["treasury"])))
            k2.metric(
                t("dashboard.circulation"), t("common.hours", n=deals.hours(chain.total_supply(chain_community_id)))
            )
            k3.metric(t("member.claimed"), t("common.hours", n=deals.hours(sum(c["amount"] for c in claims))))
            if claims:
                per_day = (
                    pd.DataFrame(
                        [
                            {"day": pd.Timestamp(charts.day_of(c["period"])), "hours": c["amount"] / 10**18}
                            for c in claims
                        ]
                    )
                    .groupby("day", as_index=False)
                    .sum()
                )
                st.bar_chart(per_day, x="day", y="hours", x_label=t("member.day"), y_label=t("dashboard.claimed_hours"))

else:
    start, end = common.period_picker(P, default_days=7, latest=latest)
    rows = []
    for m in members:
        page = common.attempt(partial(load_member_days, token, membership.community_id, m["user_id"], start, end))
        if page is None:
            continue
        totals = page["totals"]
        peaks = [d["peak_w"] for d in page["items"]]
        samples = sum(d["samples"] for d in page["items"])
        rows.append(
            {
                "Member": f"{m['name']} {m['surname']}",
                "Kind": t(f"cadmin.kind_{m['member_kind']}"),
                "Profile": t(f"cadmin.profile_{m['energy_profile']}"),
                "Load (kWh)": totals["load_wh"] / 1000,
                "Production (kWh)": totals["production_wh"] / 1000,
                "Self-consumption %": page["self_consumption_pct"],
                "Self-sufficiency %": page["self_sufficiency_pct"],
                "Peak (kW)": max(peaks) / 1000 if peaks else None,
                "Readings": samples,
            }
        )
    detail = pd.DataFrame(rows)
    if detail.empty:
        st.info(t("dashboard.no_readings"))
    else:
        st.markdown(f"**{t('dashboard.members')}**")
        st.dataframe(
            detail.rename(columns=COLUMNS),
            hide_index=True,
            column_config={
                COLUMNS["Load (kWh)"]: st.column_config.NumberColumn(format="%.1f"),
                COLUMNS["Production (kWh)"]: st.column_config.NumberColumn(format="%.1f"),
                COLUMNS["Self-consumption %"]: st.column_config.ProgressColumn(
                    min_value=0, max_value=100, format="%.0f %%"
                ),
                COLUMNS["Self-sufficiency %"]: st.column_config.ProgressColumn(
                    min_value=0, max_value=100, format="%.0f %%"
                ),
                COLUMNS["Peak (kW)"]: st.column_config.NumberColumn(format="%.2f"),
            },
        )
        left, right = st.columns(2)
        with left:
            st.markdown(f"**{t('dashboard.percentiles')}**")
            pct = pd.DataFrame(
                {
                    "Load (kWh)": charts.percentiles(detail["Load (kWh)"]),
                    "Peak (kW)": charts.percentiles(detail["Peak (kW)"].dropna()),
                    "Self-sufficiency %": charts.percentiles(detail["Self-sufficiency %"].dropna()),
                }
            )
            pct = pct.rename(columns=COLUMNS)
            st.dataframe(pct, column_config={c: st.column_config.NumberColumn(format="%.2f") for c in pct.columns})
        with right:
            st.markdown(f"**{t('dashboard.ranking')}**")
            ranking = detail.sort_values("Self-sufficiency %", ascending=False)[["Member", "Self-sufficiency %"]]
            ranking.insert(0, "Rank", range(1, len(ranking) + 1))
            st.dataframe(ranking.rename(columns=COLUMNS), hide_index=True)
        st.markdown(f"**{t('dashboard.quality')}**")
        quarters = (end - start).days * 96 + 96
        quality = detail[["Member", "Readings"]].assign(**{"Expected (per meter)": quarters})
        st.dataframe(quality.rename(columns=COLUMNS), hide_index=True)

    st.markdown(f"**{t('dashboard.anomalies')}**")
    anomalies = common.attempt(partial(load_anomalies, token, membership.community_id))
    if anomalies is not None:
        if not anomalies["items"]:
            st.info(t("dashboard.no_anomalies"))
        else:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            t("dashboard.col_reason"): a["reason"].replace("_", " "),
                            t("dashboard.col_sentence"): a["message"],
                            "POD": a["pod"],
                            t("dashboard.col_time"): pd.Timestamp(a["timestamp"] or a["detected_at"]),
                        }
                        for a in anomalies["items"]
                    ]
                ),
                hide_index=True,
            )
            st.caption(t("dashboard.newest", n=len(anomalies["items"]), total=anomalies["total"]))

    st.markdown(f"**{t('dashboard.clusters')}**")
    clustering = common.attempt(partial(load_clusters, token, membership.community_id))
    if clustering is None or not clustering["clusters"]:
        st.info(t("dashboard.no_clusters"))
    else:
        st.altair_chart(
            charts.cluster_lines(charts.cluster_frame(clustering), title=t("dashboard.cluster_chart")),
            use_container_width=True,
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("dashboard.col_cluster"): t("dashboard.cluster_n", n=j + 1),
                        t("dashboard.members"): c["members"],
                        t("dashboard.col_std"): c["std"],
                        t("dashboard.col_cv"): c["cv"],
                    }
                    for j, c in enumerate(clustering["clusters"])
                ]
            ),
            hide_index=True,
            column_config={
                t("dashboard.col_std"): st.column_config.NumberColumn(format="%.1f"),
                t("dashboard.col_cv"): st.column_config.NumberColumn(format="%.3f"),
            },
        )
        st.caption(
            t("dashboard.cluster_run", description=clustering["description"], day=clustering["last_update"][:10])
        )

    second_level.render(api, membership.community_id, latest)
