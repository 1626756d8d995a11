"""Flexibility rewards: tokens per delivered kWh, with an optional performance floor and the period's budget.

A reward model of kind `flexibility` has integer parameters, in clear like the other kinds (canonical JSON):
`rate` (token units per delivered kWh), `min_performance_bps` (a member delivering less than this share of
what was dispatched to them earns nothing for the event: the penalty; 0 disables it) and `max_per_period`
(over it every reward is scaled down pro rata, largest remainders by address, as DESIGN §5.6).

A member's dispatch of `share_w` W over a quarter hour is `share_w // 4` Wh (floor); a member who opted out
before the event has nothing dispatched and earns nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from lec.flex.baseline import Method, baseline
from lec.flex.delivery import delivered, performance_bps
from oracle.rewards.integer import split_pro_rata

KIND = "flexibility"
KEYS = ("rate", "min_performance_bps", "max_per_period")
WH_PER_KWH = 1_000
BPS = 10_000


class FlexibilityModelError(ValueError):
    pass


@dataclass(frozen=True)
class FlexibilityModel:
    name: str
    params: dict[str, int]

    def __post_init__(self) -> None:
        missing = sorted(set(KEYS) - self.params.keys())
        unknown = sorted(self.params.keys() - set(KEYS))
        if missing or unknown:
            raise FlexibilityModelError(
                f"Model {self.name!r} ({KIND}) is missing {missing or 'nothing'} and has unknown parameters "
                f"{unknown or 'none'}; expected {list(KEYS)}."
            )
        for key, value in self.params.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise FlexibilityModelError(f"Parameter {key} must be a non-negative integer, got {value!r}.")
        if self.params["min_performance_bps"] > BPS:
            raise FlexibilityModelError("min_performance_bps is a share: at most 10 000 basis points.")


@dataclass(frozen=True)
class MemberDelivery:
    account: str
    baseline_wh: list[int]
    metered_wh: list[int]
    dispatched_wh: list[int]
    delivered_wh: list[int]

    @property
    def performance_bps(self) -> int:
        return performance_bps(self.delivered_wh, self.dispatched_wh)


def dispatched_per_slot(share_w: int, slots: int) -> list[int]:
    return [share_w // 4] * slots


def measure(
    method: Method,
    account: str,
    event_day: date,
    event_minutes: Sequence[int],
    history: Mapping[date, Mapping[int, int]],
    same_day: Mapping[int, int],
    share_w: int,
    excluded: Sequence[date] = (),
    holidays: Sequence[date] = (),
) -> MemberDelivery:
    """One member's baseline, metered load and delivery over the event's quarter hours (`same_day` holds the
    event day's readings by clock minute, the event's slots included)."""
    base = baseline(method, event_day, event_minutes, history, same_day, excluded, holidays)
    metered = [same_day[m] for m in event_minutes]
    asked = dispatched_per_slot(share_w, len(event_minutes))
    return MemberDelivery(account, base, metered, asked, delivered(base, metered, asked))


def flexibility_rewards(model: FlexibilityModel, deliveries: Sequence[MemberDelivery]) -> dict[str, int]:
    """Token units per account: `rate × delivered Wh // 1000` for members at or above the performance floor,
    scaled down to `max_per_period` when the total passes it."""
    rate, floor_bps, budget = (model.params[k] for k in KEYS)
    accounts = [d.account for d in deliveries]
    raw: list[int] = [
        rate * sum(d.delivered_wh) // WH_PER_KWH if d.performance_bps >= floor_bps and any(d.dispatched_wh) else 0
        for d in deliveries
    ]
    total = sum(raw)
    if total > budget:
        raw = split_pro_rata(budget, raw, accounts)
    return {a: r for a, r in zip(accounts, raw, strict=True) if r > 0}
