"""The flexibility rules on values: declarations, the k-anonymous offer, dispatch, baselines, delivery."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lec.calendar import ROME, quarter_hours
from lec.flex.aggregate import offer, slot_starts
from lec.flex.baseline import CAISO, PJM, BaselineError, baseline, by_clock, similar_days
from lec.flex.declarations import Declaration, DeclarationError, LoadKind
from lec.flex.delivery import delivered, performance_bps
from oracle.flex.dispatch import plan

EVENING = [18 * 60 + 15 * i for i in range(4)]  # 18:00–19:00, four quarter hours
NOW = datetime(2026, 7, 15, 8, 0, tzinfo=UTC)  # a Wednesday morning
EVENT = (datetime(2026, 7, 15, 16, 0, tzinfo=UTC), datetime(2026, 7, 15, 17, 0, tzinfo=UTC))  # 18–19 in Rome


def account(i: int) -> str:
    return f"0x{i:040x}"


# ---- declarations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"power_w": 0}, "power must be between"),
        ({"power_w": 2_000_000}, "power must be between"),
        ({"days_mask": 0}, "at least one day"),
        ({"start_minute": 7}, "start time must be a quarter hour"),
        ({"end_minute": 1500}, "end time must be a quarter hour"),
        ({"start_minute": 600, "end_minute": 600}, "must differ"),
        ({"notice_minutes": -1}, "minimum notice"),
        ({"setpoint_w": 500}, "only to a modulable load"),
        ({"kind": LoadKind.MODULABLE, "setpoint_w": 3000}, "below the declared power"),
    ],
)
def test_a_bad_declaration_is_refused_with_a_sentence(fields: dict, sentence: str) -> None:
    with pytest.raises(DeclarationError, match=sentence):
        Declaration(**{"kind": LoadKind.SHIFTABLE, "power_w": 2000, **fields})


def test_what_each_kind_offers() -> None:
    assert (Declaration(LoadKind.SHIFTABLE, 2000).down_w, Declaration(LoadKind.SHIFTABLE, 2000).up_w) == (2000, 2000)
    modulable = Declaration(LoadKind.MODULABLE, 7400, setpoint_w=1400)
    assert (modulable.down_w, modulable.up_w) == (6000, 0)
    assert (Declaration(LoadKind.STORAGE, 3000).down_w, Declaration(LoadKind.STORAGE, 3000).up_w) == (3000, 3000)
    fixed = Declaration(LoadKind.NON_CONTROLLABLE, 900)
    assert (fixed.down_w, fixed.up_w) == (0, 0)


def test_hours_are_local_and_a_window_may_cross_midnight() -> None:
    evening = Declaration(LoadKind.SHIFTABLE, 1000, days_mask=0b0000100, start_minute=18 * 60, end_minute=20 * 60)
    assert evening.covers(datetime(2026, 7, 15, 16, 0, tzinfo=UTC))  # Wednesday 18:00 in Rome (UTC+2)
    assert not evening.covers(datetime(2026, 7, 15, 18, 0, tzinfo=UTC))  # 20:00 in Rome: the end is excluded
    assert not evening.covers(datetime(2026, 7, 16, 16, 0, tzinfo=UTC))  # Thursday
    night = Declaration(LoadKind.STORAGE, 1000, days_mask=0b0000100, start_minute=23 * 60, end_minute=6 * 60)
    assert night.covers(datetime(2026, 7, 15, 21, 0, tzinfo=UTC))  # Wednesday 23:00
    assert night.covers(datetime(2026, 7, 16, 2, 0, tzinfo=UTC))  # Thursday 04:00 belongs to Wednesday's night
    assert not night.covers(datetime(2026, 7, 17, 2, 0, tzinfo=UTC))  # Friday 04:00 is Thursday's night: not declared


# ---- offer ----------------------------------------------------------------------------------------------------


def test_a_slot_with_fewer_than_k_members_is_withheld_and_devices_of_one_member_count_once() -> None:
    slots = slot_starts(EVENT[0], 4)
    four = [(account(i), Declaration(LoadKind.SHIFTABLE, 1000, notice_minutes=0)) for i in range(4)]
    # The fourth member declares three devices: still four members, below k = 5.
    four += [(account(3), Declaration(LoadKind.STORAGE, 500, notice_minutes=0)) for _ in range(2)]
    assert all(s.withheld and (s.down_w, s.up_w, s.devices) == (0, 0, 0) for s in offer(four, slots, NOW, k=5))
    five = [*four, (account(4), Declaration(LoadKind.MODULABLE, 2000, setpoint_w=500, notice_minutes=0))]
    published = offer(five, slots, NOW, k=5)
    assert [(s.down_w, s.up_w, s.devices, s.withheld) for s in published] == [(6500, 5000, 7, False)] * 4


def test_a_declaration_counts_only_with_its_notice_and_in_its_hours() -> None:
    members = [(account(i), Declaration(LoadKind.SHIFTABLE, 1000, notice_minutes=120)) for i in range(5)]
    soon = slot_starts(NOW + timedelta(minutes=60), 1)
    assert offer(members, soon, NOW, k=5)[0].withheld
    later = slot_starts(NOW + timedelta(minutes=120), 1)
    assert offer(members, later, NOW, k=5)[0].down_w == 5000
    with pytest.raises(ValueError, match="k ≥ 3"):
        offer(members, later, NOW, k=2)


# ---- dispatch -------------------------------------------------------------------------------------------------


def test_dispatch_is_pro_rata_with_the_remainder_to_the_largest_remainders_by_address() -> None:
    declared = {
        account(3): [Declaration(LoadKind.SHIFTABLE, 1000, notice_minutes=0)],
        account(1): [Declaration(LoadKind.SHIFTABLE, 1000, notice_minutes=0)],
        account(2): [Declaration(LoadKind.SHIFTABLE, 1000, notice_minutes=0)],
    }
    decided = plan(declared, 1000, *EVENT, NOW)
    # 1000 / 3 = 333 each, one unit left: equal remainders, the lowest address gets it.
    assert decided.opt_in and decided.shares == {account(1): 334, account(2): 333, account(3): 333}


def test_the_community_opts_out_when_its_declarations_do_not_cover_the_request() -> None:
    declared = {account(1): [Declaration(LoadKind.SHIFTABLE, 10_000, notice_minutes=0)]}
    assert not plan(declared, 30_000, *EVENT, NOW).opt_in
    partial = plan(declared, 30_000, *EVENT, NOW, min_cover_bps=3_000)
    assert partial.opt_in and partial.committed_w == 10_000 and partial.shares == {account(1): 10_000}
    outside = {account(1): [Declaration(LoadKind.SHIFTABLE, 10_000, start_minute=8 * 60, end_minute=18 * 60 + 30)]}
    assert plan(outside, 5_000, *EVENT, NOW).available_w == 0  # covers 18:00–18:30 only, not the whole event


@settings(max_examples=200, deadline=None)
@given(
    powers=st.lists(st.lists(st.integers(1, 20_000), min_size=1, max_size=3), min_size=1, max_size=12),
    request=st.integers(1, 200_000),
    cover_bps=st.integers(1, 10_000),
)
def test_dispatch_never_exceeds_declarations_and_sums_to_the_smaller_of_request_and_total(
    powers: list[list[int]], request: int, cover_bps: int
) -> None:
    declared = {
        account(i + 1): [Declaration(LoadKind.SHIFTABLE, p, notice_minutes=0) for p in ps]
        for i, ps in enumerate(powers)
    }
    decided = plan(declared, request, *EVENT, NOW, min_cover_bps=cover_bps)
    total = sum(map(sum, powers))
    covered = min(request, total)
    # Opted in exactly when the declarations cover the required share; then the shares sum to what was covered.
    assert decided.opt_in == (covered * 10_000 >= request * cover_bps)
    assert sum(decided.shares.values()) == (covered if decided.opt_in else 0)
    for who, share in decided.shares.items():
        assert 0 < share <= sum(d.power_w for d in declared[who])


# ---- baselines ------------------------------------------------------------------------------------------------


def flat(value: int, minutes: range | list[int] = range(0, 1440, 15)) -> dict[int, int]:
    return dict.fromkeys(minutes, value)


WEDNESDAY = date(2026, 7, 15)
# The weekdays before it, most recent first, each with a flat load (Wh per quarter hour).
PAST = [date(2026, 7, 14), date(2026, 7, 13), date(2026, 7, 10), date(2026, 7, 9), date(2026, 7, 8), date(2026, 7, 7)]


def test_pjm_high_4_of_5_with_the_symmetric_additive_adjustment_by_hand() -> None:
    history = {d: flat(v) for d, v in zip(PAST, [400, 100, 300, 500, 200, 900], strict=True)}
    history[date(2026, 7, 12)] = flat(5_000)  # a Sunday: not similar to a Wednesday
    # Pool: the 5 most recent weekdays (not 7 July's 900); the 4 highest: 500, 400, 300, 200 → mean 350.
    assert set(similar_days(PJM, WEDNESDAY, EVENING, history, (), ())) == {PAST[0], PAST[2], PAST[3], PAST[4]}
    assert baseline(PJM, WEDNESDAY, EVENING, history) == [350] * 4
    # Same day 14:00–17:00 metered 410 against a baseline of 350 there: +60 on every slot.
    same_day = flat(410, range(14 * 60, 17 * 60, 15))
    assert baseline(PJM, WEDNESDAY, EVENING, history, same_day) == [410] * 4
    # A past event day is not similar: 10 July (300) drops out, 7 July (900) enters the pool and is the highest.
    assert baseline(PJM, WEDNESDAY, EVENING, history, excluded={PAST[2]}) == [(900 + 500 + 400 + 200) // 4] * 4


def test_caiso_10_in_10_with_the_load_point_adjustment_capped_at_20_percent() -> None:
    days = [WEDNESDAY - timedelta(days=n) for n in range(1, 20) if (WEDNESDAY - timedelta(days=n)).weekday() < 5]
    history = {d: flat(100 * (i + 1)) for i, d in enumerate(days[:10])}  # 100 … 1000 → mean 550
    history[days[10]] = flat(99_999)  # the 11th weekday back: outside "10 in 10"
    assert baseline(CAISO, WEDNESDAY, EVENING, history) == [550] * 4
    window = range(14 * 60, 17 * 60, 15)
    assert baseline(CAISO, WEDNESDAY, EVENING, history, flat(605, window)) == [605] * 4  # ratio 1.1
    assert baseline(CAISO, WEDNESDAY, EVENING, history, flat(800, window)) == [660] * 4  # 1.45 capped at 1.2
    assert baseline(CAISO, WEDNESDAY, EVENING, history, flat(100, window)) == [440] * 4  # 0.18 capped at 0.8


def test_a_holiday_is_a_weekend_day_for_the_baseline() -> None:
    # 2 June 2026 (Festa della Repubblica) is a Tuesday.
    holidays = {date(2026, 6, 2)}
    history = {
        date(2026, 6, 3): flat(300),
        date(2026, 6, 2): flat(9_000),
        date(2026, 6, 1): flat(100),
        date(2026, 5, 31): flat(50),  # Sunday
        date(2026, 5, 30): flat(70),  # Saturday
    }
    thursday = date(2026, 6, 4)
    assert baseline(CAISO, thursday, EVENING, history, holidays=holidays) == [200] * 4  # (300 + 100) // 2
    # An event on the holiday itself compares with weekend days: "4 in 4" of Sunday and Saturday only.
    assert baseline(CAISO, date(2026, 6, 2), EVENING, history, holidays=holidays) == [60] * 4


def test_dst_days_are_matched_by_local_clock_time() -> None:
    autumn, spring = date(2026, 10, 25), date(2026, 3, 29)
    assert quarter_hours(autumn) == 100 and quarter_hours(spring) == 92
    clock = by_clock(autumn, list(range(100)))
    assert clock[2 * 60] == (8 + 12) // 2  # 02:00 happens twice: the floor mean of both readings
    assert clock[23 * 60 + 45] == 99 and len(clock) == 96
    spring_clock = by_clock(spring, [10] * 92)
    assert 2 * 60 not in spring_clock and len(spring_clock) == 92
    # An event at 02:00–03:00 on a Sunday: the spring day has no 02:00, so it is not a similar day.
    night = [2 * 60 + 15 * i for i in range(4)]
    history = {date(2026, 4, 11): flat(40), spring: spring_clock, date(2026, 3, 28): flat(20)}
    assert similar_days(CAISO, date(2026, 4, 12), night, history, (), ()) == [date(2026, 4, 11), date(2026, 3, 28)]
    with pytest.raises(ValueError, match="100 quarter hours"):
        by_clock(autumn, [0] * 96)


def test_no_similar_day_is_an_error_not_a_zero_baseline() -> None:
    with pytest.raises(BaselineError, match="No similar day"):
        baseline(PJM, WEDNESDAY, EVENING, {date(2026, 5, 1): flat(100)})  # 75 days back: beyond the 45-day lookback


# ---- delivery -------------------------------------------------------------------------------------------------


def test_delivery_by_hand() -> None:
    assert delivered([500, 500, 500, 500], [200, 450, 600, 0], [250, 250, 250, 250]) == [250, 50, 0, 250]
    assert performance_bps([250, 50, 0, 250], [250] * 4) == 5_500
    with pytest.raises(ValueError, match="one value per slot"):
        delivered([1], [1, 2], [1])


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(-5_000, 10_000), st.integers(0, 5_000)), max_size=20))
def test_delivery_is_never_negative_nor_above_the_dispatch(slots: list[tuple[int, int, int]]) -> None:
    b, m, d = (list(x) for x in zip(*slots, strict=True)) if slots else ([], [], [])
    out = delivered(b, m, d)
    assert all(0 <= x <= cap for x, cap in zip(out, d, strict=True))
    assert all(x == min(max(bb - mm, 0), dd) for x, bb, mm, dd in zip(out, b, m, d, strict=True))


def test_event_window_in_rome() -> None:
    assert EVENT[0].astimezone(ROME).hour == 18


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    members=st.integers(1, 6),
    method=st.sampled_from([PJM, CAISO]),
    event_day=st.sampled_from([WEDNESDAY, date(2026, 6, 2), date(2026, 7, 18)]),  # weekday, holiday, Saturday
    start_hour=st.sampled_from([2, 18]),  # before 04:00: no adjustment window
    missing=st.sampled_from([0.0, 0.3, 0.9]),  # share of incomplete member-days
)
def test_the_matrix_baseline_agrees_with_the_scalar_one(
    seed: int, members: int, method, event_day: date, start_hour: int, missing: float
) -> None:
    import numpy as np

    from lec.flex.baseline import baselines_matrix, needed_minutes

    rng = np.random.default_rng(seed)
    event = [start_hour * 60 + 15 * i for i in range(4)]
    needed = needed_minutes(event)
    days = [event_day - timedelta(days=n) for n in range(1, 50)]
    holidays = {date(2026, 6, 2)}
    excluded = {days[3]}
    values = rng.integers(0, 4, size=(members, len(days), len(needed))) * 500  # few values: ties are common
    complete = rng.random((members, len(days))) >= missing
    same = rng.integers(0, 2001, size=(members, len(needed)))
    same_complete = rng.random(members) < 0.8
    matrix, has = baselines_matrix(
        method, event_day, event, days, values, complete, same, same_complete, excluded, holidays
    )
    for m in range(members):
        history = {
            d: dict(zip(needed, values[m, i].tolist(), strict=True)) for i, d in enumerate(days) if complete[m, i]
        }
        same_day = dict(zip(needed, same[m].tolist(), strict=True)) if same_complete[m] else None
        try:
            expected = baseline(method, event_day, event, history, same_day, excluded, holidays)
        except BaselineError:
            assert not has[m]
            continue
        assert has[m] and matrix[m].tolist() == expected
