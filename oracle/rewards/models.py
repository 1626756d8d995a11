"""The registered reward models: self-consumption, no load peaks, combined (DESIGN §5.6).

Every quantity is an integer (Wh, mWh, token units, basis points) and every division is a floor in the
order written below, so an auditor reproduces each unit from the readings and the on-chain parameters.
``docs/rewards.md`` walks through each formula with numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lec.calendar import QUARTERS_PER_HOUR
from lec.energy import grid_exchange, to_hours
from oracle.rewards.integer import split_pro_rata

KINDS = ("self-consumption", "no-peaks", "combined")
PROFILES = ("consumer", "prosumer", "prostormer")
_BONUS_KEYS = tuple(f"bonus_{p}" for p in PROFILES)
_KEYS = {
    "self-consumption": ("a", "b", "c"),
    "no-peaks": ("rate", "par_ref_bps"),
    "combined": ("a", "b", "c", "rate", "par_ref_bps", "w_sc_bps", "w_peak_bps"),
}
BPS = 10_000
MILLI = 1_000


class RewardModelError(ValueError):
    """A model whose kind or parameters cannot be used."""


def canonical_json(params: dict[str, Any]) -> str:
    """Parameters as registered on chain: sorted keys, no spaces, integers only."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class RewardModel:
    name: str
    kind: str
    params: dict[str, int]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RewardModelError(f"Unknown model kind {self.kind!r}; choose one of {', '.join(KINDS)}.")
        allowed = {*_KEYS[self.kind], *_BONUS_KEYS, "max_per_period"}
        required = {*_KEYS[self.kind], "max_per_period"}
        missing = sorted(required - self.params.keys())
        unknown = sorted(self.params.keys() - allowed)
        if missing or unknown:
            raise RewardModelError(
                f"Model {self.name!r} ({self.kind}) is missing {missing or 'nothing'} and has unknown "
                f"parameters {unknown or 'none'}; expected {sorted(allowed)}."
            )
        for key, value in self.params.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise RewardModelError(f"Parameter {key} must be a non-negative integer, got {value!r}.")
        if self.kind in ("no-peaks", "combined") and self.params["par_ref_bps"] == 0:
            raise RewardModelError("par_ref_bps must be positive (the reference peak-to-average ratio × 10 000).")
        if self.kind == "combined" and self.params["w_sc_bps"] + self.params["w_peak_bps"] != BPS:
            raise RewardModelError("w_sc_bps and w_peak_bps must sum to 10 000 basis points.")

    @property
    def canonical_params(self) -> str:
        return canonical_json(self.params)

    @classmethod
    def from_chain(cls, name: str, kind: str, params: str) -> RewardModel:
        try:
            decoded = json.loads(params)
        except json.JSONDecodeError as exc:
            raise RewardModelError(f"The on-chain parameters of {name!r} are not JSON: {exc}.") from exc
        if canonical_json(decoded) != params:
            raise RewardModelError(f"The on-chain parameters of {name!r} are not in canonical JSON form.")
        return cls(name=name, kind=kind, params=decoded)


def validate_model(name: str, kind: str, params: str | Mapping[str, Any]) -> RewardModel:
    """The check every registration path runs before anything is sent: `lec oracle register-model`, the API's
    `POST /reward-models`, the dApp's reward-models page and `ape run admin model-register`. A model that
    `lec oracle run` would refuse is refused here first, with the same sentence on every path.

    ``params`` is the parameters' JSON text as typed, or the object already decoded."""
    if not name:
        raise RewardModelError("A reward model needs a name.")
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError as exc:
            raise RewardModelError(f"The parameters are not JSON ({exc.msg} at column {exc.colno}).") from exc
    if not isinstance(params, Mapping):
        raise RewardModelError('The parameters must be a JSON object of integers, e.g. {"a": 1000, ...}.')
    return RewardModel(name, kind, dict(params))


@dataclass(frozen=True)
class MemberEnergy:
    """One member's period in integer Wh per quarter hour (missing quarter hours count as 0)."""

    account: str
    profile: str
    load: np.ndarray  # L_i(t) >= 0
    production: np.ndarray  # P_i(t) >= 0
    injection: np.ndarray | None = None  # the exchange meter's readings, when the member has one
    withdrawal: np.ndarray | None = None
    active: bool = True


@dataclass(frozen=True)
class RewardResult:
    accounts: list[str]
    amounts: list[int]
    self_consumption_wh: list[int]
    shared_as_producer_mwh: list[int]
    shared_as_consumer_mwh: list[int]
    par_bps: list[int]
    bonus: list[int]
    uncapped: list[int]
    hourly_shared_wh: np.ndarray
    hourly_injection_wh: np.ndarray
    hourly_withdrawal_wh: np.ndarray
    capped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.amounts)


def exchange(member: MemberEnergy) -> tuple[np.ndarray, np.ndarray]:
    """Per-quarter-hour injection and withdrawal at the member's grid meter, integer Wh."""
    inj, wdr = grid_exchange(
        member.load.astype(np.int64), member.production.astype(np.int64), member.injection, member.withdrawal
    )
    return inj.astype(np.int64), wdr.astype(np.int64)


def _floor_share(shared: np.ndarray, part: np.ndarray, whole: np.ndarray) -> list[int]:
    """Σ_h ⌊1000 · S(h) · part_i(h) / whole(h)⌋ per member, hours with whole(h) = 0 giving 0."""
    safe = np.where(whole == 0, 1, whole)
    bound = int(shared.max(initial=0)) * int(part.max(initial=0)) * MILLI
    dtype: Any = np.int64 if bound < 2**62 else object
    num = MILLI * shared.astype(dtype)[None, :] * part.astype(dtype)
    shares = np.where(whole[None, :] == 0, 0, num // safe.astype(dtype)[None, :])
    return [int(x) for x in shares.sum(axis=1)]


def peak_to_average_bps(peak: int, energy: int, quarters: int) -> int:
    """``PAR = max_t L(t) / mean_t L(t)`` in basis points, floored; 0 for a member with no load."""
    return BPS * quarters * peak // energy if energy > 0 else 0


def model_reward(model: RewardModel, sc: int, sp: int, sw: int, energy: int, par: int) -> int:
    """A member's reward before bonus and cap, from its self-consumption ``sc`` (Wh), shared energy as
    producer ``sp`` and consumer ``sw`` (mWh), load ``energy`` (Wh) and peak-to-average ratio ``par`` (bps)."""
    p = model.params

    def self_consumption() -> int:
        return (p["a"] * MILLI * sc + p["b"] * sp + p["c"] * sw) // (MILLI * MILLI)

    def no_peaks() -> int:
        if energy == 0:
            return 0
        return p["rate"] * energy * max(0, p["par_ref_bps"] - par) // (MILLI * p["par_ref_bps"])

    if model.kind == "self-consumption":
        return self_consumption()
    if model.kind == "no-peaks":
        return no_peaks()
    return (p["w_sc_bps"] * self_consumption() + p["w_peak_bps"] * no_peaks()) // BPS


def energy_bonus(model: RewardModel, member: MemberEnergy, community_shared_wh: int) -> int:
    """Tokens by energy profile for an active member of a community that shared energy in the period."""
    if community_shared_wh <= 0 or not member.active:
        return 0
    return model.params.get(f"bonus_{member.profile}", 0)


def member_uncapped(
    model: RewardModel, member: MemberEnergy, shared: np.ndarray, injected: np.ndarray, withdrawn: np.ndarray
) -> int:
    """One member's reward before the budget cap, from its own readings and the community's hourly
    ``S(h)``, ``I(h)``, ``W(h)`` — what an auditor recomputes from a proof bundle."""
    if not member.active:
        return 0
    load = member.load.astype(np.int64)
    inj, wdr = exchange(member)
    sc = int(np.minimum(load, member.production.astype(np.int64)).sum())
    sp = _floor_share(shared, to_hours(inj[None, :]), injected)[0]
    sw = _floor_share(shared, to_hours(wdr[None, :]), withdrawn)[0]
    energy = int(load.sum())
    par = peak_to_average_bps(int(load.max(initial=0)), energy, load.size)
    return model_reward(model, sc, sp, sw, energy, par) + energy_bonus(model, member, int(shared.sum()))


def compute_rewards(model: RewardModel, members: Sequence[MemberEnergy]) -> RewardResult:
    """Every member's reward for the period under ``model``, in token units, summing to the total exactly."""
    if not members:
        raise RewardModelError("A reward computation needs at least one member.")
    sizes = {m.load.size for m in members} | {m.production.size for m in members}
    if len(sizes) != 1 or next(iter(sizes)) % QUARTERS_PER_HOUR:
        raise RewardModelError("Every member needs the same whole-hour grid of quarter hours for load and production.")
    if any((m.load < 0).any() or (m.production < 0).any() for m in members):
        raise RewardModelError("Load and production are magnitudes here and must be >= 0 Wh.")
    accounts = [m.account for m in members]
    load = np.stack([m.load.astype(np.int64) for m in members])
    prod = np.stack([m.production.astype(np.int64) for m in members])
    flows = [exchange(m) for m in members]
    inj_h = to_hours(np.stack([f[0] for f in flows]))
    wdr_h = to_hours(np.stack([f[1] for f in flows]))
    injected, withdrawn = inj_h.sum(axis=0), wdr_h.sum(axis=0)
    shared = np.minimum(injected, withdrawn)

    sc = [int(x) for x in np.minimum(load, prod).sum(axis=1)]
    sp = _floor_share(shared, inj_h, injected)
    sw = _floor_share(shared, wdr_h, withdrawn)
    energy = [int(x) for x in load.sum(axis=1)]
    peak = [int(x) for x in load.max(axis=1)]
    par = [peak_to_average_bps(pk, e, load.shape[1]) for pk, e in zip(peak, energy, strict=True)]
    base = [model_reward(model, sc[i], sp[i], sw[i], energy[i], par[i]) for i in range(len(members))]
    bonus = [energy_bonus(model, m, int(shared.sum())) for m in members]
    uncapped = [b + x if m.active else 0 for b, x, m in zip(base, bonus, members, strict=True)]
    cap = model.params["max_per_period"]
    capped = sum(uncapped) > cap
    amounts = split_pro_rata(cap, uncapped, accounts) if capped else list(uncapped)
    return RewardResult(
        accounts=accounts,
        amounts=amounts,
        self_consumption_wh=sc,
        shared_as_producer_mwh=sp,
        shared_as_consumer_mwh=sw,
        par_bps=par,
        bonus=bonus,
        uncapped=uncapped,
        hourly_shared_wh=shared,
        hourly_injection_wh=injected,
        hourly_withdrawal_wh=withdrawn,
        capped=capped,
    )
