"""Community objectives (gamification, report §3.2 and §4.3.9): the community admin sets a target for a month and
the dashboard evaluates the progress. Two kinds:

- ``self_sufficiency`` ≥ X % (the share of the members' consumption covered by their own production, as the
  dashboards compute it: self-consumed Wh over load Wh, summed over members and days);
- ``cluster_curve``: a consumption cluster's **target curve**, 24 shares of the daily consumption (% per local
  hour, Europe/Rome, summing to 100). It is met when the cluster's share of consumption in the PV hours
  (10:00–16:00) reaches the target curve's share in those hours; beside it, how closely the whole day matches
  (the overlap of the two curves, 100 % = the same shape) and the gap hour by hour.

Pure rules over daily sums and mean daily curves; the services read them from the dashboards' daily rows and from
the readings (the curve by ``oracle.kpi.mean_daily_curve``, local wall-clock slots)."""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date

from lec.calendar import period_id

KINDS = ("self_sufficiency", "cluster_curve")
HOURS = 24
PV_HOURS = range(10, 16)  # local hours 10:00–16:00, when the members' panels produce most
CURVE_TOLERANCE = 0.5  # a target curve's shares may sum to 100 ± this (rounding when typed by hand)


@dataclass(frozen=True)
class Progress:
    achieved_pct: float | None  # None: no data yet in that month
    target_pct: float
    days_with_data: int
    days_in_month: int
    days_elapsed: int  # days of the month up to today (all of them once it is over)
    status: str  # not_started | no_data | on_track | behind | reached | missed


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of "YYYY-MM"; a ValueError with a sentence otherwise."""
    try:
        year, number = (int(x) for x in month.split("-"))
        first = date(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"A month is written YYYY-MM, like 2026-11; got {month!r}.") from exc
    return first, date(year, number, calendar.monthrange(year, number)[1])


def evaluate(target_pct: float, month: str, days: list[tuple[int, int, int]], today: date) -> Progress:
    """`days`: (YYYYMMDD, load Wh, self-consumed Wh) of the month's days with data. In a month still running the
    objective is on track when the share so far reaches the target, behind otherwise; once the month is over it
    is reached or missed. A month that has not begun is not started."""
    first, last = month_bounds(month)
    inside = [(d, load, sc) for d, load, sc in days if period_id(first) <= d <= period_id(last)]
    load = sum(x[1] for x in inside)
    sc = sum(x[2] for x in inside)
    pct = round(100 * sc / load, 2) if inside and load > 0 else None
    return _progress(pct, target_pct, month, len(inside), today)


def _progress(pct: float | None, target_pct: float, month: str, days_with_data: int, today: date) -> Progress:
    """The state of an objective whose figure so far is `pct` (None: no data): the one rule of both kinds."""
    first, last = month_bounds(month)
    total_days = last.day
    if today < first:
        return Progress(None, target_pct, 0, total_days, 0, "not_started")
    elapsed = total_days if today > last else today.day
    if pct is None:
        return Progress(None, target_pct, days_with_data, total_days, elapsed, "no_data")
    if today > last:
        status = "reached" if pct >= target_pct else "missed"
    else:
        status = "on_track" if pct >= target_pct else "behind"
    return Progress(pct, target_pct, days_with_data, total_days, elapsed, status)


# ---- a cluster's target curve ------------------------------------------------------------------------


@dataclass(frozen=True)
class CurveProgress:
    progress: Progress  # achieved_pct / target_pct: the share of daily consumption in the PV hours
    target: list[float]  # the target curve, % of daily consumption per local hour 0…23
    actual: list[float] | None  # the cluster's mean daily curve as the same shares; None without data
    gaps: list[float] | None  # actual − target per hour, percentage points (+: more than wanted at that hour)
    match_pct: float | None  # Σ min(actual, target): the share of the day already where the target wants it


def check_target_curve(values: list[float]) -> list[float]:
    """24 shares ≥ 0 summing to 100 (± CURVE_TOLERANCE), rounded to 0.01; a ValueError with a sentence otherwise."""
    if len(values) != HOURS:
        raise ValueError(f"A target curve has one share per hour of the day: 24 values, not {len(values)}.")
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError("Each hour's share of the daily consumption is a percentage of 0 or more.")
    total = sum(values)
    if abs(total - 100) > CURVE_TOLERANCE:
        raise ValueError(f"The 24 hourly shares must add up to 100 %; these add up to {total:.1f} %.")
    return [round(v, 2) for v in values]


def hourly_shares(curve: list[float]) -> list[float] | None:
    """A mean daily curve of 24 hourly or 96 quarter-hour slots (Wh, local wall clock) → % of the day per hour;
    None when the day's total is not positive."""
    if len(curve) % HOURS or not curve:
        raise ValueError(f"A daily curve has 24 or 96 slots, not {len(curve)}.")
    per = len(curve) // HOURS
    hours = [sum(curve[h * per : (h + 1) * per]) for h in range(HOURS)]
    total = sum(hours)
    if not total > 0:
        return None
    return [100 * x / total for x in hours]


def pv_share(shares: list[float]) -> float:
    """The share (%) of the daily consumption in the PV hours."""
    return sum(shares[h] for h in PV_HOURS)


def evaluate_curve(
    target: list[float], curve: list[float] | None, month: str, days_with_data: int, today: date
) -> CurveProgress:
    """`curve`: the cluster's mean daily load curve over the month's days with data so far (24 or 96 slots, local
    time), None without any. The status follows the PV-hours share against the target's, as `evaluate` does."""
    target_pv = round(pv_share(target), 2)
    actual = hourly_shares(curve) if curve is not None and days_with_data else None
    progress = _progress(round(pv_share(actual), 2) if actual else None, target_pv, month, days_with_data, today)
    if actual is None or progress.status == "not_started":
        return CurveProgress(progress, target, None, None, None)
    gaps = [round(a - t, 2) for a, t in zip(actual, target, strict=True)]
    match = round(sum(min(a, t) for a, t in zip(actual, target, strict=True)), 2)
    return CurveProgress(progress, target, [round(a, 2) for a in actual], gaps, match)


def curve_with_pv_share(shares: list[float] | None, pv_pct: float) -> list[float]:
    """A target curve from a day's shape (24 shares; None or empty: a flat day) that puts `pv_pct` % of the day in
    the PV hours, keeping the shape inside and outside them (each part scaled; a part with nothing in it spread
    evenly). How the dApp proposes a target: "this group's day, with X % in the sun hours"."""
    if not 0 <= pv_pct <= 100:
        raise ValueError(f"A share of the day is between 0 and 100 %, not {pv_pct}.")
    base = list(shares) if shares and sum(shares) > 0 else [100 / HOURS] * HOURS
    inside = [h in PV_HOURS for h in range(HOURS)]
    out = []
    for part, wanted in ((True, pv_pct), (False, 100 - pv_pct)):
        hours = [h for h in range(HOURS) if inside[h] == part]
        total = sum(base[h] for h in hours)
        for h in hours:
            out.append((h, wanted * base[h] / total if total > 0 else wanted / len(hours)))
    return [round(v, 2) for _, v in sorted(out)]
