"""Tests written for mutants of the core modules that `make mutation` found alive on a sample (docs/testing.md,
"Scores"): each names the mutant it kills. tests/oracle/period/test_mutation_survivors.py holds the earlier ones."""

from __future__ import annotations

import numpy as np

from oracle.rewards.models import MemberEnergy, RewardModel, member_uncapped

# ---- oracle/rewards/models.py ----


def test_the_shared_energy_share_is_floored_hour_by_hour_not_once_over_the_period():
    """Mutant `num // safe` → `num / safe` in `_floor_share`: docs/rewards.md floors each hour's share.

    Two hours; in each the member injects 2 Wh of the community's 3 Wh injected, and 1 Wh is shared:
    ⌊1000 · 1 · 2 / 3⌋ = 666 mWh per hour, 1332 over the two (not ⌊1333.3⌋ = 1333). With b = 10⁶ the reward
    in units is the mWh count itself."""
    production = np.array([2, 0, 0, 0, 2, 0, 0, 0])
    member = MemberEnergy("0x" + "00" * 19 + "0a", "prosumer", np.zeros(8, dtype=np.int64), production)
    model = RewardModel("m", "self-consumption", {"a": 0, "b": 10**6, "c": 0, "max_per_period": 10**9})
    shared, injected, withdrawn = np.array([1, 1]), np.array([3, 3]), np.array([1, 1])
    assert member_uncapped(model, member, shared, injected, withdrawn) == 1332
