"""Delivered flexibility per quarter hour: baseline − metered, clipped at zero, capped at the dispatched amount.

All in integer Wh per quarter hour. Consuming more than the baseline does not make a negative delivery in
another slot (each slot is clipped on its own), and delivering more than asked earns nothing extra.
"""

from __future__ import annotations

from collections.abc import Sequence


def delivered(baseline: Sequence[int], metered: Sequence[int], dispatched: Sequence[int]) -> list[int]:
    if not len(baseline) == len(metered) == len(dispatched):
        raise ValueError("Baseline, metered and dispatched need one value per slot of the event.")
    return [min(max(b - m, 0), max(d, 0)) for b, m, d in zip(baseline, metered, dispatched, strict=True)]


def performance_bps(delivered_wh: Sequence[int], dispatched_wh: Sequence[int]) -> int:
    """Delivered over dispatched in basis points (10 000 = all of it); 0 when nothing was dispatched."""
    asked = sum(dispatched_wh)
    return sum(delivered_wh) * 10_000 // asked if asked else 0
