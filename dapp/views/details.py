"""The community dashboard's second level, continued: what the devices measure beside energy (voltage, current,
reactive power, battery state of charge) and the stations' temperature, and the month's ranking of members by
self-sufficiency. Called in one line by the community dashboard's "Details" tab; renders only."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dapp.i18n import t
from dapp.views import common

P = "details_"
SIGNALS = ("voltage_v", "current_a", "power_reactive_var", "charge_status")


def _months(latest: date, count: int = 12) -> list[str]:
    out, year, month = [], latest.year, latest.month
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def render(api: common.Api, community_id: int, latest: date | None = None) -> None:
    month = st.selectbox(t("details.month"), _months(latest or date.today()), key=f"{P}month")
    data = common.attempt(lambda: api.get(f"/communities/{community_id}/details", month=month))
    if data is None:
        return
    st.subheader(t("details.signals.title"))
    if not data["devices"]:
        st.info(t("details.signals.none"))
    else:
        rows = []
        for device in data["devices"]:
            row = {t("details.col.device"): device["pod"], t("details.col.kind"): device["kind"]}
            for name in SIGNALS:
                stats = device[name]
                row[t(f"details.col.{name}")] = (
                    "" if not stats["samples"] else f"{stats['mean']:.1f} ({stats['min']:.1f}–{stats['max']:.1f})"
                )
            rows.append(row)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(t("details.signals.caption"))
    if data["weather"]:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("details.col.station"): w["pod"],
                        t("details.col.temperature"): (
                            ""
                            if not w["temperature_c"]["samples"]
                            else f"{w['temperature_c']['mean']:.1f} ({w['temperature_c']['min']:.1f}–"
                            f"{w['temperature_c']['max']:.1f})"
                        ),
                    }
                    for w in data["weather"]
                ]
            ),
            hide_index=True,
        )
    st.subheader(t("details.ranking.title", month=month))
    if not data["ranking"]:
        st.info(t("details.ranking.none"))
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("details.col.rank"): r["rank"],
                    t("details.col.wallet"): r["wallet"],
                    t("details.col.self_sufficiency"): r["self_sufficiency_pct"],
                    t("details.col.load"): r["load_kwh"],
                    t("details.col.production"): r["production_kwh"],
                }
                for r in data["ranking"]
            ]
        ),
        hide_index=True,
        width="stretch",
    )
