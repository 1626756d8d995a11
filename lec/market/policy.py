"""The report's eight flow categories (§5.3.2) and the Marketplace contract's settlement arithmetic, in pure
Python: the API previews a deal with it and the tests check every balance against it to the unit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

BPS = 10_000
MAX_CASHBACK_BPS = 4_000


class Kind(IntEnum):
    """Member kinds as CommunityToken numbers them; `TREASURY` stands for the community itself."""

    TREASURY = 0
    CITIZEN = 1
    STAKEHOLDER = 2


class Profile(IntEnum):
    CONSUMER = 0
    PROSUMER = 1
    PROSTORMER = 2


class Side(IntEnum):
    OFFER = 0
    REQUEST = 1
    TASK = 2


class DealState(IntEnum):
    NONE = 0
    OPEN = 1
    ACCEPTED = 2
    COMPLETED = 3
    DISPUTED = 4
    SETTLED = 5
    CANCELLED = 6
    RESOLVED = 7


@dataclass(frozen=True)
class Category:
    """One flow category: who provides, who pays, whether a venue takes a share."""

    number: int  # 0 … 7 on chain; the report numbers them 1 … 8
    slug: str
    title: str
    provider: Kind
    payer: Kind
    venue: bool

    @property
    def is_task(self) -> bool:
        """Community tasks are paid by the treasury and confirmed by the community admin."""
        return self.payer is Kind.TREASURY


CATEGORIES: tuple[Category, ...] = (
    Category(0, "citizen-citizen", "Citizen to citizen", Kind.CITIZEN, Kind.CITIZEN, False),
    Category(1, "citizen-citizen-venue", "Citizen to citizen with a venue", Kind.CITIZEN, Kind.CITIZEN, True),
    Category(2, "stakeholder-citizen", "Stakeholder to citizen", Kind.STAKEHOLDER, Kind.CITIZEN, False),
    Category(3, "stakeholder-stakeholder", "Stakeholder to stakeholder", Kind.STAKEHOLDER, Kind.STAKEHOLDER, False),
    Category(4, "citizen-stakeholder", "Citizen to stakeholder", Kind.CITIZEN, Kind.STAKEHOLDER, False),
    Category(5, "citizen-community", "Citizen to community", Kind.CITIZEN, Kind.TREASURY, False),
    Category(6, "stakeholder-community", "Stakeholder to community", Kind.STAKEHOLDER, Kind.TREASURY, False),
    Category(7, "citizen-community-venue", "Citizen to community with a venue", Kind.CITIZEN, Kind.TREASURY, True),
)
STAKEHOLDER_TO_CITIZEN = 2


def category(value: int | str) -> Category:
    """The category numbered `value` (0 … 7) or named by its slug."""
    for c in CATEGORIES:
        if value in (c.number, c.slug):
            return c
    names = ", ".join(f"{c.number} {c.slug}" for c in CATEGORIES)
    raise ValueError(f"{value!r} is not a marketplace category; use one of: {names}.")


@dataclass(frozen=True)
class Policy:
    """A category's policy as CommunityToken stores it, in basis points of the price."""

    fee_bps: int = 0
    incentive_bps: int = 0
    venue_bps: int = 0
    enabled: bool = True


@dataclass(frozen=True)
class Split:
    """Where a settled amount goes, in token units, exactly as the contract computes it."""

    to_provider: int
    fee: int
    venue_share: int
    cashback: int
    incentive: int  # the category's incentive, before `incentive_paid`'s caps (fee + budget, treasury)

    @property
    def paid_out(self) -> int:
        """What leaves the escrow (the incentive comes from the treasury, not the escrow)."""
        return self.to_provider + self.fee + self.venue_share + self.cashback


def split(
    amount: int,
    policy: Policy,
    *,
    category_number: int,
    with_venue: bool,
    cashback_bps: int = 0,
    profile_weight_bps: int = BPS,
    with_incentive: bool = True,
) -> Split:
    """The contract's `_split` and `_incentiveOf`: floor divisions in the same order, so every unit matches.

    `profile_weight_bps` is the marketplace's weight for the citizen's energy profile, which scales the incentive
    of stakeholder→citizen deals only.
    """
    fee = amount * policy.fee_bps // BPS
    venue_share = amount * policy.venue_bps // BPS if with_venue else 0
    cashback = amount * cashback_bps // BPS
    if not with_incentive:
        incentive = 0
    elif category_number == STAKEHOLDER_TO_CITIZEN:
        incentive = amount * policy.incentive_bps * profile_weight_bps // (BPS * BPS)
    else:
        incentive = amount * policy.incentive_bps // BPS
    return Split(amount - fee - venue_share - cashback, fee, venue_share, cashback, incentive)


def incentive_paid(incentive: int, fee: int, *, category_number: int, budget_left: int, treasury: int) -> int:
    """What the treasury pays of a settlement's `incentive` (Marketplace `_payOut` with CommunityToken
    `payIncentive`): in a members' deal (categories 0–4) up to the deal's own `fee` freely and above it only within
    the recipient's `budget_left` for the epoch, so a closed cycle of deals never takes more than its members'
    budgets; a community task's incentive has no budget. All of it only while `treasury` (its balance once the
    deal's fee arrived) can pay."""
    wanted = incentive if CATEGORIES[category_number].is_task else min(incentive, fee + budget_left)
    return min(wanted, treasury)


def budget_spent(paid: int, incentive: int, fee: int, *, category_number: int) -> int:
    """The part of a paid incentive that used the recipient's budget (the part above the deal's fee)."""
    return 0 if CATEGORIES[category_number].is_task else max(paid - min(incentive, fee), 0)


def resolution(escrow: int, provider_bps: int) -> tuple[int, int]:
    """A dispute resolved with `provider_bps`: (amount settled to the provider's side, amount refunded)."""
    if not 0 <= provider_bps <= BPS:
        raise ValueError(f"The provider's share must be between 0 and {BPS} basis points, not {provider_bps}.")
    to_provider = escrow * provider_bps // BPS
    return to_provider, escrow - to_provider
