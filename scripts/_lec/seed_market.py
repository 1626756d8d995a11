"""The demo community's marketplace: deployed, registered with the Registry, and seeded with a few offers,
requests, community tasks and settled deals, one or more in each of the report's eight categories.

Idempotent: the marketplace is deployed once, and deals are seeded only while it has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click
from ape import accounts, project
from sqlalchemy.exc import SQLAlchemyError

from lec.market.hashing import description_hash
from scripts._lec.demo_listings import DealOnChain, database, demo_listings, store_demo_listings
from scripts._lec.values import ZERO, to_units


@dataclass(frozen=True)
class DemoDeal:
    """One demo deal: who creates it (test account index, 0 = the community admin for tasks), who takes it, how far
    it goes (open | accepted | completed | settled).

    Accounts 1 and 6 stay out of the demo deals: they keep exactly their welcome bonus, which the seed's own test
    checks."""

    category: int
    side: str  # offer | request | task
    creator: int
    taker: int | None
    venue: int | None
    hours: str
    title: str
    description: str
    outcome: str
    cashback_bps: int = 0


DEMO_DEALS = [
    DemoDeal(0, "offer", 2, 3, None, "2", "Math tutoring", "Two hours of secondary-school maths.", "settled"),
    DemoDeal(0, "request", 4, None, None, "0.5", "Drill for a weekend", "I need a drill on Saturday.", "open"),
    DemoDeal(1, "offer", 3, 5, 7, "3", "Italian lessons", "Beginners' Italian in the school hall.", "settled"),
    DemoDeal(2, "offer", 8, 5, None, "1.5", "LED bulbs (new)", "A pack of six LED bulbs, 5 % back.", "settled", 500),
    DemoDeal(2, "offer", 8, None, None, "1", "Home energy check", "The energy manager reviews your bills.", "open"),
    DemoDeal(3, "request", 7, None, None, "4", "Cleaning of the school hall", "After the Saturday event.", "open"),
    DemoDeal(4, "offer", 2, 8, None, "2", "Fridge repair", "Repair of the shop's display fridge.", "accepted"),
    DemoDeal(5, "task", 0, 4, None, "3", "Flower bed upkeep", "Weed and water the square's flower bed.", "settled"),
    DemoDeal(6, "task", 0, None, None, "5", "Recycling point", "Host the battery recycling point for a month.", "open"),
    DemoDeal(
        7, "task", 0, None, 7, "2", "Energy-saving evening", "A talk on saving energy, in the school hall.", "open"
    ),
]


def ensure_marketplace(registry, community_id: int, token, admin, kw: dict[str, Any]):
    """The community's marketplace, deployed and registered with the Registry when it has none: the platform admin
    proposes it and the community's governor accepts it (both `admin` in the demo)."""
    current = registry.community(community_id).marketplace
    if int(current, 16) != 0:
        return project.Marketplace.at(current)
    market = project.Marketplace.deploy(token.address, sender=admin, **kw)
    registry.setMarketplace(community_id, market.address, sender=admin, **kw)
    registry.acceptMarketplace(community_id, market.address, sender=admin, **kw)
    return market


def seed_market_demo(market, token, admin, kw: dict[str, Any]) -> list[dict[str, Any]]:
    """Creates the demo deals on an empty marketplace; returns them with their ids (empty when already seeded)."""
    if market.dealCount() != 0:
        return []
    members = {i: accounts.test_accounts[i] for i in range(1, 9)}
    for account in members.values():
        if token.allowance(account, market) == 0:
            token.approve(market.address, 2**256 - 1, sender=account, **kw)
    seeded = []
    for deal in DEMO_DEALS:
        creator = admin if deal.side == "task" else members[deal.creator]
        venue = members[deal.venue].address if deal.venue else ZERO
        args = (deal.category, to_units(deal.hours), description_hash(deal.title, deal.description), ZERO, venue)
        if deal.side == "offer":
            market.offer(*args, deal.cashback_bps, sender=creator, **kw)
        elif deal.side == "request":
            market.request(*args, sender=creator, **kw)
        else:
            market.publishTask(*args, sender=creator, **kw)
        deal_id = market.dealCount()
        if deal.outcome != "open":
            taker = members[deal.taker]
            market.accept(deal_id, sender=taker, **kw)
            provider, payer = (creator, taker) if deal.side == "offer" else (taker, creator)
            if deal.outcome in ("completed", "settled"):
                market.complete(deal_id, sender=provider, **kw)
            if deal.outcome == "settled":
                # The community admin confirms a task: it is the one who published it.
                market.confirm(deal_id, sender=payer, **kw)
        seeded.append({"id": deal_id, **deal.__dict__})
    return seeded


def write_demo_listings(market, community_id: int, name: str, admin) -> int:
    """The demo deals' listings in the oracle's database (DATABASE_URL, else SQLite under LEC_DATA_DIR), matched
    to the marketplace's deals by description hash; returns how many were added (0 when already there)."""
    deals = [
        DealOnChain(i, "0x" + bytes(market.deal(i).descriptionHash).hex()) for i in range(1, market.dealCount() + 1)
    ]
    owners = {i: accounts.test_accounts[i].address for i in range(1, 9)}
    rows = demo_listings(community_id, deals, DEMO_DEALS, owners, admin.address)
    try:
        return store_demo_listings(database(), community_id, name, rows)
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"The chain is seeded, but the demo listings could not be written to the database ({exc}). "
            "Fix it, or point DATABASE_URL / LEC_DATA_DIR elsewhere, and run the seed again."
        ) from exc
