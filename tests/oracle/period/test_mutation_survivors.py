"""Tests written for the mutants `make mutation` found alive (docs/testing.md lists each one and its fate)."""

from __future__ import annotations

import pytest

from oracle.rewards.integer import split_pro_rata

A, B = "0x" + "00" * 19 + "0a", "0x" + "00" * 19 + "0b"


@pytest.mark.parametrize(("weights", "accounts"), [([1, 2], [A]), ([1], [A, B])])
def test_a_split_needs_exactly_one_account_per_weight(weights, accounts):
    with pytest.raises(ValueError, match="one account per weight"):
        split_pro_rata(10, weights, accounts)
