"""A small community computed by hand on both DST days, through the whole pure pipeline."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from lec.calendar import day_grid
from oracle.pipeline import DeviceSeries, MemberInput, ModelRef, PeriodInputs, compute_period
from oracle.proofs.encoding import DATA_LEAF_ENCODING, REWARD_LEAF_ENCODING
from oracle.proofs.merkle import StandardMerkleTree
from oracle.rewards.models import RewardModel

A = "0x" + "00" * 19 + "0a"
B = "0x" + "00" * 19 + "0b"
MODEL = ModelRef(1, RewardModel("sc", "self-consumption", {"a": 1000, "b": 500, "c": 250, "max_per_period": 10**6}))


def _inputs(day: date) -> PeriodInputs:
    grid = day_grid(day)
    n = grid.size
    pv = np.zeros(n)
    pv[40:44] = -300  # hour 10 of the day: A exports 200 Wh each quarter hour
    return PeriodInputs(
        chain_community_id=1,
        day=day,
        members=[
            MemberInput(
                A,
                "prosumer",
                True,
                [DeviceSeries("POD-A", "load", grid, np.full(n, 100.0)), DeviceSeries("PV-A", "production", grid, pv)],
            ),
            MemberInput(B, "consumer", True, [DeviceSeries("POD-B", "load", grid, np.full(n, 50.0))]),
        ],
    )


SALTS = {"POD-A": bytes([1]) * 32, "PV-A": bytes([2]) * 32, "POD-B": bytes([3]) * 32}


@pytest.mark.parametrize(("day", "quarters"), [(date(2026, 3, 29), 92), (date(2026, 10, 25), 100)])
def test_dst_day_by_hand(day, quarters):
    result = compute_period(_inputs(day), MODEL, SALTS)
    hours = quarters // 4
    # Hour 10: I = 4·200 = 800 Wh (A), W = 4·50 = 200 Wh (B), S = 200 Wh; every other hour nobody injects.
    shared = [0] * hours
    shared[10] = 200
    assert result.aggregates["hourlyShared"] == shared
    assert result.aggregates["hourlyInjection"][10] == 800 and result.aggregates["hourlyWithdrawal"][10] == 200
    assert result.aggregates["communityLoad"] == [150] * quarters
    assert result.aggregates["communityProduction"][40:44] == [-300] * 4
    # sc_A = 4·100 = 400 Wh, sp_A = 1000·200·800/800 = 200 000 mWh, sw_B = 1000·200·200/200 = 200 000 mWh:
    # r_A = (1000·1000·400 + 500·200 000) / 10⁶ = 500, r_B = 250·200 000 / 10⁶ = 50.
    assert result.rewards.amounts == [500, 50] and result.total_rewards == 550
    assert result.leaf_count == 3
    assert result.kpis.shared_energy_kwh == pytest.approx(0.2)
    assert result.kpis.load_kwh == pytest.approx(150 * quarters / 1000)
    assert result.kpis.f3_kwh == pytest.approx(result.kpis.load_kwh)  # both are Sundays
    rewards = StandardMerkleTree.load(result.rewards_tree.dump())
    assert rewards.root == StandardMerkleTree.of([(A, 500), (B, 50)], REWARD_LEAF_ENCODING).root
    leaves = [result.leaves[d] for d in sorted(result.leaves)]
    assert result.data_root == StandardMerkleTree.of(leaves, DATA_LEAF_ENCODING).root


def test_kpis_read_the_exchange_meter_as_the_rewards_do():
    day = date(2026, 3, 29)
    grid = day_grid(day)
    n = grid.size
    exchange = np.full(n, 100.0)  # A's grid meter: withdrawal 100 Wh, and at hour 10 an injection of 300 Wh
    exchange[40:44] = -300  # that load and production alone would not show (A declares no PV meter)
    inputs = PeriodInputs(
        chain_community_id=1,
        day=day,
        members=[
            MemberInput(
                A,
                "prosumer",
                True,
                [
                    DeviceSeries("POD-A", "load", grid, np.full(n, 100.0)),
                    DeviceSeries("X-A", "exchange", grid, exchange),
                ],
            ),
            MemberInput(B, "consumer", True, [DeviceSeries("POD-B", "load", grid, np.full(n, 50.0))]),
        ],
    )
    salts = {"POD-A": bytes([1]) * 32, "X-A": bytes([2]) * 32, "POD-B": bytes([3]) * 32}
    result = compute_period(inputs, MODEL, salts)
    # Hour 10: I = 4·300 = 1200 Wh (A's meter), W = 4·50 = 200 Wh (B), S = 200 Wh — in the rewards and the KPIs.
    assert sum(result.aggregates["hourlyShared"]) == 200
    assert result.kpis.shared_energy_kwh == pytest.approx(0.2)
    assert result.kpis.injection_kwh == pytest.approx(sum(result.aggregates["hourlyInjection"]) / 1000)
    assert result.kpis.withdrawal_kwh == pytest.approx(sum(result.aggregates["hourlyWithdrawal"]) / 1000)


def test_same_readings_and_salts_give_the_same_roots_and_any_change_moves_them():
    day = date(2026, 3, 29)
    first = compute_period(_inputs(day), MODEL, SALTS)
    again = compute_period(_inputs(day), MODEL, SALTS)
    assert first.onchain_fields() == again.onchain_fields()
    other_salt = compute_period(_inputs(day), MODEL, {**SALTS, "POD-B": bytes([4]) * 32})
    assert other_salt.data_root != first.data_root and other_salt.rewards_root == first.rewards_root
    changed = _inputs(day)
    changed.members[1].devices[0].values[7] += 1
    moved = compute_period(changed, MODEL, SALTS)
    assert moved.data_root != first.data_root and moved.aggregates_hash != first.aggregates_hash
