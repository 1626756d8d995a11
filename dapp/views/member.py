"""My energy: the member's own curves and shares, F1/F2/F3, comparison with the community, tokens, target, ranking."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import streamlit as st

from dapp import charts
from dapp.components.calls import to_tokens
from dapp.views import common
from oracle.proofs.encoding import MISSING

P = "member_"

identity = common.signed_in()
st.title("My energy")
token = identity.token  # narrowed once: the loaders below close over it
membership = common.pick_membership(P, identity)
api = common.api(identity)
start, end = common.period_picker(P, default_days=7)


@st.cache_data(ttl=120, show_spinner=False)
def load_days(token: str | None, community_id: int, first: date, last: date) -> tuple[dict, list]:
    client = common.Api(token)
    return client.my_daily(community_id, first, last), client.community_kpis(community_id, first, last)


loaded = common.attempt(lambda: load_days(token, membership.community_id, start, end))
if loaded is None:
    st.stop()
mine, community = loaded
days = charts.daily_frame(mine["items"])
if days.empty:
    st.info(f"No readings of yours between {start} and {end} yet: pick another period.")
    st.stop()

totals = mine["totals"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Load", f"{totals['load_wh'] / 1000:,.1f} kWh", help="Energy your home or business consumed.")
c2.metric("Production", f"{totals['production_wh'] / 1000:,.1f} kWh", help="Energy your plant produced.")
sc_pct, ss_pct = mine.get("self_consumption_pct"), mine.get("self_sufficiency_pct")
c3.metric(
    "Self-consumption",
    "—" if sc_pct is None else f"{sc_pct:.1f} %",
    help="Share of your production you used yourself at the moment it was produced.",
)
c4.metric(
    "Self-sufficiency",
    "—" if ss_pct is None else f"{ss_pct:.1f} %",
    help="Share of your consumption covered by your own production at that moment.",
)

st.altair_chart(
    charts.energy_bars(days, ["Load", "Production", "Self-consumption"], title="Your energy per day"),
    use_container_width=True,
)

# Comparison with the community: the community's daily totals divided by its members (no one else's data).
st.subheader("You and the community")
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
        charts.percent_trend(both, {"You": "You", "Community": "Community"}, title="Self-sufficiency"),
        use_container_width=True,
    )
    comparison = pd.DataFrame(
        {
            "kWh per day": ["Load", "Production", "Self-consumption"],
            "You": [days[q].mean() for q in ("Load", "Production", "Self-consumption")],
            "Average member": [avg[q].mean() for q in ("Load", "Production", "Self-consumption")],
        }
    )
    right.dataframe(
        comparison,
        hide_index=True,
        column_config={
            "You": st.column_config.NumberColumn(format="%.1f kWh"),
            "Average member": st.column_config.NumberColumn(format="%.1f kWh"),
        },
    )
    st.caption("Your cluster (members with a similar daily load shape) is shown once the API publishes clusters.")

# One day in detail: quarter-hour curves and the ARERA bands, from the member's own proof bundle.
st.subheader("A day in detail")


@st.cache_data(ttl=300, show_spinner=False)
def load_bundle(token: str | None, community_id: int, period: int) -> dict:
    return common.Api(token).bundle(community_id, period)


periods = common.attempt(lambda: api.periods(membership.community_id)) or []
if not periods:
    st.info("No settlement period has been computed yet; curves appear once the oracle has run a day.")
else:
    period = st.selectbox(
        "Day", [p["period_id"] for p in periods], format_func=lambda p: str(charts.day_of(p)), key=f"{P}day"
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
            charts.band_chart(charts.band_split(stamps, load), title="Consumption by ARERA band"),
            use_container_width=True,
        )
        right.caption("F1: Mon–Fri 08–19 · F2: Mon–Fri 07–08 and 19–23, Sat 07–23 · F3: nights, Sundays, holidays")

# Tokens: what the member claimed, read from the chain's public RewardClaimed events.
st.subheader("Tokens earned")
if membership.chain_community_id is None or not membership.wallet:
    st.info("Bind your wallet to see your tokens.")
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
t1.metric(f"Rewards claimed ({symbol})", f"{to_tokens(earned):,.2f}", help="1 token = 1 hour of the time bank.")
target = t2.number_input(
    f"Monthly target ({symbol})",
    min_value=0.0,
    value=10.0,
    step=1.0,
    key=f"{P}target",
    help="Set yourself a goal; rewards grow with self-consumption and with fewer load peaks.",
)
t2.progress(
    min(float(to_tokens(this_month)) / target, 1.0) if target else 0.0,
    text=f"{to_tokens(this_month):,.2f} of {target:,.0f} this month",
)
totals_by_account: dict[str, int] = {}
for c in claims:
    if charts.day_of(c["period"]) >= date.today() - timedelta(days=30):
        totals_by_account[c["account"].lower()] = totals_by_account.get(c["account"].lower(), 0) + c["amount"]
ranking = sorted(totals_by_account.values(), reverse=True)
mine_30 = totals_by_account.get(membership.wallet.lower())
t3.metric(
    "Ranking (last 30 days)",
    f"{ranking.index(mine_30) + 1} of {len(ranking)}" if mine_30 is not None else "not ranked yet",
    help="By rewards claimed in the last 30 days among the community's members.",
)
if own:
    table = pd.DataFrame(
        [{"Day": charts.day_of(c["period"]), symbol: float(to_tokens(c["amount"])), "Block": c["block"]} for c in own]
    )
    st.dataframe(table, hide_index=True)
