"""Disputes resolved by the community admin, deadlines and the expiry rule, community tasks, parties who leave
the community, and incentives when the treasury runs dry."""

from __future__ import annotations

import ape
import pytest
from contract_helpers import ZERO_ADDRESS
from market_helpers import DESCRIPTION, POLICIES, PRICE

from lec.market.policy import DealState, Policy, resolution, split

DAY = 86_400


def watch(token, *accounts):
    return {a.address if hasattr(a, "address") else a: token.balanceOf(a) for a in accounts}


def assert_deltas(token, before, deltas):
    for account, start in before.items():
        assert token.balanceOf(account) == start + deltas.get(account, 0), account


@pytest.mark.parametrize("provider_bps", [0, 3_333, 10_000])
def test_admin_resolves_a_dispute_by_splitting_the_escrow(
    approved, token, community_admin, make_accepted, citizen, neighbour, shop, provider_bps
):
    """Category 1 (with a venue): the provider's part pays the fee and the venue share, the rest is refunded; no
    incentive rewards a disputed deal."""
    deal_id = make_accepted(citizen, neighbour, category=1, venue=shop)
    approved.complete(deal_id, sender=citizen)
    assert approved.dispute(deal_id, sender=neighbour).events == [approved.DealDisputed(dealId=deal_id, by=neighbour)]
    # The admin has the dispute window to decide; then anyone may close it (test_frozen_terms.py).
    assert approved.expiryOf(deal_id) == approved.deal(deal_id).updatedAt + 30 * DAY
    before = watch(token, citizen, neighbour, shop, token.address, approved)
    tx = approved.resolve(deal_id, provider_bps, sender=community_admin)
    to_provider_side, refunded = resolution(PRICE, provider_bps)
    s = split(to_provider_side, Policy(*POLICIES[1]), category_number=1, with_venue=True, with_incentive=False)
    assert tx.events.filter(approved.DealResolved) == [
        approved.DealResolved(dealId=deal_id, providerBps=provider_bps, refunded=refunded)
    ]
    assert len(tx.events.filter(approved.DealSettled)) == (1 if to_provider_side else 0)
    assert_deltas(
        token,
        before,
        {
            citizen.address: s.to_provider,
            neighbour.address: refunded,
            shop.address: s.venue_share,
            token.address: s.fee,
            approved.address: -PRICE,
        },
    )
    assert approved.deal(deal_id).state == DealState.RESOLVED and approved.escrowTotal() == 0


def test_provider_may_dispute_an_accepted_deal(approved, make_accepted, citizen, neighbour):
    deal_id = make_accepted(citizen, neighbour)
    approved.dispute(deal_id, sender=citizen)
    assert approved.deal(deal_id).state == DealState.DISPUTED
    assert approved.escrowOf(deal_id) == PRICE


def test_accepted_but_never_completed_is_refunded_after_the_completion_window(
    approved, chain, token, make_accepted, citizen, neighbour, outsider
):
    before = token.balanceOf(neighbour)
    deal_id = make_accepted(citizen, neighbour)
    deadline = approved.expiryOf(deal_id)
    chain.mine(timestamp=deadline)
    tx = approved.expire(deal_id, sender=outsider)  # anyone may close it
    assert tx.events.filter(approved.DealExpired) == [approved.DealExpired(dealId=deal_id, by=outsider, settled=False)]
    assert tx.events.filter(approved.DealCancelled) == [
        approved.DealCancelled(dealId=deal_id, by=outsider, refunded=PRICE)
    ]
    assert token.balanceOf(neighbour) == before and approved.deal(deal_id).state == DealState.CANCELLED


def test_completed_and_unconfirmed_settles_when_silence_is_consent(
    approved, chain, token, make_accepted, citizen, neighbour, outsider
):
    deal_id = make_accepted(citizen, neighbour)
    approved.complete(deal_id, sender=citizen)
    deadline = approved.expiryOf(deal_id)
    assert deadline == approved.deal(deal_id).updatedAt + 7 * DAY
    chain.mine(timestamp=deadline - 2)
    with ape.reverts(approved.MarketplaceDeadlineNotReached, dealId=deal_id, deadline=deadline):
        approved.expire(deal_id, sender=outsider)
    chain.mine(timestamp=deadline)
    provider = token.balanceOf(citizen)
    tx = approved.expire(deal_id, sender=outsider)
    s = split(PRICE, Policy(*POLICIES[0]), category_number=0, with_venue=False)
    assert tx.events.filter(approved.DealExpired)[0].settled
    assert token.balanceOf(citizen) == provider + s.to_provider + s.incentive
    assert approved.deal(deal_id).state == DealState.SETTLED


def test_completed_and_unconfirmed_is_refunded_when_the_admin_says_so(
    approved, chain, token, community_admin, make_accepted, citizen, neighbour
):
    assert approved.setExpiryRule(False, sender=community_admin).events == [
        approved.ExpiryRuleSet(settleOnExpiry=False)
    ]
    tx = approved.setWindows(2 * DAY, DAY, sender=community_admin)
    assert tx.events == [approved.WindowsSet(completionWindow=2 * DAY, confirmWindow=DAY)]
    before = token.balanceOf(neighbour)
    deal_id = make_accepted(citizen, neighbour)
    approved.complete(deal_id, sender=citizen)
    chain.pending_timestamp += DAY
    tx = approved.expire(deal_id, sender=neighbour)
    assert not tx.events.filter(approved.DealExpired)[0].settled
    assert token.balanceOf(neighbour) == before and approved.deal(deal_id).state == DealState.CANCELLED


def test_community_task_is_funded_by_the_treasury_and_confirmed_by_the_admin(
    approved, token, community_admin, make_task, citizen
):
    treasury = token.treasuryBalance()
    task_id = make_task(5, counterparty=citizen)
    deal = approved.deal(task_id)
    assert (deal.payer, deal.provider, deal.side) == (token.address, citizen.address, 2)
    assert token.treasuryBalance() == treasury - PRICE and approved.escrowOf(task_id) == PRICE
    approved.accept(task_id, sender=citizen)
    approved.complete(task_id, sender=citizen)
    before = token.balanceOf(citizen)
    approved.confirm(task_id, sender=community_admin)
    s = split(PRICE, Policy(*POLICIES[5]), category_number=5, with_venue=False)
    assert token.balanceOf(citizen) == before + s.to_provider + s.incentive
    assert token.treasuryBalance() == treasury - PRICE + s.fee - s.incentive


def test_admin_cancels_an_open_task_and_the_treasury_gets_it_back(approved, token, community_admin, make_task):
    treasury = token.treasuryBalance()
    task_id = make_task(6)
    tx = approved.cancel(task_id, sender=community_admin)
    assert tx.events.filter(approved.DealCancelled) == [
        approved.DealCancelled(dealId=task_id, by=community_admin, refunded=PRICE)
    ]
    assert token.treasuryBalance() == treasury


def test_task_needs_a_treasury_that_can_pay(approved, token, community_admin):
    with ape.reverts(token.CommunityTokenTreasuryInsufficient):
        approved.publishTask(
            5, token.treasuryBalance() + 1, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=community_admin
        )


def test_incentive_stops_when_the_treasury_is_empty(approved, token, make_accepted, make_task, citizen, neighbour):
    make_task(5, price=token.treasuryBalance())  # the whole treasury goes into one task's escrow
    assert token.treasuryBalance() == 0
    deal_id = make_accepted(citizen, neighbour)
    before = token.balanceOf(citizen)
    tx = approved.confirm(deal_id, sender=neighbour)
    s = split(PRICE, Policy(*POLICIES[0]), category_number=0, with_venue=False)
    # The fee reaches the treasury before the incentive is paid, so the incentive is capped at the fee.
    assert tx.events.filter(approved.DealSettled)[0].incentive == s.fee < s.incentive
    assert token.balanceOf(citizen) == before + s.to_provider + s.fee
    assert token.treasuryBalance() == 0


def test_a_removed_venues_share_goes_to_the_treasury(
    approved, token, community_admin, make_accepted, citizen, neighbour, shop
):
    """Right to be forgotten mid-deal: the removed venue can hold no tokens, so its share stays in the treasury; the
    provider, the fee and the incentive are paid as usual."""
    deal_id = make_accepted(citizen, neighbour, category=1, venue=shop)
    token.removeMember(shop, sender=community_admin)
    before = watch(token, citizen, token.address)
    approved.confirm(deal_id, sender=neighbour)
    s = split(PRICE, Policy(*POLICIES[1]), category_number=1, with_venue=True)
    assert_deltas(
        token,
        before,
        {citizen.address: s.to_provider + s.incentive, token.address: s.fee + s.venue_share - s.incentive},
    )
    assert token.balanceOf(shop) == 0


def test_profile_weights_are_set_by_the_admin(approved, community_admin):
    tx = approved.setProfileWeights(10_000, 12_000, 15_000, sender=community_admin)
    assert tx.events == [approved.ProfileWeightsSet(consumerBps=10_000, prosumerBps=12_000, prostormerBps=15_000)]
    assert list(approved.profileWeights()) == [10_000, 12_000, 15_000]


def test_previews_an_open_offer_with_the_terms_frozen_at_creation(approved, token, token_admin, make_offer, shop):
    """The taker sees (and gets) the terms the offer was created with; a later policy change applies to new deals."""
    deal_id = make_offer(shop, category=2, cashback=500)
    token.setCategoryPolicy(2, 300, 700, 0, True, sender=token_admin)
    split_now, incentive_to = approved.previewSettlement(deal_id)
    s = split(PRICE, Policy(*POLICIES[2]), category_number=2, with_venue=False, cashback_bps=500)
    assert tuple(split_now) == (s.to_provider, s.fee, 0, s.cashback, s.incentive)
    assert incentive_to == ZERO_ADDRESS  # the buyer is not known yet: the unweighted incentive is shown
    deal = approved.deal(deal_id)
    assert (deal.feeBps, deal.incentiveBps, deal.venueBps) == POLICIES[2]
