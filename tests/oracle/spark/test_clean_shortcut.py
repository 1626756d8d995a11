"""``oracle.clean.complete_days`` (clean_day's shortcut for complete days, many at once) and the Spark engine's
``clean_frame`` that uses it give ``clean_day``'s result, fed frames directly (no JVM)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lec.calendar import STEP_SECONDS, period_start, quarter_hours
from oracle.clean import MAX_GAP_QUARTERS, clean_day, complete_days
from oracle.proofs.encoding import imputed_mask
from oracle.spark.clean import clean_frame

DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 25)]  # 92, 100 and 96 quarter hours


@st.composite
def device_day(draw):
    """Readings of one device-day in arrival order: the day and its margins, usually complete, sometimes with a
    reading dropped, duplicated (a later correction), moved off the grid, swapped with its neighbour, NaN, or
    margin readings arriving after the day's."""
    day = draw(st.sampled_from(DAYS))
    n, start = quarter_hours(day), period_start(day)
    slots = np.arange(-MAX_GAP_QUARTERS, n + MAX_GAP_QUARTERS)
    ts = start + STEP_SECONDS * slots
    vals = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(-500, 501, slots.size).astype(float)
    order = np.arange(slots.size)
    for change in draw(st.lists(st.sampled_from(["drop", "dup", "off", "swap", "nan", "late"]), max_size=2)):
        at = draw(st.integers(0, order.size - 2))
        if change == "drop":
            order = np.delete(order, at)
        elif change == "dup":
            order = np.insert(order, at + 1, order[at])
        elif change == "swap":
            order[[at, at + 1]] = order[[at + 1, at]]
        elif change == "late":
            order = np.concatenate([order[MAX_GAP_QUARTERS:], order[:MAX_GAP_QUARTERS]])
        elif change == "off":
            ts = ts.copy()
            ts[order[at]] += draw(st.sampled_from([-420, 300, 449]))
        else:
            vals = vals.copy()
            vals[order[at]] = np.nan
    stamps, values = ts[order], vals[order]
    if draw(st.booleans()):  # a duplicate with another value: the later one wins in clean_day
        at = draw(st.integers(0, stamps.size - 1))
        stamps, values = np.append(stamps, stamps[at]), np.append(values, values[at] + 7)
    return day, stamps, values


@settings(max_examples=100, deadline=None)
@given(days=st.lists(device_day(), min_size=1, max_size=5))
def test_complete_days_are_clean_days_values(days):
    starts = np.cumsum([0] + [d[1].size for d in days[:-1]])
    ts = np.concatenate([d[1] for d in days])
    vals = np.concatenate([d[2] for d in days])
    quarters = np.array([quarter_hours(d[0]) for d in days])
    complete, rows = complete_days(ts, vals, starts, np.array([period_start(d[0]) for d in days]), quarters)
    assert rows.size == quarters[complete].sum()
    offset = 0
    for (day, stamps, values), whole, n in zip(days, complete, quarters, strict=True):
        cleaned = clean_day(stamps, values, day)
        if whole:
            np.testing.assert_array_equal(vals[rows[offset : offset + n]], cleaned.values)
            offset += n
        # a day is complete exactly when clean_day had nothing to fill, lose or overwrite
        exact = not cleaned.imputed.any() and not cleaned.missing.any() and cleaned.duplicates == 0
        assert whole == (exact and bool(np.all(np.diff(_day_slots(stamps, values, day)) > 0)))


def test_a_day_with_one_quarter_hour_sent_twice_and_the_next_missing_is_not_complete():
    """As many readings as quarter hours, in order, but 02:15 sent twice (a correction) and 02:30 missing: not a
    complete day. clean_day keeps the correction and fills 02:30, so its values are not the readings as they came."""
    day = DAYS[2]
    n, start = quarter_hours(day), period_start(day)
    slots = np.array([*range(10), 9, *range(11, n)])
    values = np.arange(slots.size, dtype=float)
    stamps = start + STEP_SECONDS * slots
    complete, rows = complete_days(stamps, values, np.array([0]), np.array([start]), np.array([n]))
    assert slots.size == n and not complete[0] and rows.size == 0
    cleaned = clean_day(stamps, values, day)
    assert cleaned.duplicates == 1 and cleaned.imputed[10] and cleaned.values[9] == 10.0


def _day_slots(stamps: np.ndarray, values: np.ndarray, day: date) -> np.ndarray:
    slots = np.floor_divide(stamps - period_start(day) + STEP_SECONDS // 2, STEP_SECONDS)
    return slots[(slots >= 0) & (slots < quarter_hours(day)) & np.isfinite(values)]


@settings(max_examples=40, deadline=None)
@given(days=st.lists(device_day(), min_size=1, max_size=4), two_flows=st.lists(st.booleans(), min_size=4, max_size=4))
def test_clean_frame_gives_clean_day_for_every_device_day(days, two_flows):
    """Several device-days, some of them with a second flow of another quantity: every output row is
    clean_day's (committed values, imputed mask and counts), complete or not."""
    rows = []
    for device, ((day, stamps, values), second) in enumerate(zip(days, two_flows, strict=False)):
        flows = [(1, "load")] + ([(3, "exchange")] if second else [])
        for flow, quantity in flows:
            for seq, (t, v) in enumerate(zip(stamps, values, strict=True)):
                rows.append((1, day, device, flow, quantity, int(t), float(v) + flow, seq))
    frame = pd.DataFrame(rows, columns=["community", "day", "device", "flow", "quantity", "ts", "energy_wh", "seq"])
    out = clean_frame(frame)
    expected = 0
    for device, ((day, stamps, values), second) in enumerate(zip(days, two_flows, strict=False)):
        for flow, quantity in [(3, "exchange")] * second + [(1, "load")]:
            cleaned = clean_day(stamps, values + flow, day)
            (row,) = out[(out["device"] == device) & (out["quantity"] == quantity)].itertuples()
            np.testing.assert_array_equal(row.values, cleaned.as_int64())
            assert row.mask == imputed_mask(cleaned.imputed)
            assert (row.imputed, row.missing) == (int(cleaned.imputed.sum()), int(cleaned.missing.sum()))
            assert row.quantities == 1 + second
            expected += 1
    assert len(out) == expected
