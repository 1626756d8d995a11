"""Reward models in integers: the worked examples of docs/rewards.md, and invariants."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle.rewards.integer import split_pro_rata
from oracle.rewards.models import (
    MemberEnergy,
    RewardModel,
    RewardModelError,
    compute_rewards,
    member_uncapped,
    validate_model,
)

A = "0x" + "00" * 19 + "0a"
B = "0x" + "00" * 19 + "0b"


def _members() -> list[MemberEnergy]:
    return [
        MemberEnergy(A, "prosumer", np.array([100, 100, 100, 100]), np.array([300, 300, 0, 0])),
        MemberEnergy(B, "consumer", np.array([100, 200, 100, 0]), np.zeros(4, dtype=int)),
    ]


def test_self_consumption_worked_example():
    model = RewardModel("sc", "self-consumption", {"a": 1000, "b": 500, "c": 250, "max_per_period": 10**6})
    result = compute_rewards(model, _members())
    assert result.self_consumption_wh == [200, 0]
    assert result.hourly_shared_wh.tolist() == [400]
    assert result.shared_as_producer_mwh == [400_000, 0]
    assert result.shared_as_consumer_mwh == [133_333, 266_666]
    assert result.amounts == [433, 66] and result.total == 499 and not result.capped


def test_budget_cap_scales_down_with_largest_remainder():
    model = RewardModel("sc", "self-consumption", {"a": 1000, "b": 500, "c": 250, "max_per_period": 400})
    result = compute_rewards(model, _members())
    assert result.capped and result.uncapped == [433, 66]
    assert result.amounts == [347, 53] and result.total == 400


def test_no_peaks_worked_example():
    model = RewardModel("np", "no-peaks", {"rate": 1000, "par_ref_bps": 20_000, "max_per_period": 10**6})
    result = compute_rewards(model, _members())
    assert result.par_bps == [10_000, 20_000]
    assert result.amounts == [200, 0]


def test_combined_and_energy_bonus():
    params = {
        "a": 1000,
        "b": 500,
        "c": 250,
        "rate": 1000,
        "par_ref_bps": 20_000,
        "w_sc_bps": 7_000,
        "w_peak_bps": 3_000,
        "max_per_period": 10**6,
        "bonus_consumer": 5,
        "bonus_prosumer": 7,
    }
    result = compute_rewards(RewardModel("c", "combined", params), _members())
    # A: (7000·433 + 3000·200) // 10000 = 363, + 7 bonus; B: (7000·66 + 0) // 10000 = 46, + 5 bonus.
    assert result.amounts == [370, 51]


def test_member_with_no_load_gets_no_peak_reward_and_no_bonus_without_sharing():
    members = [MemberEnergy(A, "consumer", np.zeros(4, dtype=int), np.zeros(4, dtype=int))]
    model = RewardModel("np", "no-peaks", {"rate": 10, "par_ref_bps": 1, "max_per_period": 9, "bonus_consumer": 3})
    assert compute_rewards(model, members).amounts == [0]


def test_invalid_parameters_are_refused():
    with pytest.raises(RewardModelError, match="missing"):
        RewardModel("x", "self-consumption", {"a": 1, "max_per_period": 1})
    with pytest.raises(RewardModelError, match="non-negative integer"):
        RewardModel("x", "self-consumption", {"a": 1.5, "b": 0, "c": 0, "max_per_period": 1})
    with pytest.raises(RewardModelError, match="sum to 10 000"):
        RewardModel(
            "x",
            "combined",
            {"a": 1, "b": 1, "c": 1, "rate": 1, "par_ref_bps": 1, "w_sc_bps": 1, "w_peak_bps": 1, "max_per_period": 1},
        )
    with pytest.raises(RewardModelError, match="canonical"):
        RewardModel.from_chain("x", "no-peaks", '{"rate": 1, "par_ref_bps": 1, "max_per_period": 1}')


def test_validate_model_takes_the_json_as_typed_or_decoded():
    text = '{"rate": 3, "max_per_period": 9, "par_ref_bps": 2}'
    assert validate_model("np", "no-peaks", text) == validate_model("np", "no-peaks", json.loads(text))
    assert validate_model("np", "no-peaks", text).canonical_params == '{"max_per_period":9,"par_ref_bps":2,"rate":3}'


@pytest.mark.parametrize(
    ("name", "params", "sentence"),
    [
        (
            "np",
            '{"rate": 3,',
            "The parameters are not JSON (Expecting property name enclosed in double quotes at column",
        ),
        ("np", "[1, 2]", "The parameters must be a JSON object of integers"),
        ("", '{"rate": 3, "max_per_period": 9, "par_ref_bps": 2}', "A reward model needs a name."),
        ("np", '{"rate": 3, "max_per_period": 9, "par_ref_bps": 0}', "par_ref_bps must be positive"),
    ],
)
def test_validate_model_refuses_with_one_sentence(name, params, sentence):
    with pytest.raises(RewardModelError) as refused:
        validate_model(name, "no-peaks", params)
    assert str(refused.value).startswith(sentence) and str(refused.value).endswith(".")


def test_canonical_params_are_sorted_without_spaces():
    model = RewardModel("np", "no-peaks", {"rate": 3, "max_per_period": 9, "par_ref_bps": 2})
    assert model.canonical_params == '{"max_per_period":9,"par_ref_bps":2,"rate":3}'


addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())


@settings(max_examples=100, deadline=None)
@given(total=st.integers(0, 10**30), weights=st.lists(st.integers(0, 10**20), min_size=1, max_size=30), data=st.data())
def test_split_is_exact_and_fair(total, weights, data):
    accounts = data.draw(st.lists(addresses, min_size=len(weights), max_size=len(weights), unique=True))
    parts = split_pro_rata(total, weights, accounts)
    if sum(weights) == 0:
        assert parts == [0] * len(weights)
        return
    assert sum(parts) == total
    whole = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        assert abs(part * whole - total * w) < whole  # within one unit of the exact share


quarter_hours = st.lists(st.integers(0, 3000), min_size=8, max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(quarter_hours, quarter_hours), min_size=1, max_size=12),
    cap=st.integers(0, 10**22),
    kind=st.sampled_from(["self-consumption", "no-peaks", "combined"]),
)
def test_rewards_sum_to_the_period_total_and_respect_the_cap(rows, cap, kind):
    members = [
        MemberEnergy("0x" + f"{i + 1:040x}", "prosumer", np.array(load), np.array(prod))
        for i, (load, prod) in enumerate(rows)
    ]
    params = {
        "a": 10**17,
        "b": 10**17,
        "c": 10**16,
        "rate": 10**17,
        "par_ref_bps": 30_000,
        "w_sc_bps": 5_000,
        "w_peak_bps": 5_000,
        "max_per_period": cap,
        "bonus_prosumer": 10**15,
    }
    keys = {"self-consumption": ("a", "b", "c"), "no-peaks": ("rate", "par_ref_bps"), "combined": tuple(params)}
    chosen = {k: v for k, v in params.items() if k in keys[kind] or k in ("max_per_period", "bonus_prosumer")}
    result = compute_rewards(RewardModel("m", kind, chosen), members)
    assert result.total == min(sum(result.uncapped), cap)
    assert all(a >= 0 for a in result.amounts)
    assert all(a <= u for a, u in zip(result.amounts, result.uncapped, strict=True))
    shared = result.hourly_shared_wh.sum() * 1000
    assert sum(result.shared_as_producer_mwh) <= shared and sum(result.shared_as_consumer_mwh) <= shared


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(quarter_hours, quarter_hours), min_size=1, max_size=8))
def test_an_auditor_recomputes_each_uncapped_reward_from_own_data_and_hourly_totals(rows):
    members = [
        MemberEnergy("0x" + f"{i + 1:040x}", "consumer", np.array(load), np.array(prod))
        for i, (load, prod) in enumerate(rows)
    ]
    params = {
        "a": 10**17,
        "b": 3 * 10**16,
        "c": 10**16,
        "rate": 10**17,
        "par_ref_bps": 30_000,
        "w_sc_bps": 6_000,
        "w_peak_bps": 4_000,
        "max_per_period": 10**30,
        "bonus_consumer": 7,
    }
    model = RewardModel("m", "combined", params)
    result = compute_rewards(model, members)
    for member, amount in zip(members, result.uncapped, strict=True):
        alone = member_uncapped(
            model, member, result.hourly_shared_wh, result.hourly_injection_wh, result.hourly_withdrawal_wh
        )
        assert alone == amount
