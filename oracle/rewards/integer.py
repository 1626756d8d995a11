"""Exact integer splits shared by every reward computation."""

from __future__ import annotations

from collections.abc import Sequence


def address_key(account: str) -> int:
    """Accounts order by their numeric value, so checksum casing never changes a tie-break."""
    return int(account, 16)


def split_pro_rata(total: int, weights: Sequence[int], accounts: Sequence[str]) -> list[int]:
    """Split ``total`` units in proportion to ``weights`` so that the parts sum to ``total`` exactly.

    Each part is first floored; the units left over go one each to the largest remainders, ties broken
    by ascending account address (largest-remainder method). All weights zero gives every part zero.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("A pro-rata split needs a non-negative total and non-negative weights.")
    if len(weights) != len(accounts):
        raise ValueError("A pro-rata split needs one account per weight.")
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], address_key(accounts[i])))
    for i in order[:left]:
        parts[i] += 1
    return parts
