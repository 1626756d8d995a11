"""Flexibility rewards in the period's auditable path (docs/proofs.md §8).

A day's demand-response events are settled with the day's energy period, by the same notarisation:

- each member's flexibility reward is **added to its leaf of the period's rewards tree** (one leaf per member,
  `(account, energy reward + flexibility reward)`), so it is claimed, corrected and over-paid exactly as an
  energy reward;
- each measured `(event, member)` is a salted leaf of the period's **data tree** — its baseline, metered load,
  dispatched and delivered Wh per quarter hour — and one unsalted *flexibility period leaf* commits the
  flexibility model, the rewards' total before and after the model's budget cap, and the number of event leaves.

Both leaf kinds use the data tree's `["bytes32", "bytes32"]` encoding, so `Notary.verifyDataLeaf` proves them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address

from oracle.flex.rewards import BPS, KEYS, WH_PER_KWH, FlexibilityModel, FlexibilityModelError, MemberDelivery
from oracle.proofs.merkle import keccak
from oracle.rewards.integer import split_pro_rata

PERIOD_TAG = "lec-flex-period"
LEAF_PREFIX = "flex:"  # the salts' and leaves' key prefix: never a POD (PODs start with a country code)


@dataclass(frozen=True)
class FlexModelRef:
    """The registered flexibility model a day's events are rewarded with."""

    model_id: int
    model: FlexibilityModel
    params: str  # the canonical JSON as registered on chain

    @property
    def params_hash(self) -> str:
        return "0x" + keccak(self.params.encode()).hex()


@dataclass(frozen=True)
class EventDeliveries:
    key: str  # "<source>:<buyer's event id>", unique in the community
    start: int  # Unix seconds of the event's first quarter hour
    deliveries: list[MemberDelivery]


@dataclass
class FlexSettlement:
    """What a day's flexibility commits: leaves for the data tree and rewards to add to the rewards tree."""

    period: int
    model: FlexModelRef
    events: list[EventDeliveries]
    salts: dict[str, bytes]
    uncapped: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)
    leaves: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def uncapped_total(self) -> int:
        return sum(self.uncapped.values())

    @property
    def total(self) -> int:
        return sum(self.amounts.values())

    @property
    def event_leaves(self) -> int:
        return sum(len(e.deliveries) for e in self.events)

    def summary(self) -> dict[str, Any]:
        """The period file's `flexibility` object (community figures only)."""
        return {
            "model": {
                "id": self.model.model_id,
                "name": self.model.model.name,
                "kind": "flexibility",
                "params": self.model.params,
                "paramsHash": self.model.params_hash,
            },
            "uncappedTotal": self.uncapped_total,
            "total": self.total,
            "eventLeaves": self.event_leaves,
            "periodLeaf": list(self.leaves[period_leaf_id()]),
        }

    def details(self) -> dict[str, Any]:
        """flex.json: the per-member rows the bundles are made from (kept off chain, like the readings)."""
        return {
            **self.summary(),
            "events": [
                {
                    "event": e.key,
                    "start": e.start,
                    "members": [
                        {
                            "account": d.account,
                            "baseline": list(d.baseline_wh),
                            "metered": list(d.metered_wh),
                            "dispatched": list(d.dispatched_wh),
                            "delivered": list(d.delivered_wh),
                            "leaf": list(self.leaves[salt_id(e.key, d.account)]),
                        }
                        for d in e.deliveries
                    ],
                }
                for e in self.events
            ],
            "rewards": {a: str(x) for a, x in sorted(self.amounts.items())},
        }


def salt_id(event_key: str, account: str) -> str:
    """The `leaf_salts` key of one member's delivery in one event."""
    return f"{LEAF_PREFIX}{event_key}:{account.lower()}"


def period_leaf_id() -> str:
    return f"{LEAF_PREFIX}{PERIOD_TAG}"


def event_leaf(
    salt: bytes,
    event_key: str,
    account: str,
    period: int,
    start: int,
    model_id: int,
    baseline: Sequence[int],
    metered: Sequence[int],
    dispatched: Sequence[int],
    delivered: Sequence[int],
) -> tuple[str, str]:
    """`(flexKey, flexHash)`: `keccak256(abi.encode(bytes32 salt, string event, address account))` and
    `keccak256(abi.encode(bytes32 salt, uint256 periodId, uint256 start, uint256 modelId, int64[] baseline,
    int64[] metered, int64[] dispatched, int64[] delivered))`."""
    if len(salt) != 32:
        raise ValueError(f"A salt has 32 bytes, got {len(salt)}.")
    key = keccak(encode(["bytes32", "string", "address"], [salt, event_key, to_checksum_address(account)]))
    digest = keccak(
        encode(
            ["bytes32", "uint256", "uint256", "uint256", "int64[]", "int64[]", "int64[]", "int64[]"],
            [salt, period, start, model_id, list(baseline), list(metered), list(dispatched), list(delivered)],
        )
    )
    return "0x" + key.hex(), "0x" + digest.hex()


def period_leaf(
    period: int, model_id: int, params_hash: str, uncapped_total: int, total: int, event_leaves: int
) -> tuple[str, str]:
    """`(keccak256(abi.encode(string "lec-flex-period", uint256 periodId)), keccak256(abi.encode(uint256 periodId,
    uint256 modelId, bytes32 paramsHash, uint256 uncappedTotal, uint256 total, uint256 eventLeaves)))`."""
    key = keccak(encode(["string", "uint256"], [PERIOD_TAG, period]))
    digest = keccak(
        encode(
            ["uint256", "uint256", "bytes32", "uint256", "uint256", "uint256"],
            [period, model_id, bytes.fromhex(params_hash[2:]), uncapped_total, total, event_leaves],
        )
    )
    return "0x" + key.hex(), "0x" + digest.hex()


def event_reward(params: Mapping[str, int], dispatched: Sequence[int], delivered: Sequence[int]) -> int:
    """One member's reward for one event before the budget cap: `rate × delivered Wh // 1000` when something was
    dispatched and the delivered share reaches `min_performance_bps`, else 0."""
    asked = sum(dispatched)
    if asked <= 0:
        return 0
    if sum(delivered) * BPS < params["min_performance_bps"] * asked:
        return 0
    return params["rate"] * sum(delivered) // WH_PER_KWH


def settle(
    period: int, model: FlexModelRef, events: list[EventDeliveries], salts: Mapping[str, bytes]
) -> FlexSettlement:
    """Rewards (summed per member over the day's events, then capped at `max_per_period` pro rata, largest
    remainders by address) and the leaves committing them."""
    params = model.model.params
    uncapped: dict[str, int] = defaultdict(int)
    for event in events:
        for d in event.deliveries:
            uncapped[d.account] += event_reward(params, d.dispatched_wh, d.delivered_wh)
    accounts = sorted(uncapped, key=lambda a: int(a, 16))
    raw = [uncapped[a] for a in accounts]
    budget = params["max_per_period"]
    amounts = split_pro_rata(budget, raw, accounts) if sum(raw) > budget else raw
    result = FlexSettlement(period, model, events, dict(salts), dict(uncapped))
    result.amounts = {a: x for a, x in zip(accounts, amounts, strict=True) if x > 0}
    for event in events:
        for d in event.deliveries:
            sid = salt_id(event.key, d.account)
            result.leaves[sid] = event_leaf(
                salts[sid],
                event.key,
                d.account,
                period,
                event.start,
                model.model_id,
                d.baseline_wh,
                d.metered_wh,
                d.dispatched_wh,
                d.delivered_wh,
            )
    result.leaves[period_leaf_id()] = period_leaf(
        period, model.model_id, model.params_hash, result.uncapped_total, result.total, result.event_leaves
    )
    return result


def flex_model(name: str, params: str | Mapping[str, Any]) -> tuple[str, str]:
    """A `flexibility` model's name and canonical parameters (sorted keys, no spaces), checked as
    `lec oracle register-model` checks them before anything is sent."""
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError as exc:
            raise FlexibilityModelError(f"The parameters are not JSON ({exc.msg} at column {exc.colno}).") from exc
    if not isinstance(params, Mapping):
        raise FlexibilityModelError('The parameters must be a JSON object of integers, e.g. {"rate": 1000, ...}.')
    model = FlexibilityModel(name, dict(params))
    return model.name, json.dumps(model.params, sort_keys=True, separators=(",", ":"))


__all__ = [
    "KEYS",
    "EventDeliveries",
    "FlexModelRef",
    "FlexSettlement",
    "event_leaf",
    "event_reward",
    "period_leaf",
    "salt_id",
    "flex_model",
    "settle",
]
