"""`ape run seed`: the demo community "Demo LEC" whose members (anvil's funded accounts 1–8) hold their
welcome bonus, with a transfer fee, a funded treasury, an exchange rate and marketplace category policies.

Idempotent: a community already named "Demo LEC" is completed, not created twice. The demo deals' listings go
into the oracle's database (DATABASE_URL, else SQLite under LEC_DATA_DIR), once per deal.
"""

from __future__ import annotations

from typing import Any

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand

from scripts._lec.chain import community_entries, deployer, require_deployments, save_deployments, tx_kwargs
from scripts._lec.seed_market import ensure_marketplace, seed_market_demo, write_demo_listings
from scripts._lec.values import UNIT

DEMO_NAME = "Demo LEC"
DEMO_SYMBOL = "DLEC"

CITIZEN, STAKEHOLDER = 1, 2
CONSUMER, PROSUMER, PROSTORMER = 0, 1, 2

# (test account index, kind, profile, who it stands for)
DEMO_MEMBERS = [
    (1, CITIZEN, PROSUMER, "household with PV"),
    (2, CITIZEN, CONSUMER, "household"),
    (3, CITIZEN, PROSTORMER, "household with PV and battery"),
    (4, CITIZEN, CONSUMER, "household"),
    (5, CITIZEN, PROSUMER, "household with PV"),
    (6, STAKEHOLDER, CONSUMER, "grocery shop"),
    (7, STAKEHOLDER, PROSUMER, "school with PV"),
    (8, STAKEHOLDER, PROSUMER, "energy manager / new-goods retailer"),
]

# Token policy of the demo: 1 % on member transfers, welcome bonus 5 h (citizen) / 20 h (stakeholder),
# 1 token = 10 € for stakeholder purchases (10**15 units per cent), and up to 2 h a month of marketplace incentives
# above the deals' own fees per member (the energy manager's bonus of category 2 has no fee to return).
DEMO_POLICY = {
    "fee_bps": 100,
    "welcome_bonus": {CITIZEN: 5 * UNIT, STAKEHOLDER: 20 * UNIT},
    "units_per_cent": UNIT // 1000,
    "incentive_budget": 2 * UNIT,
    "treasury": 10_000 * UNIT,
}

# Marketplace categories (report §5.3.2): (fee bps, incentive bps, venue bps).
DEMO_CATEGORIES = {
    0: (100, 0, 0),  # citizen <-> citizen
    1: (100, 0, 1000),  # citizen <-> citizen with a venue
    2: (0, 500, 0),  # stakeholder -> citizen (cashback, energy manager's bonus)
    3: (200, 0, 0),  # stakeholder <-> stakeholder
    4: (100, 0, 0),  # citizen -> stakeholder
    5: (0, 1000, 0),  # citizen -> community (community tasks)
    6: (0, 500, 0),  # stakeholder -> community
    7: (0, 1000, 1000),  # citizen -> community with a venue
}


def find_community(registry, name: str) -> int | None:
    for community_id in range(1, registry.communityCount() + 1):
        if registry.community(community_id).name == name:
            return community_id
    return None


def seed_demo(admin=None) -> dict[str, Any]:
    """Creates (or completes) the demo community and returns the updated deployments data."""
    data = require_deployments()
    admin = admin or deployer()
    kw = tx_kwargs()
    registry = project.Registry.at(data["contracts"]["Registry"])
    community_id = find_community(registry, DEMO_NAME)
    if community_id is None:
        registry.createCommunity(DEMO_NAME, DEMO_SYMBOL, admin, sender=admin, **kw)
        community_id = registry.communityCount()
    token = project.CommunityToken.at(registry.tokenOf(community_id))

    # Policy first, so that members receive the welcome bonus when they join.
    if token.feeBps() != DEMO_POLICY["fee_bps"]:
        token.setTransferFee(DEMO_POLICY["fee_bps"], sender=admin, **kw)
    for kind, amount in DEMO_POLICY["welcome_bonus"].items():
        if token.welcomeBonus(kind) != amount:
            token.setWelcomeBonus(kind, amount, sender=admin, **kw)
    if token.exchangeRate() != DEMO_POLICY["units_per_cent"]:
        token.setExchangeRate(DEMO_POLICY["units_per_cent"], sender=admin, **kw)
    if token.incentiveBudget() != DEMO_POLICY["incentive_budget"]:
        token.setIncentiveBudget(DEMO_POLICY["incentive_budget"], sender=admin, **kw)
    for category, (fee, incentive, venue) in DEMO_CATEGORIES.items():
        policy = token.categoryPolicy(category)
        if (policy.feeBps, policy.incentiveBps, policy.venueBps, policy.enabled) != (fee, incentive, venue, True):
            token.setCategoryPolicy(category, fee, incentive, venue, True, sender=admin, **kw)
    if token.treasuryBalance() == 0:
        token.fundTreasury(DEMO_POLICY["treasury"], "demo: initial issuance", sender=admin, **kw)

    for index, kind, profile, _who in DEMO_MEMBERS:
        account = accounts.test_accounts[index]
        record = token.member(account)
        if not record.active and not record.retired:
            token.addMember(account, kind, profile, sender=admin, **kw)

    market = ensure_marketplace(registry, community_id, token, admin, kw)
    seed_market_demo(market, token, admin, kw)
    # The deals' texts live off chain: the API's listings and the dApp read them from the oracle's database.
    write_demo_listings(market, community_id, DEMO_NAME, admin)

    data["communities"] = community_entries(registry)
    save_deployments(data)
    return data


@click.command(cls=ConnectedProviderCommand)
def cli() -> None:
    """Create the demo community and give its members their welcome bonus."""
    data = seed_demo()
    community = next(c for c in data["communities"] if c["name"] == DEMO_NAME)
    token = project.CommunityToken.at(community["token"])
    click.echo(f"\nLEC platform on chain {data['chainId']}")
    for name, address in data["contracts"].items():
        click.echo(f"  {name:<13}{address}")
    click.echo(f"\nCommunity {community['id']} '{community['name']}'  token {community['token']} ({token.symbol()})")
    fee_pct = token.feeBps() / 100
    click.echo(f"  treasury balance {token.treasuryBalance() / UNIT:,.2f} h   transfer fee {fee_pct:.2f} %")
    for index, kind, _profile, who in DEMO_MEMBERS:
        account = accounts.test_accounts[index]
        label = "citizen" if kind == CITIZEN else "stakeholder"
        click.echo(f"  member {account.address}  {label:<11} {who:<38} {token.balanceOf(account) / UNIT:,.2f} h")
