"""Members' energies on Spark: the community sums, the rewards before the cap and the daily load curves.

Each member-day is rebuilt from its devices' committed values and passed through the local engine's own
functions — ``oracle.pipeline.member_energy`` (the member's grid point), ``oracle.kpi.kpi_sums`` (sums over
members, additive, so partitions add up on the driver), ``oracle.rewards.models.member_uncapped`` (one
member's reward from the community's hourly ``S``, ``I``, ``W``) and ``oracle.kpi.mean_daily_curve`` — so
nothing is computed by a second implementation. A partition holds whole members, sorted by member and day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from functools import lru_cache, partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lec.calendar import day_grid, quarter_hours
from lec.energy import grid_point
from oracle.clean import CleanDay
from oracle.kpi import KpiSums, curve_from_slot_sums, kpi_sums, local_slots, mean_daily_curve
from oracle.pipeline import DeviceSeries, MemberInput, member_energy
from oracle.proofs.encoding import MISSING
from oracle.rewards.models import MemberEnergy, RewardModel, member_uncapped
from oracle.spark.clean import changed, clean_frame, complete_groups, group_bounds

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_NO_READINGS = np.zeros(0)
_MEMBER = ("community", "member")
_MEMBER_DEVICE = ("community", "member", "day", "device")  # a member pass's device-days
SUMS_SCHEMA = (
    "community INT, day DATE, load ARRAY<DOUBLE>, production ARRAY<DOUBLE>, self_consumption ARRAY<DOUBLE>, "
    "injection ARRAY<DOUBLE>, withdrawal ARRAY<DOUBLE>, missing BIGINT"
)
UNCAPPED_SCHEMA = "community INT, day DATE, member STRING, uncapped STRING"
INDEXED_CURVES_SCHEMA = "community INT, member INT, curve ARRAY<DOUBLE>"
Hourly = tuple[np.ndarray, np.ndarray, np.ndarray]  # S(h), I(h), W(h)


def by_member(cleaned: DataFrame, partitions: int) -> DataFrame:
    """The cleaned device-days laid out for the member passes: whole members per partition, sorted."""
    return cleaned.repartition(partitions, *_MEMBER).sortWithinPartitions(*_MEMBER, "day", "leaf_id")


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


MemberDay = tuple[int, date, MemberEnergy, np.ndarray]  # community, day, energy, missing quarter hours


def member_day_energies(batches: Iterator[pd.DataFrame]) -> Iterator[list[MemberDay]]:
    """The member-days of a member-sorted partition, a list per frame of whole members."""
    for frame in complete_groups(batches, _MEMBER):
        quantities, series = frame["quantity"].to_numpy(), frame["values"].to_numpy()
        community, member, profile, active, day = (
            frame[k].to_numpy() for k in ("community", "member", "profile", "active", "day")
        )
        days = []
        for start, stop in group_bounds(frame, (*_MEMBER, "day")):
            energy, missing = energy_of(
                member[start],
                profile[start],
                bool(active[start]),
                quantities[start:stop],
                series[start:stop],
                day[start],
            )
            days.append((int(community[start]), day[start], energy, missing))
        yield days


def _no_meter(reading: np.ndarray | None, n: int) -> np.ndarray:
    """The exchange meter's row of a member: NaN when it has none (its exchange is then derived)."""
    return np.full(n, np.nan) if reading is None else reading.astype(np.float64)


def _with_gaps(values: np.ndarray | None, missing: np.ndarray) -> np.ndarray:
    """As ``oracle.series``: NaN where a quarter hour stayed missing (or where there is no meter)."""
    if values is None:
        return np.full(missing.size, np.nan)
    return np.where(missing, np.nan, values.astype(np.float64))


def sums_batches(batches: Iterator[pd.DataFrame], with_gaps: bool) -> Iterator[pd.DataFrame]:
    """mapInPandas: ``kpi_sums`` of the partition's members, per (community, day).

    ``with_gaps`` False is the period run (missing quarter hours count as 0, as rewards do); True is the
    KPI series (missing quarter hours are NaN and counted as missing, as ``oracle.series`` does)."""
    totals: dict[tuple[int, date], KpiSums] = {}
    for member_days in member_day_energies(batches):
        rows: dict[tuple[int, date], list[list[np.ndarray]]] = defaultdict(lambda: [[], [], [], []])
        for community, day, energy, missing in member_days:
            n = quarter_hours(day)
            load, prod, inj, wdr = rows[(community, day)]
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
        for key, (load, prod, inj, wdr) in rows.items():
            sums = kpi_sums(np.stack(load), np.stack(prod), np.stack(inj), np.stack(wdr))
            totals[key] = totals[key] + sums if key in totals else sums
    if totals:
        yield pd.DataFrame(
            [
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
                for (community, day), sums in totals.items()
            ]
        )


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


def uncapped_batches(
    batches: Iterator[pd.DataFrame], model: RewardModel, hourly: Mapping[tuple[int, date], Hourly]
) -> Iterator[pd.DataFrame]:
    """mapInPandas: each member's reward before the cap, by ``member_uncapped``, as a decimal string (token
    units overflow 64 bits)."""
    for member_days in member_day_energies(batches):
        out: dict[str, list] = {"community": [], "day": [], "member": [], "uncapped": []}
        for community, day, energy, _ in member_days:
            shared, injected, withdrawn = hourly[(community, day)]
            out["community"].append(community)
            out["day"].append(day)
            out["member"].append(energy.account)
            out["uncapped"].append(str(member_uncapped(model, energy, shared, injected, withdrawn)))
        yield pd.DataFrame(out)


def uncapped_rewards(
    members: DataFrame, model: RewardModel, hourly: Mapping[tuple[int, date], Hourly]
) -> dict[tuple[int, date], dict[str, int]]:
    """(community, day) → member → reward before the cap, for every member with a device-day."""
    rows = members.mapInPandas(partial(uncapped_batches, model=model, hourly=dict(hourly)), UNCAPPED_SCHEMA)
    out: dict[tuple[int, date], dict[str, int]] = {}
    for row in rows.collect():
        out.setdefault((int(row["community"]), row["day"]), {})[row["member"]] = int(row["uncapped"])
    return out


@lru_cache(maxsize=1024)
def day_slots(day: date) -> np.ndarray:
    """The wall-clock slot of each quarter hour of ``day`` (``oracle.kpi.local_slots`` of its grid), once per
    day and worker."""
    return local_slots(day_grid(day))


@lru_cache(maxsize=1024)
def _slot_matrix(day: date) -> np.ndarray:
    """(quarter hours × 96) of 0/1: a day's rows times it are their :func:`oracle.kpi.slot_sums` (exact for
    integer Wh, which the loads are)."""
    slots = day_slots(day)
    out = np.zeros((slots.size, 96))
    out[np.arange(slots.size), slots] = 1.0
    return out


def _all_days_counts(days: Sequence[date]) -> np.ndarray:
    """How many quarter hours of ``days`` fall in each slot: a member's counts when it misses none."""
    return np.sum([np.bincount(day_slots(d), minlength=96) for d in days], axis=0).astype(np.float64)


def member_curve(days: Sequence[date], loads: Mapping[date, np.ndarray]) -> np.ndarray:
    """A member's mean daily load curve over ``days``; a day without any of its devices counts as zero load,
    as the local engine sees a member without readings that day: ``oracle.kpi.mean_daily_curve`` of the
    concatenated days, what :func:`curve_batches` computes for many members and is tested against."""
    ts = np.concatenate([day_grid(d) for d in days])
    load = np.concatenate([loads.get(d, np.zeros(quarter_hours(d))) for d in days])
    return mean_daily_curve(ts, load)


def single_device_loads(quantity: str, values: np.ndarray) -> np.ndarray:
    """The load with gaps (NaN where missing) of member-days that each have one device, one row each, all of
    ``quantity``, from their committed values (MISSING where unknown): ``grid_point`` on the whole matrix, as
    :func:`energy_of` then ``_with_gaps`` give it row by row."""
    values = np.asarray(values, dtype=np.int64)
    missing = values == MISSING
    point = grid_point([(quantity, np.where(missing, 0, values))], values.shape)
    return _with_gaps(point.load, missing)


def _member_day_loads(frame: pd.DataFrame) -> Iterator[tuple[date, np.ndarray, np.ndarray]]:
    """(day, member index per row, load with gaps per row) of a frame of whole members sorted by member and
    day: member-days with one device-day go through :func:`single_device_loads` together (by day and quantity),
    the others one by one through :func:`energy_of`. The member index is the member's run in the frame."""
    quantities, series, day = frame["quantity"].to_numpy(), frame["values"].to_numpy(), frame["day"].to_numpy()
    member = frame["member"].to_numpy()
    # The load does not depend on the profile nor on being active (grid_point): a member pass may omit them.
    profile = frame["profile"].to_numpy() if "profile" in frame else np.full(len(frame), "")
    active = frame["active"].to_numpy() if "active" in frame else np.ones(len(frame), dtype=bool)
    bounds = np.asarray(group_bounds(frame, (*_MEMBER, "day")), dtype=np.int64).reshape(-1, 2)
    members = np.cumsum(changed(frame, _MEMBER))[bounds[:, 0]] - 1
    single = (bounds[:, 1] - bounds[:, 0]) == 1
    groups: dict[tuple[date, str], list[int]] = defaultdict(list)
    for g in np.flatnonzero(single).tolist():
        row = int(bounds[g, 0])
        groups[(day[row], str(quantities[row]))].append(g)
    for (d, quantity), picked in groups.items():
        rows = bounds[picked, 0]
        yield d, members[picked], single_device_loads(quantity, np.stack(series[rows]))
    for g in np.flatnonzero(~single).tolist():
        start, stop = (int(x) for x in bounds[g])
        energy, missing = energy_of(
            str(member[start]),
            str(profile[start]),
            bool(active[start]),
            quantities[start:stop],
            series[start:stop],
            day[start],
        )
        yield day[start], members[[g]], _with_gaps(energy.load, missing)[None, :]


def _curves(frame: pd.DataFrame, everyday: np.ndarray) -> pd.DataFrame:
    """The curve of each member of a frame of its whole cleaned member-days (see :func:`curve_batches`)."""
    starts = np.flatnonzero(changed(frame, _MEMBER))
    sums = np.zeros((starts.size, 96))
    unknown = np.zeros((starts.size, 96))
    for day, rows, loads in _member_day_loads(frame):
        onehot = _slot_matrix(day)
        np.add.at(sums, rows, np.nan_to_num(loads) @ onehot)
        np.add.at(unknown, rows, np.isnan(loads) @ onehot)
    return pd.DataFrame(
        {
            "community": frame["community"].to_numpy()[starts],
            "member": frame["member"].to_numpy()[starts],
            "curve": [curve_from_slot_sums(s, everyday - u) for s, u in zip(sums, unknown, strict=True)],
        }
    )


def curve_batches(batches: Iterator[pd.DataFrame], days: Sequence[date]) -> Iterator[pd.DataFrame]:
    """mapInPandas over cleaned device-days sorted by member and day: each member's mean daily load curve (NaN
    where a quarter hour stayed missing, as ``oracle.series``), accumulated as per-slot sums
    (``oracle.kpi.slot_sums``) over its member-days and finished by ``oracle.kpi.curve_from_slot_sums``: no
    member re-builds the period's grid. A day without any of the member's devices counts as zero load, as in
    :func:`member_curve`."""
    everyday = _all_days_counts(days)
    for frame in complete_groups(batches, _MEMBER):
        yield _curves(frame, everyday)


def reading_curve_batches(batches: Iterator[pd.DataFrame], days: Sequence[date]) -> Iterator[pd.DataFrame]:
    """mapInPandas over ``oracle.spark.clean.member_readings``: each member's device-days cleaned in the same
    pass (``clean_frame``, i.e. ``clean_day``), then its curve as :func:`curve_batches` computes it; members by
    their integer index."""
    everyday = _all_days_counts(days)
    for frame in complete_groups(batches, _MEMBER):
        yield _curves(clean_frame(frame, _MEMBER_DEVICE), everyday)


def member_curves(readings: DataFrame, days: Sequence[date]) -> dict[tuple[int, int], np.ndarray]:
    """(community, member index) → mean daily load curve over ``days``, for every member with a device-day,
    from ``oracle.spark.clean.member_readings``."""
    rows = readings.mapInPandas(partial(reading_curve_batches, days=list(days)), INDEXED_CURVES_SCHEMA).collect()
    return {(int(r["community"]), int(r["member"])): np.asarray(r["curve"], dtype=np.float64) for r in rows}
