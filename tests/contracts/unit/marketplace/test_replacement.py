"""Replacing a community's marketplace (issue 12, finding 4): the old one is retired, not cut off — every deal it
holds still closes and pays out its escrow, but it takes no new deal, never receives and never draws on the
treasury."""

from __future__ import annotations

import ape
from contract_helpers import UNIT, ZERO_ADDRESS
from market_helpers import DESCRIPTION, POLICIES, PRICE

from lec.market.policy import DealState, Policy, split

DAY = 86_400


def test_a_replaced_marketplace_still_closes_every_deal_it_holds(
    project,
    chain,
    approved,
    token,
    community_id,
    register_marketplace,
    platform_admin,
    community_admin,
    make_offer,
    make_accepted,
    make_task,
    citizen,
    neighbour,
    shop,
    outsider,
):
    """The audit: after setMarketplace the old contract could no longer move tokens, so cancel, confirm and expire
    all reverted and the escrow was stuck."""
    old = approved
    token.transfer(neighbour, 15 * UNIT, sender=shop)  # the payer of four deals at once
    open_offer = make_offer(citizen)
    accepted = make_accepted(citizen, neighbour)
    completed = make_accepted(citizen, neighbour)
    old.complete(completed, sender=citizen)
    disputed = make_accepted(citizen, neighbour)
    old.dispute(disputed, sender=neighbour)
    old.request(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=neighbour)
    request = old.dealCount()
    task = make_task(5, counterparty=citizen)
    old.accept(task, sender=citizen)
    assert old.escrowTotal() == token.balanceOf(old) == 5 * PRICE

    new = register_marketplace(community_id, project.Marketplace.deploy(token, sender=platform_admin))
    assert token.communityContractStatus(old) == 2 and token.isCommunityContract(new)

    # Nothing new on the old one: no deal, no acceptance, no draw on the treasury.
    with ape.reverts(old.MarketplaceRetired, marketplace=old.address):
        old.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)
    with ape.reverts(old.MarketplaceRetired, marketplace=old.address):
        old.accept(open_offer, sender=neighbour)
    with ape.reverts(old.MarketplaceRetired, marketplace=old.address):
        old.publishTask(5, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=community_admin)
    with ape.reverts(token.CommunityTokenContractRetired, account=old.address):
        token.transfer(old, UNIT, sender=citizen)

    # Every deal it holds still closes; settlements pay no incentive (a retired contract never draws on the
    # treasury), fees still reach it.
    treasury = token.treasuryBalance()
    s = split(PRICE, Policy(*POLICIES[0]), category_number=0, with_venue=False)
    provider = token.balanceOf(citizen)
    settled = old.confirm(accepted, sender=neighbour).events.filter(old.DealSettled)[0]
    assert (settled.toProvider, settled.fee, settled.incentive) == (s.to_provider, s.fee, 0)
    assert token.balanceOf(citizen) == provider + s.to_provider
    old.cancel(request, sender=neighbour)
    old.resolve(disputed, 10_000, sender=community_admin)
    old.confirm(task, sender=community_admin)
    chain.mine(timestamp=old.expiryOf(completed))
    old.expire(completed, sender=outsider)
    old.cancel(open_offer, sender=citizen)
    task_split = split(PRICE, Policy(*POLICIES[5]), category_number=5, with_venue=False)
    assert token.treasuryBalance() == treasury + 3 * s.fee + task_split.fee
    assert old.escrowTotal() == token.balanceOf(old) == 0
    for deal_id, state in (
        (accepted, DealState.SETTLED),
        (request, DealState.CANCELLED),
        (disputed, DealState.RESOLVED),
        (task, DealState.SETTLED),
        (completed, DealState.SETTLED),
    ):
        assert old.deal(deal_id).state == state

    # The new one works as usual.
    token.approve(new, PRICE, sender=neighbour)
    new.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)
    new.accept(1, sender=neighbour)
    assert new.escrowTotal() == PRICE
