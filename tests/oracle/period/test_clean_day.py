"""Cleaning onto the local quarter-hour grid: snapping, duplicates, DST days, spline gaps, long gaps."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lec.calendar import day_grid
from oracle.clean import MAX_GAP_QUARTERS, clean_day
from oracle.proofs.encoding import MISSING


def test_dst_days_have_92_and_100_quarter_hours():
    assert clean_day([], [], date(2026, 3, 29)).values.size == 92
    assert clean_day([], [], date(2026, 10, 25)).values.size == 100
    assert clean_day([], [], date(2026, 11, 25)).values.size == 96
    grid = day_grid(date(2026, 10, 25))
    assert np.all(np.diff(grid) == 900)


def test_short_gap_on_a_ramp_is_filled_exactly_and_flagged():
    day = date(2026, 10, 25)
    grid = day_grid(day)
    ramp = 10.0 * np.arange(grid.size)
    keep = np.r_[0:30, 35 : grid.size]
    cleaned = clean_day(grid[keep], ramp[keep], day)
    np.testing.assert_array_equal(cleaned.values, ramp)  # a cubic through a line is the line
    assert list(np.flatnonzero(cleaned.imputed)) == [30, 31, 32, 33, 34]
    assert cleaned.gaps == []


@pytest.mark.parametrize("length", [MAX_GAP_QUARTERS, MAX_GAP_QUARTERS + 6], ids=["6h", "7h30"])
def test_gap_of_six_hours_or_more_stays_missing_and_is_reported(length):
    day = date(2026, 3, 29)
    grid = day_grid(day)
    keep = np.r_[0:10, 10 + length : grid.size]
    cleaned = clean_day(grid[keep], np.full(keep.size, 50.0), day)
    assert np.isnan(cleaned.values[10 : 10 + length]).all()
    assert not cleaned.imputed.any()
    assert [(g.first, g.length) for g in cleaned.gaps] == [(10, length)]
    ints = cleaned.as_int64()
    assert (ints[10 : 10 + length] == MISSING).all() and ints[0] == 50


def test_gap_at_the_edge_without_context_is_not_extrapolated():
    day = date(2026, 11, 25)
    grid = day_grid(day)
    cleaned = clean_day(grid[3:], np.ones(grid.size - 3), day)
    assert np.isnan(cleaned.values[:3]).all()
    assert cleaned.gaps[0].first == 0 and cleaned.gaps[0].length == 3


def test_context_from_the_previous_day_fills_an_edge_gap():
    day = date(2026, 11, 25)
    grid = day_grid(day)
    before = grid[0] - 900 * np.arange(1, 9)[::-1]
    ts = np.concatenate((before, grid[2:]))
    cleaned = clean_day(ts, np.full(ts.size, 7.0), day)
    assert cleaned.values[0] == 7.0 and cleaned.imputed[:2].all() and cleaned.gaps == []


def test_snapping_and_last_duplicate_wins():
    day = date(2026, 11, 25)
    grid = day_grid(day)
    ts = np.concatenate((grid, [grid[5] + 120, grid[7] - 60]))
    vals = np.concatenate((np.full(grid.size, 1.0), [99.0, 42.0]))
    cleaned = clean_day(ts, vals, day)
    assert cleaned.values[5] == 99.0 and cleaned.values[7] == 42.0
    assert cleaned.snapped == 2 and cleaned.duplicates == 2


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=5000), min_size=96, max_size=96),
    dropped=st.sets(st.integers(min_value=0, max_value=95), max_size=60),
)
def test_cleaning_never_invents_beyond_what_was_measured(values, dropped):
    day = date(2026, 11, 25)
    grid = day_grid(day)
    keep = np.array([i for i in range(96) if i not in dropped], dtype=int)
    vals = np.array(values, dtype=float)
    cleaned = clean_day(grid[keep], vals[keep], day)
    # Measured values are kept as they were; imputed ones stay inside the measured range.
    np.testing.assert_array_equal(cleaned.values[keep], vals[keep])
    assert not cleaned.imputed[keep].any()
    filled = cleaned.values[cleaned.imputed]
    if filled.size:
        assert filled.min() >= vals[keep].min() and filled.max() <= vals[keep].max()
    # Every quarter hour is exactly one of measured, imputed, missing.
    assert np.count_nonzero(cleaned.imputed) + np.count_nonzero(cleaned.missing) == len(dropped)
    assert sum(g.length for g in cleaned.gaps) == np.count_nonzero(cleaned.missing)
