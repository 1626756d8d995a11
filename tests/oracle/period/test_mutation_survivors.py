"""Tests written for the mutants `make mutation` found alive (docs/testing.md lists each one and its fate)."""

from __future__ import annotations

import pytest

from oracle.rewards.integer import split_pro_rata

A, B = "0x" + "00" * 19 + "0a", "0x" + "00" * 19 + "0b"


@pytest.mark.parametrize(("weights", "accounts"), [([1, 2], [A]), ([1], [A, B])])
def test_a_split_needs_exactly_one_account_per_weight(weights, accounts):
    with pytest.raises(ValueError, match="one account per weight"):
        split_pro_rata(10, weights, accounts)


# ---- lec/market/policy.py (the Marketplace contract's arithmetic mirrored) ----


def test_only_the_two_venue_categories_give_a_venue_a_share():
    from lec.market.policy import CATEGORIES

    # Report §5.3.2: categories 2 and 8 (0-based 1 and 7) are the ones "with a venue".
    assert [c.venue for c in CATEGORIES] == [False, True, False, False, False, False, False, True]
    assert [c.is_task for c in CATEGORIES] == [False] * 5 + [True] * 3


def test_the_incentive_is_a_floor_and_only_when_asked_for():
    from lec.market.policy import Policy, split

    policy = Policy(fee_bps=300, incentive_bps=500)
    # 1001 · 500 / 10 000 = 50.05 → 50 units; the fee 1001 · 300 / 10 000 = 30.03 → 30.
    paid = split(1001, policy, category_number=0, with_venue=False)
    assert (paid.incentive, paid.fee, paid.to_provider) == (50, 30, 971)
    assert type(paid.incentive) is int
    assert split(1001, policy, category_number=0, with_venue=False, with_incentive=False).incentive == 0


def test_the_budget_spent_is_the_part_of_the_incentive_above_the_fee():
    from lec.market.policy import budget_spent

    assert budget_spent(70, 100, 30, category_number=0) == 40  # 70 paid, 30 of it covered by the fee
    assert budget_spent(20, 100, 30, category_number=0) == 0
    assert budget_spent(70, 100, 30, category_number=5) == 0  # a community task uses no budget


# ---- oracle/clean.py ----


def _day_and_start():
    from datetime import date

    from lec.calendar import period_start, quarter_hours

    day = date(2026, 11, 18)
    return day, period_start(day), quarter_hours(day)


def test_readings_up_to_six_hours_after_the_day_bound_a_gap_at_its_end():
    """Context readings after the day (up to 6 h) are kept: a gap in the day's last quarter hours is filled."""
    import numpy as np

    from oracle.clean import clean_day

    day, start, n = _day_and_start()
    slots = [s for s in range(-4, n + 24) if not n - 3 <= s < n + 5]  # gap: last 3 quarter hours + 5 after
    result = clean_day([start + 900 * s for s in slots], [100.0] * len(slots), day)
    assert result.imputed[n - 3 :].all() and not np.isnan(result.values).any()
    assert result.gaps == []


def test_a_gap_between_curved_readings_is_filled_by_a_spline_not_a_line():
    """A cubic spline through 4 + 4 readings of a parabola gives the parabola back (1600, 1681, 1764, 1849);
    a straight line between its ends would give 1604, 1687, 1770, 1853."""
    from oracle.clean import clean_day

    day, start, n = _day_and_start()
    slots = [s for s in range(-4, n) if not 40 <= s < 44]
    values = [5000.0 if s in (35, 48) else float(s * s) for s in slots]  # the 5th reading each side: far off
    result = clean_day([start + 900 * s for s in slots], values, day)
    assert list(result.values[40:44]) == [1600.0, 1681.0, 1764.0, 1849.0]  # only 4 readings each side count
    assert result.imputed[40:44].all() and result.imputed.sum() == 4


def test_only_the_days_own_off_grid_readings_count_as_snapped_and_context_stops_at_six_hours():
    from oracle.clean import clean_day

    day, start, n = _day_and_start()
    on_grid = [start + 900 * s for s in [*range(1, n), n + 1]]  # and one on the grid after the day
    # Off the grid by a minute: two before the day, one in its first quarter hour, one just after it.
    off = [start - 3 * 900 + 60, start - 2 * 900 + 60, start + 60, start + n * 900 + 60]
    # 6 h after the day's end is outside the context (−6 h … +6 h, end excluded): ignored.
    beyond = [start + (n + 24) * 900]
    result = clean_day(on_grid + off + beyond, [10.0] * (len(on_grid) + len(off) + 1), day)
    assert result.snapped == 1
    assert not result.imputed.any() and result.duplicates == 0


def test_four_readings_around_a_gap_are_enough_for_a_spline():
    """Two readings each side of a 4-quarter-hour gap, on a parabola: the cubic through them is the parabola."""
    from oracle.clean import clean_day

    day, start, n = _day_and_start()
    slots = [38, 39, 44, 45]
    result = clean_day([start + 900 * s for s in slots], [float(s * s) for s in slots], day)
    assert list(result.values[40:44]) == [1600.0, 1681.0, 1764.0, 1849.0]


def test_readings_more_than_six_hours_before_the_day_are_ignored():
    """A reading 6 h 15 min or 7 h 30 min before the day is outside the context: it must not land anywhere (an
    index past the start would wrap to the end of the series and bound the gap at the day's end)."""
    from oracle.clean import Gap, clean_day

    day, start, n = _day_and_start()
    slots = [*range(-4, n - 2), -25, -30]
    result = clean_day([start + 900 * s for s in slots], [10.0] * len(slots), day)
    assert not result.imputed.any()
    assert result.gaps == [Gap(first=n - 2, length=2)]


def test_a_few_readings_after_the_day_leave_no_gap_no_duplicate_and_no_snapped_reading():
    """The whole day, then three readings after midnight (the next day's have started to arrive), one of them a
    minute off the grid, then nothing: the day is complete. The missing rest of the 6 h after it is not a gap of
    the day, the reading on the first quarter hour after it is not a duplicate, and the off-grid one after the
    day is not counted as snapped (the count is the day's)."""
    from oracle.clean import clean_day

    day, start, n = _day_and_start()
    stamps = [start + 900 * s for s in range(n + 2)] + [start + 900 * (n + 2) + 60]
    result = clean_day(stamps, [10.0] * len(stamps), day)
    assert result.gaps == [] and result.duplicates == 0 and result.snapped == 0
    assert not result.imputed.any() and list(result.values) == [10.0] * n


def test_a_reading_exactly_six_hours_before_the_day_shapes_the_spline_of_a_gap_reaching_into_it():
    """Context starts exactly 6 h before the day (−6 h … +6 h, start included). Readings at −6 h, −5 h 45,
    −5 h 30 and −5 h 15, then none until the day's second quarter hour: the 21-quarter-hour gap reaches the day's
    first quarter hour and is filled by the spline through the 4 readings each side of it, the one at −6 h
    among them (without it the spline would take the next reading after the gap instead)."""
    import numpy as np
    from scipy.interpolate import CubicSpline

    from oracle.clean import clean_day

    day, start, n = _day_and_start()
    before = {-24: 10_000.0, -23: 0.0, -22: 0.0, -21: 0.0}
    after = {s: 100.0 * s for s in range(1, n)}
    readings = {**before, **after}
    result = clean_day([start + 900 * s for s in readings], list(readings.values()), day)
    knots = [-24, -23, -22, -21, 1, 2, 3, 4]
    ys = [readings[k] for k in knots]
    expected = np.rint(np.clip(CubicSpline(knots, ys)(0.0), min(ys), max(ys)))
    assert result.imputed[0] and not result.imputed[1:].any()
    assert result.values[0] == expected
    without = [-23, -22, -21, 1, 2, 3, 4, 5]  # what the spline would be without the reading at −6 h
    other = np.rint(np.clip(CubicSpline(without, [readings[k] for k in without])(0.0), 0.0, 500.0))
    assert other != expected  # so the test tells the two apart


@pytest.mark.parametrize(("timestamps", "values"), [(3, 2), (2, 3)], ids=["more-timestamps", "more-values"])
def test_timestamps_and_values_must_pair_up_either_way(timestamps, values):
    from oracle.clean import clean_day

    day, start, _ = _day_and_start()
    with pytest.raises(ValueError, match=f"Got {timestamps} timestamps but {values} values; they must pair up"):
        clean_day([start + 900 * s for s in range(timestamps)], [1.0] * values, day)


def test_readings_more_than_six_hours_after_the_day_are_ignored():
    """The mirror of the test above: 6 h 15 min and 7 h 30 min after the day's end are outside the context."""
    from oracle.clean import Gap, clean_day

    day, start, n = _day_and_start()
    slots = [*range(-4, n - 2), n + 25, n + 30]
    result = clean_day([start + 900 * s for s in slots], [10.0] * len(slots), day)
    assert not result.imputed.any()
    assert result.gaps == [Gap(first=n - 2, length=2)]


def test_a_reading_before_the_context_is_not_a_knot_of_a_gap_at_the_days_end():
    """A ramp (10 Wh per quarter hour) up to the day's last two quarter hours, then one reading 5 h after the day:
    the 22-quarter-hour gap between is filled on the ramp (the spline through 4 + 1 readings of a line). A reading
    6 h 15 min before the day, of 5 000 Wh, is outside the context: were it kept, its index would wrap to the
    series' last place (5 h 45 min after the day) and bend the spline as a fifth knot."""
    from oracle.clean import clean_day

    day, start, n = _day_and_start()
    ramp = [*range(0, n - 2), n + 20]
    slots = [*ramp, -25]
    result = clean_day([start + 900 * s for s in slots], [10.0 * s for s in ramp] + [5000.0], day)
    assert list(result.values[n - 3 :]) == [10.0 * (n - 3), 10.0 * (n - 2), 10.0 * (n - 1)]
    assert list(result.imputed[n - 3 :]) == [False, True, True] and result.gaps == []
