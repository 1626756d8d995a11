"""The Spark engine's mean daily curves, fed cleaned member-days directly (no JVM): the vectorised path gives the
curve the reference gives (each member's days concatenated and passed to ``oracle.kpi.mean_daily_curve``), on
DST days, with gaps, with members of several devices and with days a member has no device."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lec.calendar import day_grid, quarter_hours
from oracle.kpi import curve_from_slot_sums, local_slots, mean_daily_curve, slot_sums
from oracle.proofs.encoding import MISSING
from oracle.spark.energy import (
    _slot_matrix,
    _with_gaps,
    curve_batches,
    energy_of,
    member_curve,
    single_device_loads,
)

SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # 92 and 100 quarter hours
DAYS = [date(2026, 3, 28), SPRING, date(2026, 3, 30), date(2026, 10, 24), AUTUMN, date(2026, 11, 25)]
QUANTITIES = ["load", "production", "exchange", "storage"]


def committed(draw, n: int) -> np.ndarray:
    """A device-day's committed values: signed integer Wh, some quarter hours MISSING (a run, as gaps are)."""
    values = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(-3000, 3001, n)
    if draw(st.booleans()):
        first = draw(st.integers(0, n - 1))
        values[first : first + draw(st.integers(1, n))] = MISSING
    return values


@st.composite
def member_days(draw):
    """Cleaned rows (community, member, profile, active, day, leaf_id, quantity, values) of a few members over a
    few days, sorted as ``by_member`` sorts them, and the days of the clustering."""
    days = sorted(draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=4, unique=True)))
    rows = []
    for index in range(draw(st.integers(1, 4))):
        member = f"0x{index:040x}"
        for day in days:
            devices = draw(st.lists(st.sampled_from(QUANTITIES), min_size=0, max_size=3))
            for leaf, quantity in enumerate(devices):  # none: the member has no device-day that day
                rows.append(
                    {
                        "community": 1,
                        "member": member,
                        "profile": "prosumer",
                        "active": True,
                        "day": day,
                        "leaf_id": f"IT{index:03d}{leaf}",
                        "quantity": quantity,
                        "values": committed(draw, quarter_hours(day)),
                    }
                )
    return days, rows


def reference(days: list[date], rows: list[dict]) -> dict[str, np.ndarray]:
    """The curves as the engine computed them before: each member-day through ``energy_of``, the member's days
    concatenated (zero load on a day without its devices) and ``mean_daily_curve``."""
    out = {}
    for member in sorted({r["member"] for r in rows}):
        loads = {}
        for day in days:
            mine = [r for r in rows if r["member"] == member and r["day"] == day]
            if mine:
                energy, missing = energy_of(
                    member, "prosumer", True, [r["quantity"] for r in mine], [r["values"] for r in mine], day
                )
                loads[day] = _with_gaps(energy.load, missing)
        out[member] = member_curve(days, loads)
    return out


def batches(rows: list[dict], cuts: list[int]) -> list[pd.DataFrame]:
    """The partition as Arrow would hand it over: frames cut anywhere, members split across them."""
    frame = pd.DataFrame(rows)
    edges = [0, *sorted({c % (len(frame) + 1) for c in cuts}), len(frame)]
    return [frame.iloc[a:b].reset_index(drop=True) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


@settings(max_examples=40, deadline=None)
@given(case=member_days(), cuts=st.lists(st.integers(0, 10_000), max_size=3))
def test_curve_batches_give_the_reference_curve_of_every_member(case, cuts):
    days, rows = case
    expected = reference(days, rows)
    got = {}
    for frame in curve_batches(iter(batches(rows, cuts)), days):
        for member, curve in zip(frame["member"], frame["curve"], strict=True):
            assert member not in got  # a member's days are summed in one frame, never split
            got[member] = curve
    assert set(got) == set(expected)
    for member, curve in expected.items():
        np.testing.assert_array_equal(got[member], curve)  # bit for bit, not approximately


@settings(max_examples=40, deadline=None)
@given(data=st.data(), quantity=st.sampled_from([*QUANTITIES, "weather"]), day=st.sampled_from(DAYS))
def test_single_device_loads_are_energy_of_row_by_row(data, quantity, day):
    n = quarter_hours(day)
    values = np.stack([committed(data.draw, n) for _ in range(data.draw(st.integers(1, 4)))])
    loads = single_device_loads(quantity, values)
    for row, raw in zip(loads, values, strict=True):
        energy, missing = energy_of("0xab", "consumer", True, [quantity], [raw], day)
        np.testing.assert_array_equal(row, _with_gaps(energy.load, missing))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), days=st.lists(st.sampled_from(DAYS), min_size=1, max_size=4, unique=True))
def test_slot_sums_of_days_add_up_to_the_curve_of_their_concatenation(data, days):
    """Integer Wh with gaps: per-day slot sums (bincount or the day's 0/1 slot matrix) added in any order give
    ``mean_daily_curve`` of the concatenated days, bit for bit."""
    series = [
        np.where(v == MISSING, np.nan, v.astype(float)) for v in (committed(data.draw, quarter_hours(d)) for d in days)
    ]
    sums, counts = np.zeros(96), np.zeros(96)
    for day, values in reversed(list(zip(days, series, strict=True))):
        by_day = slot_sums(local_slots(day_grid(day)), values)
        np.testing.assert_array_equal(by_day[0], np.nan_to_num(values) @ _slot_matrix(day))
        np.testing.assert_array_equal(by_day[1], ~np.isnan(values) @ _slot_matrix(day))
        sums, counts = sums + by_day[0], counts + by_day[1]
    whole = mean_daily_curve(np.concatenate([day_grid(d) for d in days]), np.concatenate(series))
    np.testing.assert_array_equal(curve_from_slot_sums(sums, counts), whole)


def test_a_member_without_any_known_quarter_hour_has_a_flat_zero_curve():
    """Every reading missing on every day: no slot is known, the curve is zeros (not NaN), as locally."""
    day = date(2026, 11, 25)
    rows = [
        {
            "community": 1,
            "member": "0x" + "1" * 40,
            "profile": "consumer",
            "active": True,
            "day": day,
            "leaf_id": "IT0",
            "quantity": "load",
            "values": np.full(96, MISSING, dtype=np.int64),
        }
    ]
    (frame,) = curve_batches(iter([pd.DataFrame(rows)]), [day])
    np.testing.assert_array_equal(frame["curve"][0], np.zeros(96))
    np.testing.assert_array_equal(frame["curve"][0], reference([day], rows)["0x" + "1" * 40])
