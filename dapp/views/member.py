"""My energy: the member's own curves and shares, F1/F2/F3, comparison with the community, tokens, target, ranking."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import streamlit as st

from dapp import charts
from dapp.components.calls import to_tokens
from dapp.i18n import t
from dapp.views import common, deals
from dapp.views import comparison as own_comparison
from oracle.proofs.encoding import MISSING

P = "member_"

identity = common.signed_in()
st.title(t("member.title"))
token = identity.token  # narrowed once: the loaders below close over it
membership = common.pick_membership(P, identity)
api = common.api(identity)
start, end = common.period_picker(P, default_days=7)


@st.cache_data(ttl=120, show_spinner=False)
def load_days(token: str | None, community_id: int, first: date, last: date) -> tuple[dict, list]:
    client = common.Api(token)
    return client.my_daily(community_id, first, last), client.community_kpis(community_id, first, last)


@st.cache_data(ttl=300, show_spinner=False)
def load_clusters(token: str | None, community_id: int) -> dict | None:
    return common.Api(token).clusters(community_id)


def cluster_caption(clustering: dict | None) -> str:
    """Which cluster the member is in, with the same numbering as the community admin's dashboard."""
    if not clustering or not clustering.get("clusters"):
        return t("member.no_clusters")
    ids = [c["id"] for c in clustering["clusters"]]
    own = clustering.get("own_cluster_id")
    if own not in ids:
        return t("member.not_clustered", count=len(ids), day=str(clustering["last_update"])[:10])
    size = clustering["clusters"][ids.index(own)]["members"]
    return t(
        "member.your_cluster",
        n=ids.index(own) + 1,
        count=len(ids),
        members=size,
        day=str(clustering["last_update"])[:10],
    )


loaded = common.attempt(lambda: load_days(token, membership.community_id, start, end))
if loaded is None:
    st.stop()
mine, community = loaded
days = charts.daily_frame(mine["items"])
if days.empty:
    st.info(t("member.no_readings", start=start, end=end))
    st.stop()

totals = mine["totals"]
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("member.load"), f"{totals['load_wh'] / 1000:,.1f} kWh", help=t("member.load_help"))
c2.metric(t("member.production"), f"{totals['production_wh'] / 1000:,.1f} kWh", help=t("member.production_help"))
sc_pct, ss_pct = mine.get("self_consumption_pct"), mine.get("self_sufficiency_pct")
c3.metric(
    t("member.self_consumption"),
    "—" if sc_pct is None else f"{sc_pct:.1f} %",
    help=t("member.self_consumption_help"),
)
c4.metric(
    t("member.self_sufficiency"),
    "—" if ss_pct is None else f"{ss_pct:.1f} %",
    help=t("member.self_sufficiency_help"),
)

st.altair_chart(
    charts.energy_bars(days, ["Load", "Production", "Self-consumption"], title=t("member.energy_per_day")),
    use_container_width=True,
)

# Comparison with the community: the community's daily totals divided by its members (no one else's data).
st.subheader(t("member.you_and_community"))
members_by_day = {int(d["day"]): max(int(d["members"]), 1) for d in community}
avg = pd.concat(
    [charts.daily_frame([d], per=members_by_day[int(d["day"])]) for d in community] or [charts.daily_frame([])]
)
if not avg.empty:
    mine_shares = charts.shares(days).rename(columns={"Self-sufficiency %": "You"})
    avg_shares = charts.shares(avg).rename(columns={"Self-sufficiency %": "Community"})
    both = mine_shares[["day", "You"]].merge(avg_shares[["day", "Community"]], on="day", how="outer")
    left, right = st.columns(2)
    left.altair_chart(
        charts.percent_trend(
            both, {"You": t("member.you"), "Community": t("member.community")}, title=t("member.self_sufficiency")
        ),
        use_container_width=True,
    )
    quantities = ("Load", "Production", "Self-consumption")
    you, average_member = t("member.you"), t("member.average_member")
    comparison = pd.DataFrame(
        {
            t("member.kwh_per_day"): [t("member.load"), t("member.production"), t("member.self_consumption")],
            you: [days[q].mean() for q in quantities],
            average_member: [avg[q].mean() for q in quantities],
        }
    )
    right.dataframe(
        comparison,
        hide_index=True,
        column_config={
            you: st.column_config.NumberColumn(format="%.1f kWh"),
            average_member: st.column_config.NumberColumn(format="%.1f kWh"),
        },
    )

# The member's cluster, from the same clustering run the admin's dashboard shows (only their own assignment).
clustering = common.attempt(lambda: load_clusters(token, membership.community_id))
own_cluster = cluster_caption(clustering)
st.caption(own_cluster)
own_comparison.render(api, membership.community_id, start, end, days)

# One day in detail: quarter-hour curves and the ARERA bands, from the member's own proof bundle.
st.subheader(t("member.day_detail"))


@st.cache_data(ttl=300, show_spinner=False)
def load_bundle(token: str | None, community_id: int, period: int) -> dict:
    return common.Api(token).bundle(community_id, period)


periods = common.attempt(lambda: api.periods(membership.community_id)) or []
if not periods:
    st.info(t("member.no_periods"))
else:
    period = st.selectbox(
        t("member.day"), [p["period_id"] for p in periods], format_func=lambda p: str(charts.day_of(p)), key=f"{P}day"
    )
    bundle = common.attempt(lambda: load_bundle(token, membership.community_id, period))
    if bundle and bundle.get("devices"):
        n = len(bundle["devices"][0]["values"])
        load = np.zeros(n)
        prod = np.zeros(n)
        for device in bundle["devices"]:
            raw = np.array(device["values"], dtype=np.int64)
            values = np.where(raw == MISSING, 0, raw).astype(float)  # gaps left unfilled count as nothing
            # Production is stored negative (the report's sign convention); exchange and storage meters are not
            # part of the member's own load/production curves.
            if device.get("quantity") == "production":
                prod += np.abs(values)
            elif device.get("quantity") == "load":
                load += np.clip(values, 0, None)
        curve = charts.curve_frame(bundle["start"], bundle["step"], load, prod)
        left, right = st.columns([2, 1])
        left.altair_chart(charts.power_curve(curve, title=f"{charts.day_of(period)}"), use_container_width=True)
        stamps = bundle["start"] + bundle["step"] * np.arange(n)
        right.altair_chart(
            charts.band_chart(charts.band_split(stamps, load), title=t("member.bands")),
            use_container_width=True,
        )
        right.caption(t("member.bands_help"))

# Tokens: what the member claimed, read from the chain's public RewardClaimed events.
st.subheader(t("member.tokens"))
if membership.chain_community_id is None or not membership.wallet:
    st.info(t("member.bind_wallet"))
    st.stop()
chain_community_id: int = membership.chain_community_id
chain = common.chain()
claims = common.attempt(lambda: chain.claims(chain_community_id)) or []
symbol = common.attempt(lambda: chain.symbol(chain_community_id)) or "tokens"
own = [c for c in claims if c["account"].lower() == membership.wallet.lower()]
earned = sum(c["amount"] for c in own)
month_start = date.today().replace(day=1)
this_month = sum(c["amount"] for c in own if charts.day_of(c["period"]) >= month_start)
t1, t2, t3 = st.columns(3)
t1.metric(t("member.claimed"), t("common.hours", n=deals.hours(earned)), help=t("common.hour_help"))
# The target is kept per member by the API, so it is the same on the next visit and on another device.
target_key = f"{P}target_{membership.community_id}"
if target_key not in st.session_state:
    saved = common.attempt(lambda: api.target(membership.community_id))
    st.session_state[target_key] = float(saved["hours"]) if saved else 10.0


def _save_target() -> None:
    value = st.session_state[target_key]
    try:
        api.save_target(membership.community_id, f"{value:.2f}")
    except common.ClientError as exc:
        st.session_state[f"{P}target_error"] = str(exc)


target = t2.number_input(
    t("member.target"),
    min_value=0.0,
    step=1.0,
    key=target_key,
    on_change=_save_target,
    help=t("member.target_help"),
)
if st.session_state.pop(f"{P}target_error", None):
    common.show_error(t("member.target_not_saved"))
t2.progress(
    min(float(to_tokens(this_month)) / target, 1.0) if target else 0.0,
    text=t("member.target_progress", done=deals.hours(this_month), target=f"{target:,.2f}"),
)
totals_by_account: dict[str, int] = {}
for c in claims:
    if charts.day_of(c["period"]) >= date.today() - timedelta(days=30):
        totals_by_account[c["account"].lower()] = totals_by_account.get(c["account"].lower(), 0) + c["amount"]
ranking = sorted(totals_by_account.values(), reverse=True)
mine_30 = totals_by_account.get(membership.wallet.lower())
t3.metric(
    t("member.ranking"),
    t("member.rank", rank=ranking.index(mine_30) + 1, of=len(ranking)) if mine_30 is not None else t("member.unranked"),
    help=t("member.ranking_help"),
)
if own:
    table = pd.DataFrame(
        [
            {
                t("member.day"): charts.day_of(c["period"]),
                t("member.hours_col"): deals.hours(c["amount"]),
                t("member.block"): c["block"],
            }
            for c in own
        ]
    )
    st.dataframe(table, hide_index=True)
