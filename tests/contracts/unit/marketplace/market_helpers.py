"""Constants shared by the marketplace tests (imported by module name, like contract_helpers)."""

from __future__ import annotations

from contract_helpers import UNIT
from eth_utils import keccak

# (fee, incentive, venue) bps per category: every share the category can have is non-zero.
POLICIES = {
    0: (100, 200, 0),
    1: (100, 200, 1_500),
    2: (50, 300, 0),
    3: (200, 100, 0),
    4: (100, 200, 0),
    5: (100, 1_000, 0),
    6: (100, 500, 0),
    7: (100, 1_000, 2_000),
}
# Incentive above a deal's fee a member may receive per 30-day epoch in the marketplace fixture.
BUDGET = 100 * UNIT
# A price whose shares all round down, so the tests see the floor divisions.
PRICE = 3 * UNIT + 7
DESCRIPTION = keccak(text="Ripetizioni di matematica, 3 ore")
