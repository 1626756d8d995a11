"""A deal runs on the terms it showed when it was taken (issue 12, finding 7 and the trust model's decisions): the
category policy, the windows and the expiry rule are frozen at creation, the citizen's profile weight when its
price goes into escrow; a dispute left unresolved past its window is closed by anyone, half to each side."""

from __future__ import annotations

import ape
from contract_helpers import PROSUMER, UNIT, ZERO_ADDRESS
from market_helpers import DESCRIPTION, POLICIES, PRICE

from lec.market.policy import DealState, Policy, resolution, split

DAY = 86_400


def test_a_running_deal_keeps_its_profile_weight(approved, token, community_admin, make_offer, shop, citizen):
    """The audit: the weight was read at settlement, so the community admin could change the incentive of deals
    already running."""
    approved.setProfileWeights(10_000, 15_000, 20_000, sender=community_admin)
    deal_id = make_offer(shop, category=2)
    approved.accept(deal_id, sender=citizen)  # a prosumer: 1.5×
    assert token.member(citizen).profile == PROSUMER and approved.deal(deal_id).profileWeightBps == 15_000
    approved.setProfileWeights(0, 0, 0, sender=community_admin)
    event = approved.confirm(deal_id, sender=citizen).events.filter(approved.DealSettled)[0]
    expected = split(PRICE, Policy(*POLICIES[2]), category_number=2, with_venue=False, profile_weight_bps=15_000)
    assert event.incentive == expected.incentive > 0 and event.incentiveTo == citizen.address


def test_the_policy_is_frozen_when_the_deal_is_created(approved, token, token_admin, make_offer, citizen, neighbour):
    """The taker accepts the terms the offer shows: a policy change between offer and acceptance does not apply."""
    deal_id = make_offer(citizen)
    token.setCategoryPolicy(0, 1_000, 0, 0, True, sender=token_admin)
    approved.accept(deal_id, sender=neighbour)
    deal = approved.deal(deal_id)
    assert (deal.feeBps, deal.incentiveBps, deal.venueBps) == POLICIES[0]
    event = approved.confirm(deal_id, sender=neighbour).events.filter(approved.DealSettled)[0]
    assert event.fee == split(PRICE, Policy(*POLICIES[0]), category_number=0, with_venue=False).fee


def test_windows_and_the_expiry_rule_are_frozen_when_the_deal_is_created(
    approved, chain, token, community_admin, make_accepted, citizen, neighbour, shop, outsider
):
    """A community admin cannot shorten a running deal's window nor flip its expiry rule."""
    token.transfer(neighbour, 5 * UNIT, sender=shop)  # the payer of two deals
    deal_id = make_accepted(citizen, neighbour)
    approved.complete(deal_id, sender=citizen)
    completed_at = approved.deal(deal_id).updatedAt
    approved.setWindows(3_600, 3_600, sender=community_admin)
    approved.setExpiryRule(False, sender=community_admin)
    approved.setDisputeWindow(3_600, sender=community_admin)
    assert (approved.confirmWindow(), approved.settleOnExpiry(), approved.disputeWindow()) == (3_600, False, 3_600)
    assert approved.expiryOf(deal_id) == completed_at + 7 * DAY
    rules = approved.rules(approved.deal(deal_id).rulesId)
    assert (rules.completionWindow, rules.confirmWindow, rules.disputeWindow, rules.settleOnExpiry) == (
        30 * DAY,
        7 * DAY,
        30 * DAY,
        True,
    )
    chain.mine(timestamp=completed_at + 3_600)
    with ape.reverts(approved.MarketplaceDeadlineNotReached, dealId=deal_id, deadline=completed_at + 7 * DAY):
        approved.expire(deal_id, sender=outsider)
    chain.mine(timestamp=completed_at + 7 * DAY)
    assert approved.expire(deal_id, sender=outsider).events.filter(approved.DealExpired)[0].settled
    newer = make_accepted(citizen, neighbour)
    assert approved.expiryOf(newer) == approved.deal(newer).updatedAt + 3_600


def test_a_dispute_left_unresolved_is_split_in_half_after_its_window(
    approved, chain, token, community_admin, make_accepted, citizen, neighbour, outsider
):
    deal_id = make_accepted(citizen, neighbour)
    tx = approved.setDisputeWindow(2 * DAY, sender=community_admin)
    assert tx.events == [approved.DisputeWindowSet(disputeWindow=2 * DAY)]
    approved.dispute(deal_id, sender=neighbour)
    deadline = approved.deal(deal_id).updatedAt + 30 * DAY  # the window the deal was created with
    assert approved.expiryOf(deal_id) == deadline
    chain.mine(timestamp=deadline - 2)
    with ape.reverts(approved.MarketplaceDeadlineNotReached, dealId=deal_id, deadline=deadline):
        approved.expire(deal_id, sender=outsider)
    chain.mine(timestamp=deadline)
    provider, payer = token.balanceOf(citizen), token.balanceOf(neighbour)
    tx = approved.expire(deal_id, sender=outsider)
    to_provider_side, refunded = resolution(PRICE, approved.UNRESOLVED_DISPUTE_PROVIDER_BPS())
    s = split(to_provider_side, Policy(*POLICIES[0]), category_number=0, with_venue=False, with_incentive=False)
    assert tx.events.filter(approved.DealResolved) == [
        approved.DealResolved(dealId=deal_id, providerBps=5_000, refunded=refunded)
    ]
    assert token.balanceOf(citizen) == provider + s.to_provider and token.balanceOf(neighbour) == payer + refunded
    assert approved.deal(deal_id).state == DealState.RESOLVED


def test_window_settings_are_bounded_and_admin_only(approved, community_admin, citizen):
    with ape.reverts(approved.MarketplaceInvalidWindow, seconds_=3_599):
        approved.setDisputeWindow(3_599, sender=community_admin)
    with ape.reverts(approved.MarketplaceNotCommunityAdmin, account=citizen.address):
        approved.setDisputeWindow(DAY, sender=citizen)
    approved.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)
    assert approved.deal(approved.dealCount()).rulesId == 0
