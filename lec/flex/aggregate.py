"""The community's flexibility offer per 15-minute slot, as a flexibility buyer reads it.

No personal data leaves: a slot carries the summed kW (down and up) and the number of devices, nothing that
names a member. A slot to which fewer than `k` distinct members contribute is withheld (published with zeros
and `withheld`), so no published figure is one or two households' availability — the k-anonymity rule of
docs/flexibility.md, with k = 5 by default (`Settings.flex_k_anonymity`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lec.flex.declarations import Declaration

SLOT = timedelta(minutes=15)
DEFAULT_K = 5
MIN_K = 3


@dataclass(frozen=True)
class SlotOffer:
    start: datetime
    down_w: int
    up_w: int
    devices: int
    withheld: bool


def slot_starts(start: datetime, count: int) -> list[datetime]:
    """`count` quarter-hour starts from `start` (aware, floored to its quarter hour)."""
    first = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
    return [first + i * SLOT for i in range(count)]


def usable(d: Declaration, slot: datetime, now: datetime) -> bool:
    """The declaration can serve the slot: inside its days and hours, and announced with its minimum notice."""
    return d.covers(slot) and slot - now >= timedelta(minutes=d.notice_minutes)


def offer(
    entries: Sequence[tuple[Hashable, Declaration]], slots: Sequence[datetime], now: datetime, k: int = DEFAULT_K
) -> list[SlotOffer]:
    """The offer per slot: `entries` are (member key, declaration); the key is only counted, never published."""
    if k < MIN_K:
        raise ValueError(f"k-anonymity needs k ≥ {MIN_K}.")
    out = []
    for slot in slots:
        down = up = devices = 0
        members = set()
        for member, d in entries:
            if (d.down_w or d.up_w) and usable(d, slot, now):
                down, up, devices = down + d.down_w, up + d.up_w, devices + 1
                members.add(member)
        if len(members) < k:
            out.append(SlotOffer(slot, 0, 0, 0, withheld=True))
        else:
            out.append(SlotOffer(slot, down, up, devices, withheld=False))
    return out
