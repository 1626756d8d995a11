"""A deal's life: offer or request → accept (escrow) → complete → confirm (settle) | cancel (refund)."""

from __future__ import annotations

import ape
from contract_helpers import UNIT, ZERO_ADDRESS
from market_helpers import DESCRIPTION, POLICIES, PRICE

from lec.market.policy import DealState, Policy, Side, split


def test_marketplace_is_wired_to_the_community(market, token, registry, community_id):
    assert market.token() == token.address
    assert market.communityId() == community_id
    assert token.isCommunityContract(market)
    assert registry.community(community_id).marketplace == market.address
    assert market.completionWindow() == 30 * 86400 and market.confirmWindow() == 7 * 86400
    assert market.settleOnExpiry()
    assert list(market.profileWeights()) == [10_000, 10_000, 10_000]


def test_offer_records_ids_parties_amounts_and_description_hash(market, citizen):
    tx = market.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)
    assert tx.events == [
        market.DealCreated(
            dealId=1,
            category=0,
            side=Side.OFFER,
            creator=citizen,
            counterparty=ZERO_ADDRESS,
            venue=ZERO_ADDRESS,
            price=PRICE,
            cashbackBps=0,
            descriptionHash=DESCRIPTION,
        )
    ]
    deal = market.deal(1)
    assert (deal.provider, deal.payer, deal.venue) == (citizen.address, ZERO_ADDRESS, ZERO_ADDRESS)
    assert (deal.category, deal.state, deal.side, deal.price) == (0, DealState.OPEN, Side.OFFER, PRICE)
    assert deal.descriptionHash == DESCRIPTION
    assert market.dealCount() == 1 and market.escrowOf(1) == 0 and market.escrowTotal() == 0


def test_accept_holds_the_price_in_escrow_and_freezes_the_policy(
    approved, token, token_admin, make_offer, citizen, neighbour
):
    market = approved
    deal_id = make_offer(citizen)
    before = token.balanceOf(neighbour)
    tx = market.accept(deal_id, sender=neighbour)
    assert tx.events.filter(market.DealAccepted) == [
        market.DealAccepted(dealId=deal_id, provider=citizen, payer=neighbour, escrow=PRICE)
    ]
    # Escrow moves pay no transfer fee: the category fee is taken at settlement.
    assert token.balanceOf(neighbour) == before - PRICE
    assert token.balanceOf(market) == PRICE == market.escrowTotal() == market.escrowOf(deal_id)
    deal = market.deal(deal_id)
    assert deal.state == DealState.ACCEPTED and deal.payer == neighbour.address
    assert (deal.feeBps, deal.incentiveBps, deal.venueBps) == POLICIES[0]
    # A later policy change does not touch the terms the payer accepted.
    token.setCategoryPolicy(0, 1_000, 0, 0, True, sender=token_admin)
    assert market.deal(deal_id).feeBps == POLICIES[0][0]


def test_complete_then_confirm_settles_with_the_frozen_policy(approved, token, make_accepted, citizen, neighbour):
    market = approved
    deal_id = make_accepted(citizen, neighbour)
    assert market.complete(deal_id, sender=citizen).events == [market.DealCompleted(dealId=deal_id)]
    assert market.deal(deal_id).state == DealState.COMPLETED
    provider, payer, treasury = token.balanceOf(citizen), token.balanceOf(neighbour), token.treasuryBalance()
    expected = split(PRICE, Policy(*POLICIES[0]), category_number=0, with_venue=False)
    preview, incentive_to = market.previewSettlement(deal_id)
    assert tuple(preview) == (expected.to_provider, expected.fee, 0, 0, expected.incentive)
    assert incentive_to == citizen.address
    tx = market.confirm(deal_id, sender=neighbour)
    assert tx.events.filter(market.DealSettled) == [
        market.DealSettled(
            dealId=deal_id,
            toProvider=expected.to_provider,
            fee=expected.fee,
            venueShare=0,
            cashback=0,
            incentive=expected.incentive,
            incentiveTo=citizen,
        )
    ]
    assert token.balanceOf(citizen) == provider + expected.to_provider + expected.incentive
    assert token.balanceOf(neighbour) == payer
    assert token.treasuryBalance() == treasury + expected.fee - expected.incentive
    assert token.balanceOf(market) == 0 == market.escrowTotal() == market.escrowOf(deal_id)
    assert market.deal(deal_id).state == DealState.SETTLED


def test_payer_may_confirm_without_waiting_for_completion(approved, token, make_accepted, citizen, neighbour):
    deal_id = make_accepted(citizen, neighbour)
    approved.confirm(deal_id, sender=neighbour)
    assert approved.deal(deal_id).state == DealState.SETTLED and token.balanceOf(approved) == 0


def test_request_escrows_at_creation_and_a_provider_accepts(approved, token, citizen, neighbour):
    market = approved
    before = token.balanceOf(neighbour)
    tx = market.request(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=neighbour)
    deal_id = market.dealCount()
    assert tx.events.filter(market.DealCreated)[0].side == Side.REQUEST
    assert token.balanceOf(neighbour) == before - PRICE and market.escrowOf(deal_id) == PRICE
    market.accept(deal_id, sender=citizen)
    deal = market.deal(deal_id)
    assert (deal.provider, deal.payer, deal.state) == (citizen.address, neighbour.address, DealState.ACCEPTED)
    market.complete(deal_id, sender=citizen)
    market.confirm(deal_id, sender=neighbour)
    assert token.balanceOf(market) == 0


def test_reserved_counterparty(approved, make_offer, citizen, neighbour, outsider):
    deal_id = make_offer(citizen, counterparty=neighbour)
    assert approved.deal(deal_id).payer == neighbour.address
    with ape.reverts(
        approved.MarketplaceNotCounterparty, dealId=deal_id, account=outsider.address, counterparty=neighbour.address
    ):
        approved.accept(deal_id, sender=outsider)
    approved.accept(deal_id, sender=neighbour)
    assert approved.deal(deal_id).state == DealState.ACCEPTED


def test_creator_cancels_an_open_offer_and_an_open_request_is_refunded(approved, token, make_offer, citizen, neighbour):
    market = approved
    deal_id = make_offer(citizen)
    tx = market.cancel(deal_id, sender=citizen)
    assert tx.events == [market.DealCancelled(dealId=deal_id, by=citizen, refunded=0)]
    before = token.balanceOf(neighbour)
    market.request(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=neighbour)
    request_id = market.dealCount()
    tx = market.cancel(request_id, sender=neighbour)
    assert tx.events.filter(market.DealCancelled) == [
        market.DealCancelled(dealId=request_id, by=neighbour, refunded=PRICE)
    ]
    assert token.balanceOf(neighbour) == before and market.escrowTotal() == 0
    assert market.deal(request_id).state == DealState.CANCELLED


def test_provider_withdraws_from_an_accepted_deal_and_the_payer_is_refunded(
    approved, token, make_accepted, citizen, neighbour
):
    before = token.balanceOf(neighbour)
    deal_id = make_accepted(citizen, neighbour)
    approved.cancel(deal_id, sender=citizen)
    assert token.balanceOf(neighbour) == before and token.balanceOf(approved) == 0


def test_sweep_returns_stray_tokens_to_the_treasury(approved, token, make_accepted, citizen, neighbour, outsider):
    deal_id = make_accepted(citizen, neighbour)
    token.transfer(approved, UNIT, sender=citizen)  # a member pays the marketplace directly by mistake
    treasury = token.treasuryBalance()
    tx = approved.sweepToTreasury(sender=outsider)
    assert tx.events.filter(approved.StrayTokensSwept) == [approved.StrayTokensSwept(amount=UNIT)]
    assert token.treasuryBalance() == treasury + UNIT
    assert token.balanceOf(approved) == approved.escrowTotal() == approved.escrowOf(deal_id) == PRICE
    assert not approved.sweepToTreasury(sender=outsider).events
