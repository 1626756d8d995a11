"""GSE incentive and split (community admin, platform admin, auditor): the period's TIP and valorisation, per
configuration, plant and member, with the hourly shared energy and CSV exports (docs/incentive.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dapp.i18n import t
from dapp.views import common

P = "incentive_"

identity = common.signed_in()
st.title(t("incentive.title"))
st.caption(t("incentive.intro"))
membership = common.pick_membership(P, identity)
if membership.chain_community_id is None:
    st.info(t("incentive.not_on_chain"))
    st.stop()
api = common.api(identity)

yesterday = date.today() - timedelta(days=1)
left, right = st.columns(2)
start = left.date_input(t("incentive.from"), yesterday - timedelta(days=6), key=f"{P}from")
end = right.date_input(t("incentive.to"), yesterday, key=f"{P}to")
keys = [None, "pro_rata", "equal", "producers_consumers"]
key = left.selectbox(
    t("incentive.key"), keys, format_func=lambda k: t(f"incentive.key.{k or 'statute'}"), key=f"{P}key"
)
allocations = [None, "seniority", "pro_rata"]
allocation = right.selectbox(
    t("incentive.allocation"),
    allocations,
    format_func=lambda a: t(f"incentive.allocation.{a or 'statute'}"),
    key=f"{P}allocation",
)
prices = st.file_uploader(t("incentive.prices"), type=["csv"], help=t("incentive.prices.help"), key=f"{P}prices")

if st.button(t("incentive.compute"), type="primary", key=f"{P}compute"):
    if end < start:
        common.show_error(t("incentive.backwards"))
        st.stop()
    body: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat(), "key": key, "allocation": allocation}
    if prices is not None:
        try:
            body["prices_csv"] = prices.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            common.show_error(t("incentive.prices.unreadable"))
            st.stop()
    st.session_state[f"{P}report"] = common.attempt(
        lambda: api.post(f"/communities/{membership.community_id}/incentive", body)
    )

report = st.session_state.get(f"{P}report")
if report:
    a, b, c, d = st.columns(4)
    a.metric(t("incentive.shared"), f"{report['shared_kwh']:,.3f} kWh")
    b.metric(t("incentive.tip"), f"{report['tip_eur']:,.2f} €")
    c.metric(t("incentive.valorisation"), f"{report['valorisation_eur']:,.2f} €")
    d.metric(t("incentive.total"), f"{report['total_eur']:,.2f} €")
    st.caption(t("incentive.social", eur=f"{report['social_eur']:.2f}", fund=f"{report['social_fund_eur']:.2f}"))
    for note in report["approximation_codes"]:
        values = {k: v for k, v in note.items() if k != "code"}
        st.info(t(f"incentive.approx.{note['code']}", **values), icon=":material/info:")
    hours = pd.to_datetime(report["hours"], utc=True).tz_convert("Europe/Rome")
    st.subheader(t("incentive.hourly"))
    st.bar_chart(pd.Series(report["hourly_shared_kwh"], index=hours, name=t("incentive.shared")))

    members = pd.DataFrame(
        [
            {
                t("incentive.col.account"): m["account"],
                t("incentive.col.substation"): m["substation"],
                t("incentive.col.producer_kwh"): m["shared_as_producer_kwh"],
                t("incentive.col.consumer_kwh"): m["shared_as_consumer_kwh"],
                t("incentive.col.eur"): m["eur"],
                t("incentive.col.social_eur"): m["social_eur"],
            }
            for m in report["members"]
        ]
    )
    st.subheader(t("incentive.members"))
    st.dataframe(members, hide_index=True, width="stretch")
    st.download_button(
        t("incentive.download.members"),
        members.to_csv(index=False).encode("utf-8"),
        file_name=f"riparto-{report['community']}-{report['from']}-{report['to']}.csv",
        mime="text/csv",
        key=f"{P}csv_members",
    )
    plants = pd.DataFrame(
        [
            {
                t("incentive.col.plant"): p["id"],
                t("incentive.col.account"): p["account"],
                t("incentive.col.substation"): p["substation"],
                t("incentive.col.shared_kwh"): p["shared_kwh"],
                t("incentive.col.tip_eur"): p["tip_eur"],
            }
            for p in report["plants"]
        ]
    )
    st.subheader(t("incentive.plants"))
    st.dataframe(plants, hide_index=True, width="stretch")
    st.download_button(
        t("incentive.download.plants"),
        plants.to_csv(index=False).encode("utf-8"),
        file_name=f"impianti-{report['community']}-{report['from']}-{report['to']}.csv",
        mime="text/csv",
        key=f"{P}csv_plants",
    )
    st.subheader(t("incentive.configurations"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("incentive.col.substation"): c["substation"],
                    t("incentive.col.shared_kwh"): c["shared_kwh"],
                    t("incentive.col.injected_kwh"): c["injected_kwh"],
                    t("incentive.col.withdrawn_kwh"): c["withdrawn_kwh"],
                    t("incentive.col.produced_kwh"): c["produced_kwh"],
                    t("incentive.col.capped_kwh"): c["capped_kwh"],
                    t("incentive.col.threshold_pct"): c["threshold_pct"],
                    t("incentive.col.above_kwh"): c["above_threshold_kwh"],
                    t("incentive.col.tip_eur"): c["tip_eur"],
                    t("incentive.col.valorisation_eur"): c["valorisation_eur"],
                }
                for c in report["configurations"]
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(t("incentive.sources"))
