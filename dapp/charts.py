"""Charts readable by members who are not engineers: one colour per quantity on every page, energies in kWh,
power in kW, a tooltip on every mark. Pure functions from API payloads to frames and Altair charts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

# The same colour for the same quantity everywhere (colour-blind safe: Okabe–Ito palette).
COLORS = {
    "Load": "#D55E00",  # vermillion: what is consumed
    "Production": "#E69F00",  # orange-yellow: the sun
    "Self-consumption": "#009E73",  # green: produced and used locally
    "Injection": "#56B4E9",  # sky blue: sent to the grid
    "Withdrawal": "#CC79A7",  # purple: taken from the grid
    "Community": "#999999",
}
BAND_COLORS = {"F1": "#D55E00", "F2": "#E69F00", "F3": "#0072B2"}
_FIELDS = {
    "load_wh": "Load",
    "production_wh": "Production",
    "self_consumption_wh": "Self-consumption",
    "injection_wh": "Injection",
    "withdrawal_wh": "Withdrawal",
}


def _scale(names: Iterable[str]) -> alt.Scale:
    names = list(names)
    return alt.Scale(domain=names, range=[COLORS[n] for n in names])


def day_of(period: int) -> date:
    return datetime.strptime(str(period), "%Y%m%d").date()


def daily_frame(items: list[Mapping[str, Any]], per: int = 1) -> pd.DataFrame:
    """One row per day with energies in kWh (divided by `per`, e.g. members for a per-member average)."""
    rows = []
    for item in items:
        row: dict[str, Any] = {"day": pd.Timestamp(day_of(int(item["day"])))}
        for field, name in _FIELDS.items():
            if field in item:
                row[name] = item[field] / 1000 / max(per, 1)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["day", *_FIELDS.values()])
    return frame.sort_values("day").reset_index(drop=True)


def shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Self-consumption % (of production) and self-sufficiency % (of load) per day; None where undefined."""
    out = frame[["day"]].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["Self-consumption %"] = np.where(
            frame["Production"] > 0, 100 * frame["Self-consumption"] / frame["Production"], np.nan
        )
        out["Self-sufficiency %"] = np.where(frame["Load"] > 0, 100 * frame["Self-consumption"] / frame["Load"], np.nan)
    return out


def monthly_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Daily kWh summed by calendar month."""
    if frame.empty:
        return frame
    monthly = frame.set_index("day").resample("MS").sum(numeric_only=True).reset_index()
    monthly["month"] = monthly["day"].dt.strftime("%b %Y")
    return monthly


def energy_bars(frame: pd.DataFrame, quantities: list[str], x: str = "day", title: str = "") -> alt.Chart:
    long = frame.melt(id_vars=[x], value_vars=quantities, var_name="Quantity", value_name="kWh")
    # Grouped bars need a discrete axis (xOffset does not split a temporal one).
    if x == "day":
        x_enc = alt.X("yearmonthdate(day):O", title=None, axis=alt.Axis(format="%a %d %b", labelAngle=0))
    else:
        x_enc = alt.X(f"{x}:N", title=None, sort=None, axis=alt.Axis(labelAngle=0))
    return (
        alt.Chart(long, title=title)
        .mark_bar()
        .encode(
            x=x_enc,
            xOffset="Quantity:N",
            y=alt.Y("kWh:Q", title="Energy (kWh)"),
            color=alt.Color("Quantity:N", scale=_scale(quantities), legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip(f"{x}:T" if x == "day" else f"{x}:N", title="Day" if x == "day" else "Month"),
                "Quantity:N",
                alt.Tooltip("kWh:Q", format=".1f"),
            ],
        )
    )


def energy_lines(frame: pd.DataFrame, quantities: list[str], title: str = "") -> alt.Chart:
    long = frame.melt(id_vars=["day"], value_vars=quantities, var_name="Quantity", value_name="kWh")
    return (
        alt.Chart(long, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("kWh:Q", title="Energy per day (kWh)"),
            color=alt.Color("Quantity:N", scale=_scale(quantities), legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("day:T", title="Day"), "Quantity:N", alt.Tooltip("kWh:Q", format=".1f")],
        )
    )


SERIES_COLORS = {"You": COLORS["Self-consumption"], "Community": COLORS["Community"], "Self-sufficiency": "#0072B2"}


def percent_trend(frame: pd.DataFrame, columns: dict[str, str], title: str = "") -> alt.Chart:
    """Percent series over days; `columns` maps column → legend name (coloured by SERIES_COLORS)."""
    long = frame.rename(columns=columns).melt(
        id_vars=["day"], value_vars=list(columns.values()), var_name="Series", value_name="%"
    )
    return (
        alt.Chart(long.dropna(), title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("%:Q", title="Percent", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "Series:N",
                scale=alt.Scale(
                    domain=list(columns.values()), range=[SERIES_COLORS.get(n, "#0072B2") for n in columns.values()]
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[alt.Tooltip("day:T", title="Day"), "Series:N", alt.Tooltip("%:Q", format=".1f")],
        )
    )


def curve_frame(start: int, step: int, load_wh: np.ndarray, production_wh: np.ndarray) -> pd.DataFrame:
    """Quarter-hour average power in kW (Wh per 15 min × 4 / 1000) with the self-consumed part."""
    times = pd.to_datetime(start + step * np.arange(len(load_wh)), unit="s", utc=True).tz_convert("Europe/Rome")
    factor = 3600 / step / 1000
    load = np.asarray(load_wh, dtype=float) * factor
    prod = np.asarray(production_wh, dtype=float) * factor
    return pd.DataFrame(
        {"time": times.tz_localize(None), "Load": load, "Production": prod, "Self-consumption": np.minimum(load, prod)}
    )


def power_curve(frame: pd.DataFrame, title: str = "") -> alt.LayerChart:
    long = frame.melt(id_vars=["time"], value_vars=["Load", "Production"], var_name="Quantity", value_name="kW")
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("time:T", title="Local time"),
            y=alt.Y("kW:Q", title="Average power (kW)"),
            color=alt.Color(
                "Quantity:N",
                scale=_scale(["Load", "Production", "Self-consumption"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("time:T", format="%H:%M", title="Quarter hour"),
                "Quantity:N",
                alt.Tooltip("kW:Q", format=".2f"),
            ],
        )
    )
    area = (
        alt.Chart(frame.assign(Quantity="Self-consumption"))
        .mark_area(opacity=0.35)
        .encode(
            x="time:T",
            y="Self-consumption:Q",
            color=alt.Color("Quantity:N", scale=_scale(["Load", "Production", "Self-consumption"])),
            tooltip=[
                alt.Tooltip("time:T", format="%H:%M", title="Quarter hour"),
                alt.Tooltip("Self-consumption:Q", format=".2f", title="Self-consumed (kW)"),
            ],
        )
    )
    return alt.LayerChart(layer=[area, lines], title=title)


def band_split(timestamps: np.ndarray, load_wh: np.ndarray) -> pd.DataFrame:
    """Energy per ARERA band (F1/F2/F3) in kWh and % of the total."""
    from oracle.kpi import arera_bands

    bands = arera_bands(np.asarray(timestamps))
    values = np.nan_to_num(np.asarray(load_wh, dtype=float))
    kwh = {f"F{b}": float(values[bands == b].sum()) / 1000 for b in (1, 2, 3)}
    total = sum(kwh.values())
    return pd.DataFrame(
        {"Band": list(kwh), "kWh": list(kwh.values()), "%": [100 * v / total if total else 0.0 for v in kwh.values()]}
    )


def band_chart(frame: pd.DataFrame, title: str = "") -> alt.Chart:
    return (
        alt.Chart(frame, title=title)
        .mark_arc(innerRadius=50)
        .encode(
            theta="kWh:Q",
            color=alt.Color(
                "Band:N",
                scale=alt.Scale(domain=list(BAND_COLORS), range=list(BAND_COLORS.values())),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["Band:N", alt.Tooltip("kWh:Q", format=".2f"), alt.Tooltip("%:Q", format=".1f")],
        )
    )


def percentiles(values: Iterable[float], points: tuple[float, ...] = (2.5, 25, 50, 75, 97.5)) -> dict[str, float]:
    data = np.asarray(list(values), dtype=float)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return {}
    return {f"P{p:g}": float(np.percentile(data, p)) for p in points}


def device_map(devices: list[Mapping[str, Any]], title: str = "Devices") -> alt.Chart | None:
    """The community's devices on a Mercator projection, coloured by kind, with their POD in the tooltip.

    Drawn without map tiles: tiles would come from a third-party server (the dApp then tells it where members
    live), and the points alone show the neighbourhood. None when no device carries coordinates."""
    located = [d for d in devices if d.get("latitude") is not None and d.get("longitude") is not None]
    if not located:
        return None
    frame = pd.DataFrame(
        {
            "lat": [float(d["latitude"]) for d in located],
            "lon": [float(d["longitude"]) for d in located],
            "Device kind": [str(d["kind"]).replace("_", " ") for d in located],
            "POD": [str(d["pod"]) for d in located],
        }
    )
    return (
        alt.Chart(frame, title=title)
        .mark_circle(size=90, opacity=0.85)
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            color=alt.Color("Device kind:N", legend=alt.Legend(orient="bottom")),
            tooltip=["POD:N", "Device kind:N"],
        )
        .project(type="mercator")
        .properties(height=260)
    )


# Clusters are not quantities: they take the Okabe–Ito colours the quantities leave free first, then the rest.
CLUSTER_COLORS = ["#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def cluster_frame(clustering: Mapping[str, Any]) -> pd.DataFrame:
    """One row per cluster and quarter hour: mean power in kW (Wh per 15 min × 4 / 1000) of the cluster's curve."""
    slots = list(clustering.get("slots", []))
    rows = [
        {
            "slot": slot,
            "Cluster": f"Cluster {j + 1} ({c['members']} members)",
            "kW": float(wh) * 4 / 1000,
            "CV": float(c["cv"]),
        }
        for j, c in enumerate(clustering.get("clusters", []))
        for slot, wh in zip(slots, c["mean_curve"], strict=False)
    ]
    return pd.DataFrame(rows, columns=["slot", "Cluster", "kW", "CV"])


def cluster_lines(frame: pd.DataFrame, title: str = "") -> alt.Chart:
    names = list(dict.fromkeys(frame["Cluster"]))
    palette = [CLUSTER_COLORS[i % len(CLUSTER_COLORS)] for i in range(len(names))]
    return (
        alt.Chart(frame, title=title)
        .mark_line()
        .encode(
            x=alt.X("slot:O", title="Local time", axis=alt.Axis(values=[f"{h:02d}:00" for h in range(0, 24, 3)])),
            y=alt.Y("kW:Q", title="Mean power (kW)"),
            color=alt.Color(
                "Cluster:N", scale=alt.Scale(domain=names, range=palette), legend=alt.Legend(orient="bottom")
            ),
            tooltip=[
                alt.Tooltip("slot:O", title="Quarter hour"),
                "Cluster:N",
                alt.Tooltip("kW:Q", format=".2f"),
                alt.Tooltip("CV:Q", format=".3f", title="Coefficient of variation"),
            ],
        )
        .properties(height=260)
    )
