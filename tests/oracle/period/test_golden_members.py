"""Golden periods worked by hand: a storage meter, an exchange-only member, an inactive member, an exact tie.

Every number below is computed in the comments from the readings, with docs/rewards.md's formulas
(self-consumption model, a = 1000, b = 500, c = 250: r = (a·1000·sc + b·sp + c·sw) // 10⁶, sp and sw in mWh).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from lec.calendar import day_grid
from oracle.pipeline import DeviceSeries, MemberInput, ModelRef, PeriodInputs, compute_period
from oracle.proofs.encoding import REWARD_LEAF_ENCODING
from oracle.proofs.merkle import StandardMerkleTree
from oracle.rewards.models import RewardModel

S = "0x" + "00" * 19 + "0a"  # prostormer: load, PV and a battery
X = "0x" + "00" * 19 + "0b"  # only a grid exchange meter (no load or production meter)
I = "0x" + "00" * 19 + "0c"  # noqa: E741  inactive consumer
C = "0x" + "00" * 19 + "0d"  # consumer
WEDNESDAY = date(2026, 11, 18)  # 96 quarter hours; hour h of the grid is slots 4h … 4h+3
BONUSES = {"bonus_prostormer": 7, "bonus_prosumer": 5, "bonus_consumer": 3}


def _model(cap: int, **extra: int) -> ModelRef:
    return ModelRef(
        7, RewardModel("golden", "self-consumption", {"a": 1000, "b": 500, "c": 250, "max_per_period": cap, **extra})
    )


def _hour(n: int, hour: int, value: float, base: float = 0.0) -> np.ndarray:
    v = np.full(n, base)
    v[4 * hour : 4 * hour + 4] = value
    return v


def _four_members(day: date) -> PeriodInputs:
    grid = day_grid(day)
    n = grid.size
    battery = _hour(n, 11, 50.0)  # charges 50 Wh a quarter hour at 11:00 …
    battery[72:76] = -80.0  # … and discharges 80 Wh a quarter hour at 18:00
    exchange = _hour(n, 18, -200.0, base=60.0)  # withdraws 60 Wh, injects 200 Wh a quarter hour at 18:00
    return PeriodInputs(
        chain_community_id=1,
        day=day,
        members=[
            MemberInput(
                S,
                "prostormer",
                True,
                [
                    DeviceSeries("S-LOAD", "load", grid, np.full(n, 100.0)),
                    DeviceSeries("S-PV", "production", grid, _hour(n, 10, -300.0)),
                    DeviceSeries("S-BAT", "storage", grid, battery),
                ],
            ),
            MemberInput(X, "prosumer", True, [DeviceSeries("X-POD", "exchange", grid, exchange)]),
            MemberInput(I, "consumer", False, [DeviceSeries("I-LOAD", "load", grid, np.full(n, 40.0))]),
            MemberInput(C, "consumer", True, [DeviceSeries("C-LOAD", "load", grid, np.full(n, 50.0))]),
        ],
    )


SALTS = {d: bytes([k + 1]) * 32 for k, d in enumerate(["S-LOAD", "S-PV", "S-BAT", "X-POD", "I-LOAD", "C-LOAD"])}

# Per quarter hour (hours are the grid's: 10:00 is slots 40 … 43):
#   S: load 100 (+50 battery charge at 11:00 = 150); production 300 at 10:00 (PV) and 80 at 18:00 (discharge).
#      Injection max(P − L, 0): 200 at 10:00. Withdrawal max(L − P, 0): 100, 150 at 11:00, 0 at 10:00, 20 at 18:00.
#   X: its meter is all we know: load = withdrawal = 60 (0 at 18:00), production = injection = 200 at 18:00.
#   I: 40 (inactive: counted in the community's energy, never paid). C: 50.
# Hour 10: I(h) = 4·200 = 800 (S); W(h) = 4·(60 + 40 + 50) = 600 → S(h) = 600.
# Hour 18: I(h) = 4·200 = 800 (X); W(h) = 4·(20 + 40 + 50) = 440 → S(h) = 440. Every other hour I(h) = 0.
# sc_S = 4·min(100, 300) + 4·min(100, 80) = 400 + 320 = 720 Wh; sc of X, I, C = 0.
# sp_S = 1000·600·800/800 = 600 000; sp_X = 1000·440·800/800 = 440 000 (mWh).
# sw_X = 1000·600·240/600 = 240 000; sw_I = 160 000 + 160 000; sw_C = 200 000 + 200 000;
# sw_S = 1000·440·80/440 = 80 000.
# r_S = (10⁶·720 + 500·600 000 + 250·80 000) / 10⁶ = 720 + 300 + 20 = 1040, + bonus 7 (prostormer) = 1047
# r_X = (500·440 000 + 250·240 000) / 10⁶ = 220 + 60 = 280, + 5 (prosumer) = 285
# r_I = 0 (inactive; 80 + 3 if it were paid)
# r_C = 250·400 000 / 10⁶ = 100, + 3 (consumer) = 103.              Total 1435.
UNCAPPED = [1047, 285, 0, 103]


def test_storage_exchange_only_and_inactive_by_hand():
    result = compute_period(_four_members(WEDNESDAY), _model(10**6, **BONUSES), SALTS)
    r = result.rewards
    assert r is not None and not r.capped
    assert r.self_consumption_wh == [720, 0, 0, 0]
    assert r.shared_as_producer_mwh == [600_000, 440_000, 0, 0]
    assert r.shared_as_consumer_mwh == [80_000, 240_000, 320_000, 400_000]
    assert r.uncapped == UNCAPPED and r.amounts == UNCAPPED and result.total_rewards == 1435
    shared = [0] * 24
    shared[10], shared[18] = 600, 440
    assert result.aggregates["hourlyShared"] == shared
    assert result.aggregates["hourlyInjection"][10] == 800 and result.aggregates["hourlyInjection"][18] == 800
    assert result.aggregates["hourlyWithdrawal"][10] == 600 and result.aggregates["hourlyWithdrawal"][18] == 440
    assert result.aggregates["hourlyWithdrawal"][11] == 4 * (150 + 60 + 40 + 50)
    # Community load: S 100 (150 at 11:00), X 60 (0 at 18:00), I 40, C 50; production: S's PV and discharge, X.
    load = [100 + 60 + 40 + 50] * 96
    load[44:48] = [150 + 60 + 40 + 50] * 4
    load[72:76] = [100 + 0 + 40 + 50] * 4
    assert result.aggregates["communityLoad"] == load
    production = [0] * 96
    production[40:44] = [-300] * 4
    production[72:76] = [-(80 + 200)] * 4
    assert result.aggregates["communityProduction"] == production
    assert result.aggregates["uncappedTotal"] == 1435
    # The inactive member gets no leaf; the others one each.
    tree = StandardMerkleTree.load(result.rewards_tree.dump())
    assert tree.root == StandardMerkleTree.of([(S, 1047), (X, 285), (C, 103)], REWARD_LEAF_ENCODING).root
    assert result.leaf_count == 6  # every device has a data leaf, the inactive member's too


def test_the_same_period_capped_by_hand():
    # Cap 1000 < 1435: ⌊1000·u/1435⌋ = 729 (rem 885), 198 (rem 870), 0, 71 (rem 1115): 998, 2 units left for the
    # two largest remainders, C and S → 730, 198, 0, 72.
    result = compute_period(_four_members(WEDNESDAY), _model(1000, **BONUSES), SALTS)
    assert result.rewards is not None and result.rewards.capped
    assert result.rewards.uncapped == UNCAPPED and result.aggregates["uncappedTotal"] == 1435
    assert result.rewards.amounts == [730, 198, 0, 72] and result.total_rewards == 1000


P = "0x" + "00" * 19 + "0f"  # a producer whose address is the highest


def test_an_exact_tie_goes_to_the_lower_addresses():
    """Three equal remainders, two units left: the two lowest addresses win them, whatever the input order."""
    day = date(2026, 3, 29)  # spring DST day: 92 quarter hours, the 10th hour still slots 40 … 43
    grid = day_grid(day)
    n = grid.size
    pv = _hour(n, 10, -300.0)
    members = [  # listed highest address first: an index order or a descending tie-break gives other winners
        MemberInput(P, "prosumer", True, [DeviceSeries("P-PV", "production", grid, pv)]),
        MemberInput(X, "consumer", True, [DeviceSeries("X-LOAD", "load", grid, np.full(n, 50.0))]),
        MemberInput(S, "consumer", True, [DeviceSeries("S-LOAD", "load", grid, np.full(n, 50.0))]),
    ]
    salts = {"P-PV": b"\x01" * 32, "X-LOAD": b"\x02" * 32, "S-LOAD": b"\x03" * 32}
    # Hour 10: I = 4·300 = 1200 (P), W = 4·50 + 4·50 = 400 → S = 400.
    # sp_P = 1000·400·1200/1200 = 400 000 → r_P = 500·400 000/10⁶ = 200; sw = 1000·400·200/400 = 200 000 each
    # → r = 250·200 000/10⁶ = 50 each. Total 300 > cap 100: ⌊100·200/300⌋ = 66, ⌊100·50/300⌋ = 16 twice, all
    # three with remainder 200; 100 − 98 = 2 units to the two lowest addresses, S (…0a) and X (…0b).
    result = compute_period(PeriodInputs(1, day, members), _model(100), salts)
    assert result.rewards is not None
    assert result.rewards.uncapped == [200, 50, 50]
    assert result.rewards.amounts == [66, 17, 17]
    assert result.aggregates["hourlyShared"][10] == 400 and len(result.aggregates["communityLoad"]) == 92


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 25)])
def test_the_four_members_on_dst_days_and_a_holiday(day):
    """The 10th and 18th hours of the day's grid hold the same energy on a 23-, 25- and 24-hour day: the same
    rewards (hours are whole groups of 4 quarter hours from local midnight, whatever the day's length)."""
    result = compute_period(_four_members(day), _model(10**6, **BONUSES), SALTS)
    assert result.rewards is not None and result.rewards.amounts == UNCAPPED
    assert result.kpis.f3_kwh == pytest.approx(result.kpis.load_kwh)  # Sundays and Christmas are all F3
