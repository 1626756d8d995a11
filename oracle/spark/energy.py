"""Members' energies on Spark: the community sums, the rewards before the cap and the daily load curves.

Each member-day is rebuilt from its devices' committed values and passed through the local engine's own
functions — ``oracle.pipeline.member_energy`` (the member's grid point), ``oracle.kpi.kpi_sums`` (sums over
members, additive, so partitions add up on the driver), ``oracle.rewards.models.member_uncapped`` (one
member's reward from the community's hourly ``S``, ``I``, ``W``) and ``oracle.kpi.mean_daily_curve`` —
so nothing is computed by a second implementation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lec.calendar import day_grid, quarter_hours
from oracle.clean import CleanDay
from oracle.kpi import KpiSums, kpi_sums, mean_daily_curve
from oracle.pipeline import DeviceSeries, MemberInput, member_energy
from oracle.proofs.encoding import MISSING
from oracle.rewards.models import MemberEnergy, RewardModel, member_uncapped

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_NO_READINGS = np.zeros(0)
SUMS_SCHEMA = (
    "community INT, day DATE, load ARRAY<DOUBLE>, production ARRAY<DOUBLE>, self_consumption ARRAY<DOUBLE>, "
    "injection ARRAY<DOUBLE>, withdrawal ARRAY<DOUBLE>, missing BIGINT"
)
UNCAPPED_SCHEMA = "community INT, day DATE, member STRING, uncapped STRING"
LOAD_SCHEMA = "community INT, member STRING, day DATE, load ARRAY<DOUBLE>"
CURVES_SCHEMA = "community INT, member STRING, curve ARRAY<DOUBLE>"


def member_days(cleaned: DataFrame) -> DataFrame:
    """One row per member and day with its devices' quantities and committed values."""
    from pyspark.sql import functions as F

    return cleaned.groupBy("community", "day", "member", "profile", "active").agg(
        F.collect_list("quantity").alias("quantities"), F.collect_list("values").alias("series")
    )


def energy_of(
    account: str, profile: str, active: bool, quantities: Sequence[str], series: Sequence[np.ndarray], day: date
) -> tuple[MemberEnergy, np.ndarray]:
    """A member's day through ``member_energy``, and the quarter hours any of its devices left missing."""
    n = quarter_hours(day)
    devices, cleaned = [], {}
    missing = np.zeros(n, dtype=bool)
    for index, (quantity, raw) in enumerate(zip(quantities, series, strict=True)):
        values = np.asarray(raw, dtype=np.int64)
        gaps = values == MISSING
        missing |= gaps
        leaf = f"device-{index}"  # the member's devices, in any order: only their sum counts here
        devices.append(DeviceSeries(leaf, quantity, _NO_READINGS, _NO_READINGS))  # type: ignore[arg-type]
        floats = np.where(gaps, np.nan, values.astype(np.float64))
        cleaned[leaf] = CleanDay(day, floats, np.zeros(n, dtype=bool), 0, 0)
    return member_energy(MemberInput(account, profile, active, devices), cleaned, n), missing


def _no_meter(reading: np.ndarray | None, n: int) -> np.ndarray:
    """The exchange meter's row of a member: NaN when it has none (its exchange is then derived)."""
    return np.full(n, np.nan) if reading is None else reading.astype(np.float64)


def _with_gaps(values: np.ndarray | None, missing: np.ndarray) -> np.ndarray:
    """As ``oracle.series``: NaN where a quarter hour stayed missing (or where there is no meter)."""
    if values is None:
        return np.full(missing.size, np.nan)
    return np.where(missing, np.nan, values.astype(np.float64))


def sums_batches(batches: Iterator[pd.DataFrame], with_gaps: bool) -> Iterator[pd.DataFrame]:
    """mapInPandas: ``kpi_sums`` of the members of each (community, day) in a batch.

    ``with_gaps`` False is the period run (missing quarter hours count as 0, as rewards do); True is the
    KPI series (missing quarter hours are NaN and counted as missing, as ``oracle.series`` does)."""
    for batch in batches:
        rows = []
        for (community, day), group in batch.groupby(["community", "day"], sort=False):
            n = quarter_hours(day)
            load, prod, inj, wdr = [], [], [], []
            for account, profile, active, quantities, series in zip(
                group["member"], group["profile"], group["active"], group["quantities"], group["series"], strict=True
            ):
                energy, missing = energy_of(account, profile, active, quantities, series, day)
                if with_gaps:
                    load.append(_with_gaps(energy.load, missing))
                    prod.append(_with_gaps(energy.production, missing))
                    inj.append(_with_gaps(energy.injection, missing))
                    wdr.append(_with_gaps(energy.withdrawal, missing))
                else:
                    load.append(energy.load.astype(np.float64))
                    prod.append(energy.production.astype(np.float64))
                    inj.append(_no_meter(energy.injection, n))
                    wdr.append(_no_meter(energy.withdrawal, n))
            sums = kpi_sums(np.stack(load), np.stack(prod), np.stack(inj), np.stack(wdr))
            rows.append(
                {
                    "community": community,
                    "day": day,
                    "load": sums.load,
                    "production": sums.production,
                    "self_consumption": sums.self_consumption,
                    "injection": sums.injection,
                    "withdrawal": sums.withdrawal,
                    "missing": sums.missing,
                }
            )
        if rows:
            yield pd.DataFrame(rows)


def community_sums(members: DataFrame, with_gaps: bool) -> dict[tuple[int, date], KpiSums]:
    """The sums over every member of each (community, day), added up from the partitions' sums."""
    partial_sums = members.mapInPandas(partial(sums_batches, with_gaps=with_gaps), SUMS_SCHEMA).collect()
    totals: dict[tuple[int, date], KpiSums] = {}
    for row in partial_sums:
        key = (int(row["community"]), row["day"])
        sums = KpiSums(
            *(np.asarray(row[f], dtype=np.float64) for f in ("load", "production", "self_consumption")),
            np.asarray(row["injection"], dtype=np.float64),
            np.asarray(row["withdrawal"], dtype=np.float64),
            int(row["missing"]),
        )
        totals[key] = totals[key] + sums if key in totals else sums
    return totals


Hourly = tuple[np.ndarray, np.ndarray, np.ndarray]  # S(h), I(h), W(h)


def uncapped_batches(
    batches: Iterator[pd.DataFrame], model: RewardModel, hourly: Mapping[tuple[int, date], Hourly]
) -> Iterator[pd.DataFrame]:
    """mapInPandas: each member's reward before the cap, by ``member_uncapped``, as a decimal string."""
    for batch in batches:
        amounts = []
        for community, day, account, profile, active, quantities, series in zip(
            batch["community"],
            batch["day"],
            batch["member"],
            batch["profile"],
            batch["active"],
            batch["quantities"],
            batch["series"],
            strict=True,
        ):
            energy, _ = energy_of(account, profile, bool(active), quantities, series, day)
            shared, injected, withdrawn = hourly[(int(community), day)]
            amounts.append(str(member_uncapped(model, energy, shared, injected, withdrawn)))
        yield pd.DataFrame(
            {"community": batch["community"], "day": batch["day"], "member": batch["member"], "uncapped": amounts}
        )


def uncapped_rewards(
    members: DataFrame, model: RewardModel, hourly: Mapping[tuple[int, date], Hourly]
) -> dict[tuple[int, date], dict[str, int]]:
    """(community, day) → member → reward before the cap, for every member with a device-day."""
    rows = members.mapInPandas(partial(uncapped_batches, model=model, hourly=dict(hourly)), UNCAPPED_SCHEMA)
    out: dict[tuple[int, date], dict[str, int]] = {}
    for row in rows.collect():
        out.setdefault((int(row["community"]), row["day"]), {})[row["member"]] = int(row["uncapped"])
    return out


def load_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas: a member-day's load, NaN where a quarter hour stayed missing (as ``oracle.series``)."""
    for batch in batches:
        loads = []
        for account, profile, active, quantities, series, day in zip(
            batch["member"],
            batch["profile"],
            batch["active"],
            batch["quantities"],
            batch["series"],
            batch["day"],
            strict=True,
        ):
            energy, missing = energy_of(account, profile, bool(active), quantities, series, day)
            loads.append(_with_gaps(energy.load, missing))
        yield pd.DataFrame(
            {"community": batch["community"], "member": batch["member"], "day": batch["day"], "load": loads}
        )


def member_curve(days: Sequence[date], loads: Mapping[date, np.ndarray]) -> np.ndarray:
    """A member's mean daily load curve over ``days``; a day without any of its devices counts as zero load,
    as the local engine sees a member without readings that day."""
    ts = np.concatenate([day_grid(d) for d in days])
    load = np.concatenate([loads.get(d, np.zeros(quarter_hours(d))) for d in days])
    return mean_daily_curve(ts, load)


def curve_batches(batches: Iterator[pd.DataFrame], days: Sequence[date]) -> Iterator[pd.DataFrame]:
    """mapInPandas over one row per member (its days and loads): the member's mean daily curve."""
    for batch in batches:
        curves = [
            member_curve(days, {d: np.asarray(x, dtype=np.float64) for d, x in zip(member_days, loads, strict=True)})
            for member_days, loads in zip(batch["days"], batch["loads"], strict=True)
        ]
        yield pd.DataFrame({"community": batch["community"], "member": batch["member"], "curve": curves})


def member_curves(members: DataFrame, days: Sequence[date]) -> dict[tuple[int, str], np.ndarray]:
    """(community, member) → mean daily load curve over ``days``, for every member with a device-day."""
    from pyspark.sql import functions as F

    loads = members.mapInPandas(load_batches, LOAD_SCHEMA)
    per_member = loads.groupBy("community", "member").agg(
        F.collect_list("day").alias("days"), F.collect_list("load").alias("loads")
    )
    rows = per_member.mapInPandas(partial(curve_batches, days=list(days)), CURVES_SCHEMA).collect()
    return {(int(r["community"]), r["member"]): np.asarray(r["curve"], dtype=np.float64) for r in rows}
