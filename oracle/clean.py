"""Cleaning of one device's readings onto the 15-minute grid of a local day (DESIGN §5 step 3).

Pure functions: readings in, a cleaned day out. The grid is the local day in Europe/Rome, so it has 92,
96 or 100 quarter hours. Off-grid timestamps are snapped to the nearest quarter hour; of several readings
for the same quarter hour the last one received wins (a gateway re-sends corrections); gaps shorter than
6 h are filled by a cubic spline through the nearest known readings and flagged; longer gaps, and gaps at
the edge of what was measured, stay missing and are reported — values are never invented.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from scipy.interpolate import CubicSpline

from lec.calendar import STEP_SECONDS, period_start, quarter_hours
from oracle.proofs.encoding import MISSING

MAX_GAP_QUARTERS = 24  # a gap is interpolated only when shorter than 6 h
_KNOTS_PER_SIDE = 4  # known readings each side of a gap that shape its spline: local, so one gap cannot
# be bent by readings hours away


@dataclass(frozen=True)
class Gap:
    """A run of quarter hours left missing, as offsets into the day's grid."""

    first: int
    length: int


@dataclass(frozen=True)
class CleanDay:
    day: date
    values: np.ndarray  # float64 Wh per quarter hour, NaN where missing
    imputed: np.ndarray  # bool: value filled by interpolation
    snapped: int  # readings whose timestamp was moved onto the grid
    duplicates: int  # readings dropped because a later one had the same quarter hour
    gaps: list[Gap] = field(default_factory=list)

    @property
    def missing(self) -> np.ndarray:
        return np.isnan(self.values)

    def as_int64(self) -> np.ndarray:
        """Integer Wh with :data:`MISSING` for unknown quarter hours (the committed form)."""
        out = np.full(self.values.size, MISSING, dtype=np.int64)
        known = ~self.missing
        out[known] = np.rint(self.values[known]).astype(np.int64)
        return out


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of every run of True in ``flags``."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(s), int(e - s)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def _fill_gap(series: np.ndarray, start: int, length: int) -> np.ndarray:
    known = np.flatnonzero(~np.isnan(series))
    before = known[known < start][-_KNOTS_PER_SIDE:]
    after = known[known >= start + length][:_KNOTS_PER_SIDE]
    xs = np.concatenate((before, after))
    ys = series[xs]
    target = np.arange(start, start + length)
    filled = CubicSpline(xs, ys)(target) if xs.size >= 4 else np.interp(target, xs, ys)
    # A spline can overshoot; an imputed quarter hour stays within what its neighbours measured.
    return np.clip(filled, ys.min(), ys.max())


def clean_day(timestamps: Sequence[int] | np.ndarray, values: Sequence[float] | np.ndarray, day: date) -> CleanDay:
    """Clean one device's readings for the local ``day``.

    ``timestamps`` are Unix seconds of each quarter hour's start, ``values`` Wh, both in arrival order.
    Readings up to 6 h either side of the day are used as context for gaps at its edges.
    """
    ts = np.asarray(timestamps, dtype=np.int64)
    vals = np.asarray(values, dtype=np.float64)
    if ts.shape != vals.shape:
        raise ValueError(f"Got {ts.size} timestamps but {vals.size} values; they must pair up.")
    n = quarter_hours(day)
    start = period_start(day)
    margin = MAX_GAP_QUARTERS
    slots = np.floor_divide(ts - start + STEP_SECONDS // 2, STEP_SECONDS)
    inside = (slots >= -margin) & (slots < n + margin) & np.isfinite(vals)
    snapped = int(np.count_nonzero(((ts - start) % STEP_SECONDS != 0) & inside & (slots >= 0) & (slots < n)))
    slots, vals = slots[inside], vals[inside]
    # Keep the last reading of each quarter hour: unique over the reversed arrays finds last occurrences.
    rev_unique, rev_index = np.unique(slots[::-1], return_index=True)
    last = slots.size - 1 - rev_index
    in_day = (slots >= 0) & (slots < n)
    duplicates = int(np.count_nonzero(in_day)) - int(np.count_nonzero((rev_unique >= 0) & (rev_unique < n)))
    series = np.full(n + 2 * margin, np.nan)
    series[rev_unique + margin] = vals[last]

    imputed = np.zeros(series.size, dtype=bool)
    gaps: list[Gap] = []
    for run_start, length in _runs(np.isnan(series)):
        bounded = run_start > 0 and run_start + length < series.size
        overlaps_day = run_start < n + margin and run_start + length > margin
        if not overlaps_day:
            continue
        if bounded and length < MAX_GAP_QUARTERS:
            series[run_start : run_start + length] = np.rint(_fill_gap(series, run_start, length))
            imputed[run_start : run_start + length] = True
        else:
            first = max(run_start, margin) - margin
            last_slot = min(run_start + length, n + margin) - margin
            gaps.append(Gap(first=first, length=last_slot - first))
    return CleanDay(
        day=day,
        values=series[margin : margin + n].copy(),
        imputed=imputed[margin : margin + n].copy(),
        snapped=snapped,
        duplicates=duplicates,
        gaps=gaps,
    )


def complete_days(
    timestamps: np.ndarray, values: np.ndarray, group_starts: np.ndarray, day_starts: np.ndarray, quarters: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`clean_day`'s result for many device-days at once, where it is trivial: a *complete* day, whose
    readings (in arrival order) put one finite value on every quarter hour of the day, in ascending order.
    There nothing is interpolated, missing, snapped away from its value or overwritten, and the cleaned day is
    those values as they came. Readings in the 6 h margins never matter for such a day.

    Rows are grouped one device-day after another (group ``g`` from ``group_starts[g]`` to the next start), each
    with its local midnight (``day_starts``, Unix s) and quarter hours (``quarters``). Returns (True per complete
    group, the row indices of the complete groups' days: each group's ``quarters[g]`` rows, in group order);
    the other groups go through :func:`clean_day`.
    """
    ts = np.asarray(timestamps, dtype=np.int64)
    vals = np.asarray(values, dtype=np.float64)
    sizes = np.diff(np.append(group_starts, ts.size))
    group = np.repeat(np.arange(group_starts.size), sizes)
    # The same snapping as clean_day: the nearest quarter hour.
    slots = np.floor_divide(ts - day_starts[group] + STEP_SECONDS // 2, STEP_SECONDS)
    in_day = (slots >= 0) & (slots < quarters[group]) & np.isfinite(vals)
    rows = np.flatnonzero(in_day)
    counts = np.bincount(group[rows], minlength=group_starts.size)
    same = group[rows][1:] == group[rows][:-1]
    disordered = np.bincount(group[rows][1:][same & (slots[rows][1:] <= slots[rows][:-1])], minlength=counts.size)
    complete = (counts == quarters) & (disordered == 0)
    return complete, rows[complete[group[rows]]]
