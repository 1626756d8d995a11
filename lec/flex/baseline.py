"""Customer baselines: what a member would have drawn in each quarter hour of an event had there been no event.

Two published industry methods, in integer Wh (every mean a floor division, in the order written):

- **PJM "high 4 of 5"** (PJM Manual 11, Customer Baseline Load): of the 5 most recent similar days in the last
  45, the 4 with the highest load over the event's hours; their mean per quarter hour; then PJM's *symmetric
  additive adjustment*: the mean difference metered − baseline over the 3 hours ending 1 hour before the event
  is added to every slot. Weekend and holiday events use "high 2 of 3" weekend/holiday days.
- **CAISO "10 in 10"** (CAISO BPM for Demand Response, Customer Load Baseline): the mean of the 10 most recent
  similar days in the last 45; then the *load point adjustment*: the ratio metered / baseline over the same
  3-hour window, capped at ±20 %, multiplies every slot. Weekend and holiday events use "4 in 4".

Similar days are of the event's kind (a working day, or a Saturday, Sunday or holiday), before the event day,
not an event day themselves, and complete over the event's hours and the adjustment window. Quarter hours are
matched by local clock time (Europe/Rome), so DST days line up: on the spring day 02:00–02:59 does not exist (a
day lacking a needed clock time is not similar) and on the autumn day the repeated hour's two readings of one
clock time are averaged. An event starting before 04:00 has no adjustment window that day: it is unadjusted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

from lec.calendar import ROME, day_grid

LOOKBACK_DAYS = 45
BPS = 10_000


class BaselineError(ValueError):
    """Not enough history to compute a baseline."""


@dataclass(frozen=True)
class Method:
    name: str
    weekday_pool: int
    weekday_pick: int
    weekend_pool: int
    weekend_pick: int
    adjustment: str  # "additive" | "multiplicative"
    cap_bps: int | None = None


PJM = Method("pjm-high-4-of-5", 5, 4, 3, 2, "additive")
CAISO = Method("caiso-10-in-10", 10, 10, 4, 4, "multiplicative", cap_bps=2_000)
METHODS = {m.name: m for m in (PJM, CAISO)}

ADJUST_FROM, ADJUST_TO = 240, 60  # minutes before the event's start: the 3 hours ending 1 hour before it


def by_clock(day: date, values: Sequence[int]) -> dict[int, int]:
    """A local day's quarter-hour values (92, 96 or 100) keyed by local clock minute; a clock time met twice
    (the autumn DST hour) gets the floor mean of its two values."""
    grid = day_grid(day)
    if len(values) != len(grid):
        raise ValueError(f"{day} has {len(grid)} quarter hours, not {len(values)}.")
    seen: dict[int, list[int]] = {}
    for ts, v in zip(grid.tolist(), values, strict=True):
        local = datetime.fromtimestamp(ts, ROME)
        seen.setdefault(local.hour * 60 + local.minute, []).append(int(v))
    return {m: sum(vs) // len(vs) for m, vs in seen.items()}


def _kind(day: date, holidays: Collection[date]) -> str:
    return "weekday" if day.weekday() < 5 and day not in holidays else "weekend"


def _adjust_window(event_minutes: Sequence[int]) -> list[int]:
    start = min(event_minutes)
    if start < ADJUST_FROM:
        return []
    return list(range(start - ADJUST_FROM, start - ADJUST_TO, 15))


def baseline(
    method: Method,
    event_day: date,
    event_minutes: Sequence[int],
    history: Mapping[date, Mapping[int, int]],
    same_day: Mapping[int, int] | None = None,
    excluded: Collection[date] = (),
    holidays: Collection[date] = (),
) -> list[int]:
    """Baseline Wh for each quarter hour of the event (`event_minutes`: local clock minutes of its slots).

    `history` holds past days by clock minute (`by_clock`); `same_day` the event day's own readings before the
    event (for the adjustment; None or incomplete: unadjusted); `excluded` past event days; `holidays` the
    national holidays (Italian ones in the oracle).
    """
    window = _adjust_window(event_minutes)
    days = similar_days(method, event_day, event_minutes, history, excluded, holidays)
    raw = [sum(history[d][m] for d in days) // len(days) for m in event_minutes]
    if not window or same_day is None or any(m not in same_day for m in window):
        return raw
    if any(m not in history[d] for d in days for m in window):
        return raw
    base_w = [sum(history[d][m] for d in days) // len(days) for m in window]
    actual, expected = sum(same_day[m] for m in window), sum(base_w)
    if method.adjustment == "additive":
        shift = (actual - expected) // len(window)
        return [max(b + shift, 0) for b in raw]
    ratio = actual * BPS // expected if expected else BPS
    if method.cap_bps is not None:
        ratio = min(max(ratio, BPS - method.cap_bps), BPS + method.cap_bps)
    return [b * ratio // BPS for b in raw]


def similar_days(
    method: Method,
    event_day: date,
    event_minutes: Sequence[int],
    history: Mapping[date, Mapping[int, int]],
    excluded: Collection[date],
    holidays: Collection[date],
) -> list[date]:
    """The days the method averages: its pool of similar days, most recent first, and of those (PJM) the ones
    with the highest load over the event's hours."""
    kind = _kind(event_day, holidays)
    pool_size, pick = (
        (method.weekday_pool, method.weekday_pick) if kind == "weekday" else (method.weekend_pool, method.weekend_pick)
    )
    earliest = event_day - timedelta(days=LOOKBACK_DAYS)
    needed = needed_minutes(event_minutes)
    pool = [
        d
        for d in sorted(history, reverse=True)
        if earliest <= d < event_day
        and d not in excluded
        and _kind(d, holidays) == kind
        and all(m in history[d] for m in needed)
    ][:pool_size]
    if not pool:
        raise BaselineError(f"No similar day with complete readings in the {LOOKBACK_DAYS} days before {event_day}.")
    if pick >= len(pool):
        return pool
    # Highest load over the event's hours first; among equals the more recent (the pool is newest first).
    return sorted(pool, key=lambda d: -sum(history[d][m] for m in event_minutes))[:pick]


def needed_minutes(event_minutes: Sequence[int]) -> list[int]:
    """The clock minutes a baseline reads: the event's and its adjustment window's (nothing else is needed, so a
    service loads only these from the readings)."""
    return sorted({*event_minutes, *_adjust_window(event_minutes)})


@lru_cache(maxsize=1 << 16)
def _local_clock(moment: datetime) -> tuple[date, int]:
    """Local day and clock minute of an instant (cached: a community's members share the same instants)."""
    local = moment.astimezone(ROME)
    return local.date(), local.hour * 60 + local.minute


def clock_history(
    readings: Iterable[tuple[datetime, int]], keep: Collection[int] | None = None
) -> dict[date, dict[int, int]]:
    """Readings (aware quarter-hour start, Wh) grouped by local day and clock minute, as `baseline` takes them;
    several readings of one clock time (the autumn hour, or two devices) are summed per instant first, then
    instants meeting on one clock time get their floor mean. `keep` limits the minutes kept."""
    per_instant: dict[datetime, int] = {}
    for moment, wh in readings:
        per_instant[moment] = per_instant.get(moment, 0) + int(wh)
    seen: dict[date, dict[int, list[int]]] = {}
    for moment, wh in per_instant.items():
        day, minute = _local_clock(moment)
        if keep is None or minute in keep:
            seen.setdefault(day, {}).setdefault(minute, []).append(wh)
    return {d: {m: sum(v) // len(v) for m, v in mins.items()} for d, mins in seen.items()}


def baselines_matrix(
    method: Method,
    event_day: date,
    event_minutes: Sequence[int],
    days: Sequence[date],
    values: np.ndarray,
    complete: np.ndarray,
    same_day: np.ndarray | None = None,
    same_complete: np.ndarray | None = None,
    excluded: Collection[date] = (),
    holidays: Collection[date] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """`baseline` for many members at once, with the same integers (tests check they agree member by member).

    `values[m, d, k]` is member m's Wh on `days[d]` at clock minute `needed_minutes(event_minutes)[k]`, and
    `complete[m, d]` says whether that day has all of them; `same_day[m, k]` and `same_complete[m]` the event
    day's. Returns the baselines `[m, slot]` and a mask of the members that have one (no similar day: False).
    """
    needed = needed_minutes(event_minutes)
    event_cols = [needed.index(m) for m in event_minutes]
    window_cols = [needed.index(m) for m in _adjust_window(event_minutes)]
    kind = _kind(event_day, holidays)
    pool_size, pick = (
        (method.weekday_pool, method.weekday_pick) if kind == "weekday" else (method.weekend_pool, method.weekend_pick)
    )
    earliest = event_day - timedelta(days=LOOKBACK_DAYS)
    order = sorted(range(len(days)), key=lambda i: days[i], reverse=True)  # most recent first
    similar = np.array(
        [
            earliest <= days[i] < event_day and days[i] not in excluded and _kind(days[i], holidays) == kind
            for i in order
        ]
    )
    vals = values[:, order, :].astype(np.int64)
    eligible = complete[:, order] & similar[None, :]
    pool = eligible & (np.cumsum(eligible, axis=1) <= pool_size)
    if pick < pool_size:
        score = vals[:, :, event_cols].sum(axis=2)
        recency = np.arange(len(order))[None, :]
        key = np.where(pool, score * (len(order) + 1) + (len(order) - recency), -1)
        ranked = np.argsort(-key, axis=1, kind="stable")[:, :pick]
        chosen = np.zeros_like(pool)
        np.put_along_axis(chosen, ranked, True, axis=1)
        chosen &= pool
    else:
        chosen = pool
    count = chosen.sum(axis=1)
    has = count > 0
    safe = np.where(has, count, 1)[:, None]
    summed = (vals * chosen[:, :, None]).sum(axis=1)  # [m, k]
    raw = summed[:, event_cols] // safe
    if not window_cols or same_day is None or same_complete is None:
        return raw, has
    base_w = summed[:, window_cols] // safe
    actual = same_day[:, window_cols].astype(np.int64).sum(axis=1)
    expected = base_w.sum(axis=1)
    if method.adjustment == "additive":
        adjusted = np.maximum(raw + ((actual - expected) // len(window_cols))[:, None], 0)
    else:
        ratio = np.where(expected != 0, actual * BPS // np.where(expected != 0, expected, 1), BPS)
        if method.cap_bps is not None:
            ratio = np.clip(ratio, BPS - method.cap_bps, BPS + method.cap_bps)
        adjusted = raw * ratio[:, None] // BPS
    return np.where(same_complete[:, None], adjusted, raw), has
