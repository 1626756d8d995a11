# pymultihash (an ape dependency) installs a top-level `tests` package, so shared test helpers are imported
# by module name (this folder is on sys.path through conftest.py), never as `tests.…`.
"""Constants and small helpers shared by the contract tests."""

from __future__ import annotations

from oracle.proofs.merkle import StandardMerkleTree

UNIT = 10**18
CITIZEN, STAKEHOLDER = 1, 2
CONSUMER, PROSUMER, PROSTORMER = 0, 1, 2
REWARD_LEAF = ["address", "uint256"]
PERIOD = 20260315
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def proof_of(tree: StandardMerkleTree, account, amount: int) -> list[str]:
    """The proof of the rewards leaf `(account, amount)` in `tree`."""
    return tree.get_proof([account.address, amount])
