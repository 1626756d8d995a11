"""Fixtures of the marketplace tests: the community's marketplace registered with the Registry, a second
stakeholder, category policies with every share non-zero, and factories for each way a deal starts."""

from __future__ import annotations

import pytest
from contract_helpers import PROSUMER, STAKEHOLDER
from market_helpers import BUDGET, DESCRIPTION, POLICIES, PRICE


@pytest.fixture(scope="session")
def association(accounts):
    """A second stakeholder (an association that also hosts events)."""
    return accounts[9]


@pytest.fixture(scope="session")
def market(
    project, register_marketplace, community_id, token, platform_admin, token_admin, community_admin, association
):
    token.addMember(association, STAKEHOLDER, PROSUMER, sender=community_admin)
    for category, (fee, incentive, venue) in POLICIES.items():
        token.setCategoryPolicy(category, fee, incentive, venue, True, sender=token_admin)
    # Incentives above a deal's fee come out of a member's budget: a generous one, so that the lifecycle tests
    # see the category's full incentive (tests/contracts/unit/marketplace/test_incentive_budget.py tightens it).
    token.setIncentiveBudget(BUDGET, sender=token_admin)
    return register_marketplace(community_id, project.Marketplace.deploy(token, sender=platform_admin))


@pytest.fixture(scope="session")
def approved(market, token, citizen, neighbour, shop, association):
    """Every member lets the marketplace take prices into escrow."""
    for account in (citizen, neighbour, shop, association):
        token.approve(market, 2**256 - 1, sender=account)
    return market


@pytest.fixture(scope="session")
def make_offer(approved):
    """Factory: `provider` offers in `category`; returns the deal id."""

    def make(provider, category=0, price=PRICE, counterparty=None, venue=None, cashback=0):
        zero = "0x" + "00" * 20
        approved.offer(category, price, DESCRIPTION, counterparty or zero, venue or zero, cashback, sender=provider)
        return approved.dealCount()

    return make


@pytest.fixture(scope="session")
def make_accepted(make_offer, approved):
    """Factory: an offer of `provider` accepted by `payer`; returns the deal id."""

    def make(provider, payer, category=0, price=PRICE, venue=None, cashback=0):
        deal_id = make_offer(provider, category, price, venue=venue, cashback=cashback)
        approved.accept(deal_id, sender=payer)
        return deal_id

    return make


@pytest.fixture(scope="session")
def make_task(approved, community_admin):
    """Factory: the community admin publishes a task of `category` (5 … 7); returns the deal id."""

    def make(category=5, price=PRICE, counterparty=None, venue=None):
        zero = "0x" + "00" * 20
        approved.publishTask(category, price, DESCRIPTION, counterparty or zero, venue or zero, sender=community_admin)
        return approved.dealCount()

    return make
