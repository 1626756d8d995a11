"""Community objectives (gamification, report §3.2 and §4.3.9): the community admin sets a target for a month —
today one kind, self-sufficiency ≥ X % (the share of the members' consumption covered by their own production,
as the dashboards compute it: self-consumed Wh over load Wh, summed over members and days) — and the dashboard
evaluates the progress. Pure rules over daily sums; the service reads them from the dashboards' daily rows."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from lec.calendar import period_id

KINDS = ("self_sufficiency",)


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
    total_days = last.day
    if today < first:
        return Progress(None, target_pct, 0, total_days, 0, "not_started")
    elapsed = total_days if today > last else today.day
    inside = [(d, load, sc) for d, load, sc in days if period_id(first) <= d <= period_id(last)]
    load = sum(x[1] for x in inside)
    sc = sum(x[2] for x in inside)
    if not inside or load <= 0:
        return Progress(None, target_pct, len(inside), total_days, elapsed, "no_data")
    pct = round(100 * sc / load, 2)
    if today > last:
        status = "reached" if pct >= target_pct else "missed"
    else:
        status = "on_track" if pct >= target_pct else "behind"
    return Progress(pct, target_pct, len(inside), total_days, elapsed, status)
