"""The GSE incentive of a community and its split (riparto), exact — DM 414/2023 "CACER" and ARERA's TIAD.

Pure functions on integers: energy in Wh, prices in euro cents per MWh, money in euro cents. docs/incentive.md
gives each rule with its source; in short:

- **Configurations** (TIAD art. 1, DM 414/2023 art. 2): members under the same primary substation share energy
  with one another and with no one else. Per configuration and hour ``S_c(h) = min(Σ inj_i(h), Σ wdr_i(h))``
  over its members, each member's quarter-hour exchange summed to the hour (lec.energy).
- **Cap at the plants' production** (TIAD art. 1, DM 414/2023 art. 2: only energy of the configuration's
  renewable plants is shared): ``S_c(h)`` is also at most what the configuration's plants produced that hour
  (their production meters; a plant's member without one: its grid injection). A configuration without plants
  shares nothing.
- **Existing plants at most 30 %** (D.Lgs. 199/2021 art. 31 c. 2 lett. d)): plants in service before the
  community (``new_plant`` false) may total at most 30 % of the community's plant power; above that the
  incentive is refused with a sentence saying by how much.
- **Allocation to plants** (GSE Regole Operative): the shared energy of a configuration goes to its plants by
  seniority (oldest commissioning first, each up to what it injected that hour) or pro rata to their injection.
  A plant's injection is its member's, split among that member's plants in proportion to their power.
- **TIP** (DM 414/2023 Allegato 1): per plant and hour, by power class ``min(cap, base + max(0, 180 − PZO_h))``
  (≤ 200 kW: 80/120; ≤ 600 kW: 70/110; above: 60/100 €/MWh), plus for PV +4 €/MWh (centre) or +10 €/MWh
  (north); only new plants; a PNRR capital grant ``g`` (at most 40 %) multiplies it by ``1 − 0.5·g/40 %``.
- **Valorisation** (TIAD art. 8): all shared energy at ARERA's unit amount, reported apart from the TIP.
- **Threshold** (Allegato 1 §1.2): the TIP on shared energy above 55 % (45 % where a plant has a PNRR grant)
  of the configuration's injected energy goes only to consumers who are not businesses (citizen members) or to
  social purposes; it is split among citizen members pro rata to their shared energy as consumers, and kept as
  the social fund when there are none.
- **Split among members** by the statute's key, in integer cents, largest remainder, ties by ascending address.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from oracle.rewards.integer import split_pro_rata

KEYS = ("pro_rata", "equal", "producers_consumers")
ALLOCATIONS = ("seniority", "pro_rata")
REGIONS = ("north", "centre", "south")
SOURCES = ("pv", "wind", "hydro", "biomass", "biogas", "geothermal", "other")
# (upper bound in W, fixed part, cap) in cents/MWh — DM 414/2023 Allegato 1, table 1.
POWER_CLASSES = ((200_000, 8_000, 12_000), (600_000, 7_000, 11_000), (None, 6_000, 10_000))
REFERENCE_PRICE_CENTS = 18_000  # the 180 €/MWh of max(0, 180 − PZO)
PV_CORRECTION_CENTS = {"north": 1_000, "centre": 400, "south": 0}
GRANT_MAX_BPS = 4_000  # a PNRR grant covers at most 40 % of the costs (DM 414/2023 art. 7)
THRESHOLD_BPS = 5_500  # 55 %: the TIP alone
THRESHOLD_GRANT_BPS = 4_500  # 45 %: the TIP together with a PNRR capital grant
EXISTING_MAX_PCT = 30  # plants existing before the community: at most 30 % of its power (D.Lgs. 199/2021 art. 31)
MICRO = 1_000_000  # Wh × cents/MWh = 10⁻⁶ cents
FACTOR_DEN = 2 * GRANT_MAX_BPS  # 1 − 0.5·g/40 % = (8 000 − g_bps) / 8 000


class IncentiveError(ValueError):
    """Inputs the incentive cannot be computed from; the message says what to fix."""


@dataclass(frozen=True)
class Plant:
    id: str
    account: str
    source: str
    power_w: int
    commissioned: date
    substation: str
    new_plant: bool = True
    pnrr_grant_bps: int = 0  # the capital grant as a share of costs, basis points (4 000 = 40 %)


@dataclass(frozen=True)
class Member:
    """A member's hourly exchange at its grid point (Wh ≥ 0), and its primary substation; ``production``: what
    its plants produced per hour (its production meters), ``None`` when it has none (its injection stands for
    its plants' output)."""

    account: str
    kind: str  # citizen | stakeholder
    substation: str
    injection: np.ndarray
    withdrawal: np.ndarray
    production: np.ndarray | None = None


@dataclass(frozen=True)
class Params:
    region: str = "centre"
    valorisation_cents_mwh: int = 1_057
    allocation: str = "seniority"
    key: str = "pro_rata"
    producers_pct: int = 50


@dataclass
class PlantResult:
    id: str
    account: str
    substation: str
    shared_wh: int = 0
    tip_cents: int = 0
    tip_micro: int = 0  # exact TIP in 10⁻⁶ cents, before rounding to cents


@dataclass
class ConfigurationResult:
    substation: str
    shared_wh: int
    injected_wh: int
    withdrawn_wh: int
    produced_wh: int  # what its plants produced (the cap of the shared energy)
    capped_wh: int  # shared energy the cap removed: min(injected, withdrawn) − shared, summed over hours
    threshold_bps: int
    above_threshold_wh: int
    tip_cents: int = 0
    social_cents: int = 0
    valorisation_cents: int = 0


@dataclass
class MemberResult:
    account: str
    substation: str
    shared_as_producer_mwh: int
    shared_as_consumer_mwh: int
    cents: int = 0
    social_cents: int = 0


@dataclass
class IncentiveResult:
    hourly_shared_wh: list[int]
    tip_cents: int
    valorisation_cents: int
    social_cents: int  # the TIP above the threshold, reserved to non-business consumers / social purposes
    social_fund_cents: int  # the part of it no citizen member could receive: kept for social purposes
    undistributed_cents: int  # what the key could not give anyone (no member with a weight under it)
    configurations: list[ConfigurationResult]
    plants: list[PlantResult]
    members: list[MemberResult]
    key: str
    allocation: str
    approximations: list[str] = field(default_factory=list)
    approximation_codes: list[dict[str, str]] = field(default_factory=list)  # the same, as codes and values
    hour_starts: list[int] = field(default_factory=list)  # Unix seconds of each hour, set by the service

    @property
    def shared_wh(self) -> int:
        return sum(self.hourly_shared_wh)

    @property
    def total_cents(self) -> int:
        return self.tip_cents + self.valorisation_cents


def tip_rate_cents(power_w: int, pzo_cents: int) -> int:
    """The TIP's variable premium for one hour: ``min(cap, base + max(0, 180 − PZO))`` by power class."""
    for bound, base, cap in POWER_CLASSES:
        if bound is None or power_w <= bound:
            return min(cap, base + max(0, REFERENCE_PRICE_CENTS - pzo_cents))
    raise AssertionError("the last power class has no bound")


def plant_rates(plant: Plant, region: str, pzo_cents: np.ndarray) -> np.ndarray:
    """The plant's TIP per hour in cents/MWh, the PNRR factor not yet applied (see :func:`tip_micro`)."""
    if not plant.new_plant:
        return np.zeros(len(pzo_cents), dtype=np.int64)
    correction = PV_CORRECTION_CENTS[region] if plant.source == "pv" else 0
    return np.array([tip_rate_cents(plant.power_w, int(p)) + correction for p in pzo_cents], dtype=np.int64)


def largest_remainder(total: int, weights: Sequence[int], keys: Sequence[str]) -> list[int]:
    """``total`` split in proportion to ``weights``, floors first, the units left to the largest remainders,
    ties by ascending key (plant ids, substations); all weights zero gives zeros."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), keys[i]))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _plant_injection(plants: Sequence[Plant], members: dict[str, Member], hours: int) -> dict[str, np.ndarray]:
    """Each plant's hourly injection: its member's (at most what the member's plants produced), split among the
    member's plants by power (largest remainder per hour, ties by plant id)."""
    by_account: dict[str, list[Plant]] = defaultdict(list)
    for plant in plants:
        by_account[plant.account].append(plant)
    out: dict[str, np.ndarray] = {}
    for account, own in by_account.items():
        own = sorted(own, key=lambda p: p.id)
        member = members[account]
        # What a plant injects is at most what it produced: a battery's discharge of grid energy is not the plant's.
        injection = member.injection if member.production is None else np.minimum(member.injection, member.production)
        series = np.zeros((len(own), hours), dtype=np.int64)
        for h in range(hours):
            series[:, h] = largest_remainder(int(injection[h]), [p.power_w for p in own], [p.id for p in own])
        for plant, row in zip(own, series, strict=True):
            out[plant.id] = row
    return out


def existing_share_fault(plants: Sequence[Plant]) -> tuple[int, int] | None:
    """``(existing_w, total_w)`` when the plants existing before the community exceed 30 % of its plant power
    (D.Lgs. 199/2021 art. 31 c. 2 lett. d)), else ``None``."""
    total = sum(p.power_w for p in plants)
    existing = sum(p.power_w for p in plants if not p.new_plant)
    return (existing, total) if 100 * existing > EXISTING_MAX_PCT * total else None


def _plant_production(plants: Sequence[Plant], members: dict[str, Member], hours: int) -> np.ndarray:
    """Per hour, what the given plants (one configuration's) produced: their members' production meters, or a
    member's grid injection where it has none."""
    out = np.zeros(hours, dtype=np.int64)
    for account in sorted({p.account for p in plants}):
        member = members[account]
        source = member.injection if member.production is None else member.production
        out += np.asarray(source, dtype=np.int64)
    return out


def _allocate(shared: int, injections: list[int], plants: list[Plant], allocation: str) -> list[int]:
    """One hour of a configuration's shared energy given to its plants (already in seniority order)."""
    if allocation == "seniority":
        out, left = [], shared
        for inj in injections:
            take = min(left, inj)
            out.append(take)
            left -= take
        return out
    return largest_remainder(min(shared, sum(injections)), injections, [p.id for p in plants])


def _shares(shared: np.ndarray, part: np.ndarray, whole: np.ndarray) -> int:
    """``Σ_h ⌊1000 · S(h) · part(h) / whole(h)⌋`` in mWh (hours with nothing exchanged give 0)."""
    total = 0
    for s, p, w in zip(shared.tolist(), part.tolist(), whole.tolist(), strict=True):
        if w:
            total += 1000 * s * p // w
    return total


def _validate(members: Sequence[Member], plants: Sequence[Plant], params: Params, hours: int) -> dict[str, Member]:
    if params.key not in KEYS:
        raise IncentiveError(f"Unknown split key {params.key!r}: choose one of {', '.join(KEYS)}.")
    if params.allocation not in ALLOCATIONS:
        raise IncentiveError(f"Unknown allocation {params.allocation!r}: choose one of {', '.join(ALLOCATIONS)}.")
    if params.region not in REGIONS:
        raise IncentiveError(f"Unknown region {params.region!r}: choose one of {', '.join(REGIONS)}.")
    if not 0 <= params.producers_pct <= 100:
        raise IncentiveError("The producers' percentage is between 0 and 100.")
    by_account = {m.account: m for m in members}
    if len(by_account) != len(members):
        raise IncentiveError("A member appears twice in the incentive's inputs.")
    for m in members:
        if (
            len(m.injection) != hours
            or len(m.withdrawal) != hours
            or (m.production is not None and len(m.production) != hours)
        ):
            raise IncentiveError(f"Member {m.account} has not one value per hour of the period.")
    ids = [p.id for p in plants]
    if len(set(ids)) != len(ids):
        raise IncentiveError("Two plants have the same id.")
    for p in plants:
        if p.account not in by_account:
            raise IncentiveError(f"Plant {p.id} belongs to {p.account}, who is not a member of the community.")
        if by_account[p.account].substation != p.substation:
            raise IncentiveError(
                f"Plant {p.id} is under substation {p.substation} but its member {p.account} is under "
                f"{by_account[p.account].substation}: a plant shares energy where its member's grid point is."
            )
        if not 0 <= p.pnrr_grant_bps <= GRANT_MAX_BPS:
            raise IncentiveError(f"Plant {p.id}: a PNRR grant covers between 0 and 40 % of the costs.")
        if p.power_w <= 0:
            raise IncentiveError(f"Plant {p.id}: its power must be above 0 kW.")
    return by_account


def check_existing_share(plants: Sequence[Plant]) -> None:
    """Refuse plants whose existing ones exceed 30 % of the power (all the community's plants must be given)."""
    fault = existing_share_fault(plants)
    if fault is not None:
        existing, total = fault
        raise IncentiveError(
            f"Plants in service before the community total {existing / 1000:g} kW, "
            f"{100 * existing / total:.1f} % of the community's {total / 1000:g} kW: at most {EXISTING_MAX_PCT} % "
            "may be existing plants (D.Lgs. 199/2021 art. 31). Remove existing plants from the manifest or add "
            "new ones, and import it again."
        )


def compute_incentive(
    members: Sequence[Member],
    plants: Sequence[Plant],
    pzo_cents: Sequence[int],
    params: Params | None = None,
    community_plants: Sequence[Plant] | None = None,
) -> IncentiveResult:
    """The period's incentive, per configuration, plant and member (``pzo_cents``: the zonal price per hour).

    ``community_plants``: every plant of the community, for the 30 % ceiling of existing plants, when ``plants``
    (those of the members in the period) may be fewer; by default ``plants`` themselves."""
    params = params or Params()
    prices = np.asarray(pzo_cents, dtype=np.int64)
    hours = len(prices)
    by_account = _validate(members, plants, params, hours)
    check_existing_share(plants if community_plants is None else community_plants)
    plant_inj = _plant_injection(plants, by_account, hours)
    plant_results = {p.id: PlantResult(p.id, p.account, p.substation) for p in plants}
    hourly_total = np.zeros(hours, dtype=np.int64)
    configurations: list[ConfigurationResult] = []
    member_sp: dict[str, int] = {}
    member_sw: dict[str, int] = {}
    config_micro: dict[str, int] = {}

    for substation in sorted({m.substation for m in members}):
        group = [m for m in members if m.substation == substation]
        inj = np.sum([m.injection for m in group], axis=0).astype(np.int64)
        wdr = np.sum([m.withdrawal for m in group], axis=0).astype(np.int64)
        own = sorted((p for p in plants if p.substation == substation), key=lambda p: (p.commissioned, p.id))
        produced = _plant_production(own, by_account, hours)
        uncapped = np.minimum(inj, wdr)
        shared = np.minimum(uncapped, produced)
        hourly_total += shared
        for m in group:
            member_sp[m.account] = _shares(shared, np.asarray(m.injection, dtype=np.int64), inj)
            member_sw[m.account] = _shares(shared, np.asarray(m.withdrawal, dtype=np.int64), wdr)
        rates = {p.id: plant_rates(p, params.region, prices) for p in own}
        for h in range(hours):
            given = _allocate(int(shared[h]), [int(plant_inj[p.id][h]) for p in own], own, params.allocation)
            for plant, wh in zip(own, given, strict=True):
                plant_results[plant.id].shared_wh += wh
                plant_results[plant.id].tip_micro += wh * int(rates[plant.id][h]) * (FACTOR_DEN - plant.pnrr_grant_bps)
        config_micro[substation] = sum(plant_results[p.id].tip_micro for p in own)
        threshold = THRESHOLD_GRANT_BPS if any(p.pnrr_grant_bps for p in own) else THRESHOLD_BPS
        total_shared, total_inj = int(shared.sum()), int(inj.sum())
        configurations.append(
            ConfigurationResult(
                substation=substation,
                shared_wh=total_shared,
                injected_wh=total_inj,
                withdrawn_wh=int(wdr.sum()),
                produced_wh=int(produced.sum()),
                capped_wh=int((uncapped - shared).sum()),
                threshold_bps=threshold,
                above_threshold_wh=max(0, total_shared - total_inj * threshold // 10_000),
            )
        )

    # Money: the exact sums first, rounded down to cents once; then shared out by largest remainder, so every
    # part sums to its whole.
    ordered_plants = sorted(plant_results.values(), key=lambda p: p.id)
    tip_cents = sum(p.tip_micro for p in ordered_plants) // (MICRO * FACTOR_DEN)
    for plant_result, plant_cents in zip(
        ordered_plants,
        largest_remainder(tip_cents, [p.tip_micro for p in ordered_plants], [p.id for p in ordered_plants]),
        strict=True,
    ):
        plant_result.tip_cents = plant_cents
    shared_wh = int(hourly_total.sum())
    valorisation = shared_wh * params.valorisation_cents_mwh // MICRO
    subs = [c.substation for c in configurations]
    for config, config_cents in zip(
        configurations, largest_remainder(valorisation, [c.shared_wh for c in configurations], subs), strict=True
    ):
        config.valorisation_cents = config_cents
        config.tip_cents = sum(p.tip_cents for p in ordered_plants if p.substation == config.substation)
        if config.shared_wh:
            config.social_cents = config.tip_cents * config.above_threshold_wh // config.shared_wh

    accounts = [m.account for m in members]
    sp = [member_sp[a] for a in accounts]
    sw = [member_sw[a] for a in accounts]
    social = sum(c.social_cents for c in configurations)
    pot = tip_cents - social + valorisation
    if params.key == "pro_rata":
        cents = split_pro_rata(pot, [a + b for a, b in zip(sp, sw, strict=True)], accounts)
    elif params.key == "equal":
        cents = split_pro_rata(pot, [1] * len(accounts), accounts)
    else:
        to_producers = pot * params.producers_pct // 100
        to_p = split_pro_rata(to_producers, sp, accounts)
        to_c = split_pro_rata(pot - to_producers, sw, accounts)
        cents = [a + b for a, b in zip(to_p, to_c, strict=True)]
    citizens = [sw[i] if m.kind == "citizen" else 0 for i, m in enumerate(members)]
    social_parts = split_pro_rata(social, citizens, accounts)
    social_fund = social - sum(social_parts)
    undistributed = pot - sum(cents)
    member_results = sorted(
        (
            MemberResult(m.account, m.substation, sp[i], sw[i], cents[i] + social_parts[i], social_parts[i])
            for i, m in enumerate(members)
        ),
        key=lambda r: int(r.account, 16),
    )
    return IncentiveResult(
        hourly_shared_wh=[int(x) for x in hourly_total],
        tip_cents=tip_cents,
        valorisation_cents=valorisation,
        social_cents=social,
        social_fund_cents=social_fund,
        undistributed_cents=undistributed,
        configurations=configurations,
        plants=ordered_plants,
        members=member_results,
        key=params.key,
        allocation=params.allocation,
    )
