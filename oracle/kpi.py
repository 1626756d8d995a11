"""Energy KPIs of a member, a group or the whole community over any run of whole local days (DESIGN §5.4).

Inputs are matrices with one row per member and one column per quarter hour of a common grid that starts
at a local midnight (so every 4 consecutive columns are one clock hour, DST days included). Energies are
Wh, NaN where a quarter hour stayed missing after cleaning; load and production are magnitudes (>= 0).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from lec.calendar import QUARTERS_PER_HOUR, ROME
from lec.energy import grid_exchange, hourly_shared, to_hours

PEAK_PERCENTILE = 97.5
BASE_PERCENTILE = 2.5


@lru_cache(maxsize=32)
def _italian_holidays(year: int) -> frozenset:
    return frozenset(holidays.country_holidays("IT", years=year))


def arera_bands(timestamps: np.ndarray) -> np.ndarray:
    """ARERA band (1, 2 or 3) of every quarter hour starting at the given Unix seconds.

    F1: Mon–Fri 08–19; F2: Mon–Fri 07–08 and 19–23, Sat 07–23; F3: nights 23–07, Sundays and Italian
    national holidays all day.
    """
    local = pd.to_datetime(np.asarray(timestamps, dtype=np.int64), unit="s", utc=True).tz_convert(ROME)
    hour = np.asarray(local.hour)
    weekday = np.asarray(local.weekday)
    days = local.date
    holiday = np.array([d in _italian_holidays(d.year) for d in days], dtype=bool)
    bands = np.full(hour.size, 3, dtype=np.int8)
    daytime = (hour >= 7) & (hour < 23)
    working = (weekday < 5) & ~holiday
    saturday = (weekday == 5) & ~holiday
    bands[daytime & (working | saturday)] = 2
    bands[working & (hour >= 8) & (hour < 19)] = 1
    return bands


@dataclass(frozen=True)
class Kpis:
    load_kwh: float
    production_kwh: float
    self_consumption_kwh: float
    self_consumption_pct: float
    self_sufficiency_pct: float
    shared_energy_kwh: float
    injection_kwh: float
    withdrawal_kwh: float
    peak_kw: float
    base_kw: float
    f1_kwh: float
    f2_kwh: float
    f3_kwh: float
    base_load_share_pct: float
    missing_intervals: int
    imputed_intervals: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pct(part: float, whole: float) -> float:
    return 0.0 if whole <= 0 else min(100.0, 100.0 * part / whole)


@dataclass(frozen=True)
class KpiSums:
    """What the KPIs need from the members, summed over them per quarter hour (Wh, missing counted as 0).

    Every field is a sum over members, so the sums of any split of the members add up to the sums of all:
    the scale-out engine (``oracle.spark``) computes them per partition and adds them on the driver, and the
    KPIs come out of :func:`kpis_from_sums` the same as from one matrix of every member.
    """

    load: np.ndarray
    production: np.ndarray
    self_consumption: np.ndarray  # Σ_i min(L_i(t), P_i(t)): produced and used behind the same meter
    injection: np.ndarray  # Σ_i inj_i(t), what the members' grid meters register
    withdrawal: np.ndarray
    missing: int  # member quarter hours with load or production missing

    def __add__(self, other: KpiSums) -> KpiSums:
        return KpiSums(
            self.load + other.load,
            self.production + other.production,
            self.self_consumption + other.self_consumption,
            self.injection + other.injection,
            self.withdrawal + other.withdrawal,
            self.missing + other.missing,
        )


def kpi_sums(
    load: np.ndarray,
    production: np.ndarray,
    injection: np.ndarray | None = None,
    withdrawal: np.ndarray | None = None,
) -> KpiSums:
    """The sums over the members in the rows of ``load``/``production`` (and their exchange meters' readings)."""
    load = np.atleast_2d(np.asarray(load, dtype=np.float64))
    production = np.atleast_2d(np.asarray(production, dtype=np.float64))
    missing = int(np.count_nonzero(np.isnan(load) | np.isnan(production)))
    lo = np.nan_to_num(load)
    pr = np.nan_to_num(production)
    inj, wdr = grid_exchange(
        lo,
        pr,
        None if injection is None else np.atleast_2d(injection),
        None if withdrawal is None else np.atleast_2d(withdrawal),
    )
    return KpiSums(
        lo.sum(axis=0),
        pr.sum(axis=0),
        np.minimum(lo, pr).sum(axis=0),
        np.asarray(inj, dtype=np.float64).sum(axis=0),
        np.asarray(wdr, dtype=np.float64).sum(axis=0),
        missing,
    )


def kpis_from_sums(timestamps: np.ndarray, sums: KpiSums, imputed_intervals: int = 0) -> Kpis:
    """The KPIs of the members whose sums these are; shared energy is the GSE hourly definition over them."""
    shared, _, _ = hourly_shared(sums.injection[None, :], sums.withdrawal[None, :])
    sc = float(sums.self_consumption.sum())
    total_load = float(sums.load.sum())
    total_prod = float(sums.production.sum())
    community_load = sums.load
    power_kw = community_load * QUARTERS_PER_HOUR / 1000.0
    peak = float(np.percentile(power_kw, PEAK_PERCENTILE)) if power_kw.size else 0.0
    base = float(np.percentile(power_kw, BASE_PERCENTILE)) if power_kw.size else 0.0
    bands = arera_bands(timestamps)
    hours = community_load.size / QUARTERS_PER_HOUR
    return Kpis(
        load_kwh=total_load / 1000,
        production_kwh=total_prod / 1000,
        self_consumption_kwh=sc / 1000,
        self_consumption_pct=_pct(sc, total_prod),
        self_sufficiency_pct=_pct(sc, total_load),
        shared_energy_kwh=float(shared.sum()) / 1000,
        injection_kwh=float(sums.injection.sum()) / 1000,
        withdrawal_kwh=float(sums.withdrawal.sum()) / 1000,
        peak_kw=peak,
        base_kw=base,
        f1_kwh=float(community_load[bands == 1].sum()) / 1000,
        f2_kwh=float(community_load[bands == 2].sum()) / 1000,
        f3_kwh=float(community_load[bands == 3].sum()) / 1000,
        base_load_share_pct=_pct(base * hours, total_load / 1000),
        missing_intervals=sums.missing,
        imputed_intervals=int(imputed_intervals),
    )


def compute_kpis(
    timestamps: np.ndarray,
    load: np.ndarray,
    production: np.ndarray,
    injection: np.ndarray | None = None,
    withdrawal: np.ndarray | None = None,
    imputed_intervals: int = 0,
) -> Kpis:
    """KPIs of the members in the rows of ``load``/``production`` taken together.

    Self-consumption is ``Σ min(L, P)`` per member and quarter hour (energy produced and used behind the
    same meter); shared energy is the GSE hourly definition over the same members.
    """
    return kpis_from_sums(timestamps, kpi_sums(load, production, injection, withdrawal), imputed_intervals)


def daily_and_hourly(timestamps: np.ndarray, series: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Daily and hourly energy (Wh) of one quarter-hour series, indexed by local day / local hour start."""
    index = pd.to_datetime(np.asarray(timestamps, dtype=np.int64), unit="s", utc=True).tz_convert(ROME)
    s = pd.Series(np.nan_to_num(series), index=index)
    hourly = pd.Series(to_hours(s.to_numpy()), index=index[::QUARTERS_PER_HOUR])
    daily = s.groupby(index.date).sum()
    return daily, hourly


def local_slots(timestamps: np.ndarray) -> np.ndarray:
    """The local wall-clock slot (0–95) of every quarter hour starting at the given Unix seconds."""
    index = pd.to_datetime(np.asarray(timestamps, dtype=np.int64), unit="s", utc=True).tz_convert(ROME)
    return np.asarray(index.hour * 4 + index.minute // 15)


def slot_sums(slots: np.ndarray, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per wall-clock slot: the sum of the known Wh and how many quarter hours are known (NaN is unknown).

    Both add up over any split of the quarter hours; for integer Wh (below 2**53) exactly, in any order, so
    the curve of many days can be accumulated day by day (or member-days in a matrix) and then finished by
    :func:`curve_from_slot_sums`."""
    values = np.asarray(series, dtype=np.float64)
    sums = np.bincount(slots, weights=np.nan_to_num(values), minlength=96)
    counts = np.bincount(slots, weights=(~np.isnan(values)).astype(float), minlength=96)
    return sums, counts


def curve_from_slot_sums(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The mean daily curve from :func:`slot_sums`: a slot no day has is interpolated from its neighbours; no
    known quarter hour at all is a curve of zeros."""
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = sums / counts
    if np.isnan(curve).all():
        return np.zeros(96)
    known = ~np.isnan(curve)
    curve[~known] = np.interp(np.flatnonzero(~known), np.flatnonzero(known), curve[known])
    return curve


def mean_daily_curve(timestamps: np.ndarray, series: np.ndarray) -> np.ndarray:
    """Mean Wh per local quarter hour of the day (96 slots by wall-clock time).

    On DST days the repeated autumn hour is averaged into its slot and the skipped spring hour takes the
    mean of the days that have it; a slot no day has is interpolated from its neighbours.
    """
    return curve_from_slot_sums(*slot_sums(local_slots(timestamps), series))
