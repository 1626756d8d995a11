"""Property tests of a whole period against a model written here from docs/rewards.md, over every kind of day.

Hypothesis varies the day (both DST days, national holidays on a weekday and on a Saturday, plain weekdays,
Saturdays and Sundays), the members (profiles, active or not, a battery, a member with only a grid exchange
meter), the readings and the model's parameters (budget cap reached or not). The model below is plain Python
with loops over quarter hours and hours — no numpy, nothing imported from the oracle — so a slip in the
oracle's vectorised code (a slot mapping, a sign, a tie-break, who is paid) shows as a difference.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lec.calendar import day_grid, day_window, quarter_hours
from oracle.kpi import mean_daily_curve
from oracle.pipeline import DeviceSeries, MemberInput, ModelRef, PeriodInputs, compute_period
from oracle.rewards.models import RewardModel

ROME = ZoneInfo("Europe/Rome")
DAYS = {
    date(2026, 3, 29): "spring DST Sunday (23 h)",
    date(2026, 10, 25): "autumn DST Sunday (25 h)",
    date(2026, 12, 25): "Christmas, a Friday",
    date(2026, 8, 15): "Ferragosto, a Saturday",
    date(2026, 6, 2): "Festa della Repubblica, a Tuesday",
    date(2026, 11, 18): "a Wednesday",
    date(2026, 11, 21): "a Saturday",
    date(2026, 11, 22): "a Sunday",
}
HOLIDAYS = {date(2026, 12, 25), date(2026, 8, 15), date(2026, 6, 2)}
PROFILES = ("consumer", "prosumer", "prostormer")

hourly = st.lists(st.integers(0, 400), min_size=25, max_size=25)  # one value per hour of the grid (≤ 25)


@st.composite
def members(draw):
    count = draw(st.integers(1, 5))
    # Distinct addresses, in a drawn order (the input order must not matter).
    numbers = draw(st.lists(st.integers(1, 2**20), min_size=count, max_size=count, unique=True))
    out = []
    for k, number in enumerate(numbers):
        if out and draw(st.integers(0, 2)) == 0:  # a twin of the previous member: equal rewards, an exact tie
            out.append({**out[-1], "account": f"0x{number:040x}", "salt": bytes([k + 1]) * 32})
            continue
        kind = draw(st.sampled_from(["load", "load+pv", "load+pv+battery", "exchange-only"]))
        devices = {"load": draw(hourly)} if kind != "exchange-only" else {}
        if "pv" in kind:
            devices["pv"] = draw(hourly)
        if "battery" in kind:
            devices["battery"] = [draw(st.integers(-150, 150)) for _ in range(25)]
        if kind == "exchange-only":
            devices["exchange"] = [draw(st.integers(-300, 300)) for _ in range(25)]
        out.append(
            {
                "account": f"0x{number:040x}",
                "profile": draw(st.sampled_from(PROFILES)),
                "active": draw(st.booleans()),
                "devices": devices,
                "salt": bytes([k + 1]) * 32,
            }
        )
    return out


params = st.fixed_dictionaries(
    {
        "a": st.integers(0, 2000),
        "b": st.integers(0, 2000),
        "c": st.integers(0, 2000),
        "max_per_period": st.one_of(st.integers(0, 3000), st.just(10**12)),  # reached often, or never
        "bonus_consumer": st.integers(0, 9),
        "bonus_prosumer": st.integers(0, 9),
        "bonus_prostormer": st.integers(0, 9),
    }
)


def _quarters(day: date, per_hour: list[int], sign: int) -> list[int]:
    """Wh per quarter hour: the hour's value in each of its 4 quarter hours (production negative)."""
    return [sign * per_hour[t // 4] for t in range(quarter_hours(day))]


def _series(day: date, m: dict) -> list[DeviceSeries]:
    grid = day_grid(day)
    pod = m["account"][-6:]
    out = []
    for name, values in m["devices"].items():
        quantity = {"load": "load", "pv": "production", "battery": "storage", "exchange": "exchange"}[name]
        sign = -1 if name == "pv" else 1
        out.append(DeviceSeries(f"{name}-{pod}", quantity, grid, np.array(_quarters(day, values, sign), dtype=float)))
    return out


# ---- the model, from docs/rewards.md ----------------------------------------------------------------------------


def _model_rewards(day: date, ms: list[dict], p: dict) -> tuple[list[int], list[int]]:
    """(uncapped, amounts) per member, in input order."""
    n = quarter_hours(day)
    hours = n // 4
    loads, prods, injs, wdrs = [], [], [], []
    for m in ms:
        d = m["devices"]
        if "exchange" in d:  # only a grid meter: what it registers is the member's load and production
            x = _quarters(day, d["exchange"], 1)
            wdr = [max(v, 0) for v in x]
            inj = [max(-v, 0) for v in x]
            load, prod = wdr, inj
        else:
            load = _quarters(day, d["load"], 1)
            prod = _quarters(day, d.get("pv", [0] * 25), 1)
            if "battery" in d:  # charge is load, discharge production
                b = _quarters(day, d["battery"], 1)
                load = [v + max(c, 0) for v, c in zip(load, b, strict=True)]
                prod = [v + max(-c, 0) for v, c in zip(prod, b, strict=True)]
            inj = [max(pv - lv, 0) for lv, pv in zip(load, prod, strict=True)]
            wdr = [max(lv - pv, 0) for lv, pv in zip(load, prod, strict=True)]
        loads.append(load), prods.append(prod), injs.append(inj), wdrs.append(wdr)
    inj_h = [[sum(x[4 * h : 4 * h + 4]) for h in range(hours)] for x in injs]
    wdr_h = [[sum(x[4 * h : 4 * h + 4]) for h in range(hours)] for x in wdrs]
    big_i = [sum(row[h] for row in inj_h) for h in range(hours)]  # inactive members' energy counts too
    big_w = [sum(row[h] for row in wdr_h) for h in range(hours)]
    shared = [min(i, w) for i, w in zip(big_i, big_w, strict=True)]
    uncapped = []
    for k, m in enumerate(ms):
        if not m["active"]:
            uncapped.append(0)
            continue
        sc = sum(min(lv, pv) for lv, pv in zip(loads[k], prods[k], strict=True))
        sp = sum(1000 * shared[h] * inj_h[k][h] // big_i[h] for h in range(hours) if big_i[h])
        sw = sum(1000 * shared[h] * wdr_h[k][h] // big_w[h] for h in range(hours) if big_w[h])
        reward = (p["a"] * 1000 * sc + p["b"] * sp + p["c"] * sw) // 10**6
        if sum(shared) > 0:
            reward += p[f"bonus_{m['profile']}"]
        uncapped.append(reward)
    total, cap = sum(uncapped), p["max_per_period"]
    if total <= cap:
        return uncapped, list(uncapped)
    amounts = [cap * u // total for u in uncapped]
    remainder = {k: cap * u % total for k, u in enumerate(uncapped)}
    # Largest remainder first; ties to the lower address (as a number).
    order = sorted(remainder, key=lambda k: (-remainder[k], int(ms[k]["account"], 16)))
    for k in order[: cap - sum(amounts)]:
        amounts[k] += 1
    return uncapped, amounts


@settings(max_examples=60, deadline=None)
@given(day=st.sampled_from(sorted(DAYS)), ms=members(), p=params)
def test_a_period_pays_what_the_documented_model_pays(day, ms, p):
    inputs = PeriodInputs(1, day, [MemberInput(m["account"], m["profile"], m["active"], _series(day, m)) for m in ms])
    salts = {s.device_id: m["salt"] for m in ms for s in _series(day, m)}
    result = compute_period(inputs, ModelRef(1, RewardModel("prop", "self-consumption", p)), salts)
    uncapped, amounts = _model_rewards(day, ms, p)
    assert result.rewards is not None
    assert result.rewards.uncapped == uncapped, DAYS[day]
    assert result.rewards.amounts == amounts, DAYS[day]
    assert result.total_rewards == min(sum(uncapped), p["max_per_period"])
    assert result.aggregates["uncappedTotal"] == sum(uncapped)
    assert len(result.aggregates["communityLoad"]) == quarter_hours(day)
    assert all(a == 0 for a, m in zip(result.rewards.amounts, ms, strict=True) if not m["active"])
    # The KPIs' ARERA bands follow local time and the Italian calendar: Sundays and holidays are all F3.
    kpis = result.kpis
    local = [datetime.fromtimestamp(int(t), UTC).astimezone(ROME) for t in day_grid(day)]
    load = result.aggregates["communityLoad"]
    working = day.weekday() < 5 and day not in HOLIDAYS
    f1 = sum(v for v, t in zip(load, local, strict=True) if working and 8 <= t.hour < 19) / 1000
    assert abs(kpis.f1_kwh - f1) < 1e-6, DAYS[day]
    if day.weekday() == 6 or day in HOLIDAYS:
        assert abs(kpis.f3_kwh - kpis.load_kwh) < 1e-6, DAYS[day]


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.sampled_from(sorted(DAYS)), min_size=1, max_size=3, unique=True),
    profile=st.lists(st.integers(0, 1000), min_size=96, max_size=96),
)
def test_the_mean_daily_curve_is_by_local_wall_clock(days, profile):
    """Each day's reading at local hh:mm is profile[slot of hh:mm]: the curve gives the profile back at every
    slot some day has (the spring day has no 02:00–02:45; the autumn day has it twice, same value)."""
    stamps, values, seen = [], [], set()
    for day in days:
        for t in day_grid(day):
            moment = datetime.fromtimestamp(int(t), UTC).astimezone(ROME)
            slot = moment.hour * 4 + moment.minute // 15
            stamps.append(int(t)), values.append(float(profile[slot])), seen.add(slot)
    curve = mean_daily_curve(np.array(stamps), np.array(values))
    assert curve.shape == (96,)
    for slot in seen:
        assert curve[slot] == profile[slot], (slot, days)


@given(day=st.dates(date(2024, 1, 1), date(2030, 12, 31)))
def test_day_window_is_a_local_day(day):
    start, end = day_window(day)
    assert start.astimezone(ROME).replace(tzinfo=None) == datetime.combine(day, datetime.min.time())
    assert end.astimezone(ROME).replace(tzinfo=None) == datetime.combine(day + timedelta(days=1), datetime.min.time())
    assert (end - start).total_seconds() == 900 * quarter_hours(day)
    assert int(start.timestamp()) == int(day_grid(day)[0])
