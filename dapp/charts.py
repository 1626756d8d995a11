"""Charts readable by members who are not engineers: one colour per quantity on every page, energies in kWh,
power in kW, a tooltip on every mark. Pure functions from API payloads to frames and Altair charts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from dapp.i18n import t

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


def label(name: str) -> str:
    """A quantity's name in the language picked (the frames keep the English names, which pick the colours)."""
    return t("charts.q_" + name.lower().replace("-", "_").replace(" ", "_"))


def _scale(names: Iterable[str]) -> alt.Scale:
    names = list(names)
    return alt.Scale(domain=[label(n) for n in names], range=[COLORS[n] for n in names])


def _long(frame: pd.DataFrame, x: str, quantities: list[str]) -> pd.DataFrame:
    long = frame.melt(id_vars=[x], value_vars=quantities, var_name="Quantity", value_name="kWh")
    long["Quantity"] = long["Quantity"].map(label)
    return long


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
    long = _long(frame, x, quantities)
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
            y=alt.Y("kWh:Q", title=t("charts.energy_kwh")),
            color=alt.Color("Quantity:N", scale=_scale(quantities), legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip(
                    f"{x}:T" if x == "day" else f"{x}:N", title=t("charts.day" if x == "day" else "charts.month")
                ),
                alt.Tooltip("Quantity:N", title=t("charts.quantity")),
                alt.Tooltip("kWh:Q", format=".1f"),
            ],
        )
    )


def energy_lines(frame: pd.DataFrame, quantities: list[str], title: str = "") -> alt.Chart:
    long = _long(frame, "day", quantities)
    return (
        alt.Chart(long, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("kWh:Q", title=t("charts.energy_day_kwh")),
            color=alt.Color("Quantity:N", scale=_scale(quantities), legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("day:T", title=t("charts.day")),
                alt.Tooltip("Quantity:N", title=t("charts.quantity")),
                alt.Tooltip("kWh:Q", format=".1f"),
            ],
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
            y=alt.Y("%:Q", title=t("charts.percent"), scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "Series:N",
                scale=alt.Scale(
                    domain=list(columns.values()),
                    range=[SERIES_COLORS.get(k.removesuffix(" %"), "#0072B2") for k in columns],
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[alt.Tooltip("day:T", title=t("charts.day")), "Series:N", alt.Tooltip("%:Q", format=".1f")],
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
    long["Quantity"] = long["Quantity"].map(label)
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("time:T", title=t("charts.local_time")),
            y=alt.Y("kW:Q", title=t("charts.average_power")),
            color=alt.Color(
                "Quantity:N",
                scale=_scale(["Load", "Production", "Self-consumption"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("time:T", format="%H:%M", title=t("charts.quarter_hour")),
                "Quantity:N",
                alt.Tooltip("kW:Q", format=".2f"),
            ],
        )
    )
    area = (
        alt.Chart(frame.assign(Quantity=label("Self-consumption")))
        .mark_area(opacity=0.35)
        .encode(
            x="time:T",
            y="Self-consumption:Q",
            color=alt.Color("Quantity:N", scale=_scale(["Load", "Production", "Self-consumption"])),
            tooltip=[
                alt.Tooltip("time:T", format="%H:%M", title=t("charts.quarter_hour")),
                alt.Tooltip("Self-consumption:Q", format=".2f", title=t("charts.self_consumed_kw")),
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


DEVICE_KINDS = ("consumption_meter", "production_meter", "exchange_meter", "battery", "weather_station")
KIND_COLORS = {
    "consumption_meter": COLORS["Load"],
    "production_meter": COLORS["Production"],
    "exchange_meter": COLORS["Injection"],
    "battery": COLORS["Self-consumption"],
    "weather_station": "#0072B2",
    "several": "#000000",
}


def device_groups(devices: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Devices at the same place (to about 10 m) grouped into one point with their count; a group of different
    kinds is "several". One row per place: lat, lon, kind (a key of KIND_COLORS), count, PODs."""
    places: dict[tuple[float, float], list[Mapping[str, Any]]] = {}
    for d in devices:
        if d.get("latitude") is None or d.get("longitude") is None:
            continue
        key = (round(float(d["latitude"]), 4), round(float(d["longitude"]), 4))
        places.setdefault(key, []).append(d)
    rows = []
    for (lat, lon), group in places.items():
        kinds = {str(d["kind"]) for d in group}
        rows.append(
            {
                "lat": lat,
                "lon": lon,
                "kind": kinds.pop() if len(kinds) == 1 else "several",
                "count": len(group),
                "pods": ", ".join(sorted(str(d["pod"]) for d in group)),
            }
        )
    return pd.DataFrame(rows, columns=["lat", "lon", "kind", "count", "pods"])


def device_map(devices: list[Mapping[str, Any]], title: str = "") -> alt.Chart | None:
    """The community's devices on a Mercator projection, coloured by kind (every kind in the legend, whether the
    community has it or not), devices at the same place grouped with their count, PODs in the tooltip.

    Drawn without map tiles: tiles would come from a third-party server (the dApp then tells it where members
    live), and the points alone show the neighbourhood. None when no device carries coordinates."""
    frame = device_groups(devices)
    if frame.empty:
        return None
    names = [*DEVICE_KINDS, "several"]
    frame["Kind"] = frame["kind"].map(lambda k: t(f"charts.kind_{k}"))
    points = alt.Chart(frame, title=title or t("charts.devices")).encode(
        longitude="lon:Q",
        latitude="lat:Q",
        tooltip=[
            alt.Tooltip("Kind:N", title=t("charts.device_kind")),
            alt.Tooltip("count:Q", title=t("charts.device_count")),
            alt.Tooltip("pods:N", title="POD"),
        ],
    )
    circles = points.mark_circle(opacity=0.85).encode(
        color=alt.Color(
            "Kind:N",
            scale=alt.Scale(domain=[t(f"charts.kind_{k}") for k in names], range=[KIND_COLORS[k] for k in names]),
            legend=alt.Legend(orient="bottom", title=t("charts.device_kind")),
        ),
        size=alt.Size("count:Q", scale=alt.Scale(range=[90, 600]), legend=None),
    )
    counts = (
        points.transform_filter("datum.count > 1").mark_text(color="white", fontWeight="bold").encode(text="count:Q")
    )
    return (circles + counts).project(type="mercator").properties(height=260)


def device_deck(devices: list[Mapping[str, Any]], tiles: str, attribution: str = "") -> Any | None:
    """The same grouped devices on the basemap the platform's Settings name (`LEC_MAP_TILES`, an XYZ tile URL),
    drawn by deck.gl: a circle per place coloured by kind, sized by its count, the count written on groups.
    Only built when an operator chose a tile server (the browser then asks it for the tiles around the devices).
    None when no device carries coordinates."""
    import pydeck as pdk

    frame = device_groups(devices)
    if frame.empty:
        return None
    frame["color"] = frame["kind"].map(lambda k: _rgb(KIND_COLORS[k]))
    frame["Kind"] = frame["kind"].map(lambda k: t(f"charts.kind_{k}"))
    frame["radius"] = 4 + 3 * np.sqrt(frame["count"])
    frame["label"] = frame["count"].map(lambda n: str(n) if n > 1 else "")
    style = {
        "version": 8,
        "sources": {"basemap": {"type": "raster", "tiles": [tiles], "tileSize": 256, "attribution": attribution}},
        "layers": [{"id": "basemap", "type": "raster", "source": "basemap"}],
    }
    layers = [
        pdk.Layer(
            "ScatterplotLayer",
            frame,
            get_position="[lon, lat]",
            get_fill_color="color",
            get_radius="radius",  # metres; kept between 7 and 30 pixels whatever the zoom
            radius_min_pixels=7,
            radius_max_pixels=30,
            opacity=0.85,
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            frame,
            get_position="[lon, lat]",
            get_text="label",
            get_color=[255, 255, 255],
            get_size=14,
            font_weight=700,
        ),
    ]
    view = pdk.ViewState(latitude=float(frame["lat"].mean()), longitude=float(frame["lon"].mean()), zoom=15)
    tooltip = {"text": f"{t('charts.device_kind')}: {{Kind}}\n{t('charts.device_count')}: {{count}}\nPOD: {{pods}}"}
    # pydeck takes a style document only with the "mapbox" provider; no Mapbox server is asked (no mapbox:// URL).
    style_url = _data_url(style)
    return pdk.Deck(layers=layers, initial_view_state=view, map_style=style_url, map_provider="mapbox", tooltip=tooltip)


def _data_url(style: dict[str, Any]) -> str:
    """A MapLibre/Mapbox style as a `data:` URL (Streamlit's deck.gl element takes a style by URL only)."""
    import json
    from urllib.parse import quote

    return "data:application/json," + quote(json.dumps(style, separators=(",", ":")))


def _rgb(color: str) -> list[int]:
    return [int(color[i : i + 2], 16) for i in (1, 3, 5)]


def kind_legend() -> list[tuple[str, str]]:
    """(colour, name) of every device kind, for the legend beside a basemap (deck.gl draws none)."""
    return [(KIND_COLORS[k], t(f"charts.kind_{k}")) for k in [*DEVICE_KINDS, "several"]]


# Clusters are not quantities: they take the Okabe–Ito colours the quantities leave free first, then the rest.
CLUSTER_COLORS = ["#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def cluster_frame(clustering: Mapping[str, Any]) -> pd.DataFrame:
    """One row per cluster and quarter hour: mean power in kW (Wh per 15 min × 4 / 1000) of the cluster's curve."""
    slots = list(clustering.get("slots", []))
    rows = [
        {
            "slot": slot,
            "Cluster": t("charts.cluster", n=j + 1, members=c["members"]),
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
            x=alt.X(
                "slot:O", title=t("charts.local_time"), axis=alt.Axis(values=[f"{h:02d}:00" for h in range(0, 24, 3)])
            ),
            y=alt.Y("kW:Q", title=t("charts.mean_power")),
            color=alt.Color(
                "Cluster:N", scale=alt.Scale(domain=names, range=palette), legend=alt.Legend(orient="bottom")
            ),
            tooltip=[
                alt.Tooltip("slot:O", title=t("charts.quarter_hour")),
                "Cluster:N",
                alt.Tooltip("kW:Q", format=".2f"),
                alt.Tooltip("CV:Q", format=".3f", title=t("dashboard.col_cv")),
            ],
        )
        .properties(height=260)
    )
