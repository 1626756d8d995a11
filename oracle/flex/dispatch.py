"""What the community does with a demand-response event: opt in or out, and split the reduction among members.

An event asks for `request_w` of reduction over [start, end). A member's declarations count for the event when
each of its quarter hours is inside the declaration's days and hours and the event came with at least the
declaration's notice (`lec.flex.aggregate.usable`); a member's available power is the sum of those
declarations' `down_w`. The community takes on `min(request, available)`; it opts in when that covers at
least `min_cover_bps` of the request. The committed power is split pro rata to the members' available power
(never above it), remainder units to the largest remainders, ties by ascending account address (DESIGN §5.6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from lec.flex.aggregate import SLOT, usable
from lec.flex.declarations import Declaration
from oracle.rewards.integer import split_pro_rata

BPS = 10_000


@dataclass(frozen=True)
class Plan:
    opt_in: bool
    available_w: int
    committed_w: int
    shares: dict[str, int]  # account → W, only members with a positive share


def event_slots(start: datetime, end: datetime) -> list[datetime]:
    if end <= start:
        raise ValueError("An event must end after it starts.")
    slots, t = [], start
    while t < end:
        slots.append(t)
        t += SLOT
    return slots


def member_available_w(declarations: Sequence[Declaration], start: datetime, end: datetime, now: datetime) -> int:
    slots = event_slots(start, end)
    return sum(d.down_w for d in declarations if all(usable(d, s, now) for s in slots))


def plan(
    declarations: Mapping[str, Sequence[Declaration]],
    request_w: int,
    start: datetime,
    end: datetime,
    now: datetime,
    min_cover_bps: int = BPS,
) -> Plan:
    """The decision and the split for one event; `declarations` by member account."""
    if request_w <= 0:
        raise ValueError("An event must request a positive reduction.")
    accounts = sorted(declarations, key=lambda a: int(a, 16))
    available = [member_available_w(declarations[a], start, end, now) for a in accounts]
    total = sum(available)
    committed = min(request_w, total)
    opt_in = committed > 0 and committed * BPS >= request_w * min_cover_bps
    if not opt_in:
        return Plan(False, total, 0, {})
    parts = split_pro_rata(committed, available, accounts)
    return Plan(True, total, committed, {a: p for a, p in zip(accounts, parts, strict=True) if p > 0})
