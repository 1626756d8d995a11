"""Every refusal of the marketplace, each with the custom error and the values that explain it."""

from __future__ import annotations

import ape
import pytest
from contract_helpers import ZERO_ADDRESS
from market_helpers import DESCRIPTION, PRICE

DAY = 86_400


def test_unknown_deal(approved, citizen):
    for call in (approved.accept, approved.complete, approved.confirm, approved.cancel, approved.dispute):
        with ape.reverts(approved.MarketplaceUnknownDeal, dealId=99):
            call(99, sender=citizen)


def test_wrong_state(approved, make_offer, make_accepted, community_admin, citizen, neighbour):
    open_id = make_offer(citizen)
    with ape.reverts(approved.MarketplaceWrongState, dealId=open_id, state=1):
        approved.complete(open_id, sender=citizen)
    with ape.reverts(approved.MarketplaceWrongState, dealId=open_id, state=1):
        approved.confirm(open_id, sender=neighbour)
    with ape.reverts(approved.MarketplaceWrongState, dealId=open_id, state=1):
        approved.dispute(open_id, sender=citizen)
    with ape.reverts(approved.MarketplaceWrongState, dealId=open_id, state=1):
        approved.resolve(open_id, 0, sender=community_admin)
    with ape.reverts(approved.MarketplaceWrongState, dealId=open_id, state=1):
        approved.expire(open_id, sender=citizen)
    deal_id = make_accepted(citizen, neighbour)
    with ape.reverts(approved.MarketplaceWrongState, dealId=deal_id, state=2):
        approved.accept(deal_id, sender=neighbour)
    approved.confirm(deal_id, sender=neighbour)
    with ape.reverts(approved.MarketplaceWrongState, dealId=deal_id, state=5):
        approved.cancel(deal_id, sender=citizen)
    with ape.reverts(approved.MarketplaceWrongState, dealId=deal_id, state=5):
        approved.confirm(deal_id, sender=neighbour)


def test_not_party(approved, make_offer, make_accepted, citizen, neighbour, outsider):
    open_id = make_offer(citizen)
    with ape.reverts(approved.MarketplaceNotParty, dealId=open_id, account=neighbour.address):
        approved.cancel(open_id, sender=neighbour)
    deal_id = make_accepted(citizen, neighbour)
    with ape.reverts(approved.MarketplaceNotParty, dealId=deal_id, account=neighbour.address):
        approved.complete(deal_id, sender=neighbour)
    with ape.reverts(approved.MarketplaceNotParty, dealId=deal_id, account=citizen.address):
        approved.confirm(deal_id, sender=citizen)
    with ape.reverts(approved.MarketplaceNotParty, dealId=deal_id, account=neighbour.address):
        approved.cancel(deal_id, sender=neighbour)  # the payer cannot walk away from an accepted deal
    with ape.reverts(approved.MarketplaceNotParty, dealId=deal_id, account=outsider.address):
        approved.dispute(deal_id, sender=outsider)


def test_only_the_community_admin(approved, make_task, make_accepted, token, citizen, neighbour):
    not_admin = dict(account=citizen.address)
    with ape.reverts(approved.MarketplaceNotCommunityAdmin, **not_admin):
        approved.publishTask(5, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=citizen)
    with ape.reverts(approved.MarketplaceNotCommunityAdmin, **not_admin):
        approved.setWindows(DAY, DAY, sender=citizen)
    with ape.reverts(approved.MarketplaceNotCommunityAdmin, **not_admin):
        approved.setExpiryRule(False, sender=citizen)
    with ape.reverts(approved.MarketplaceNotCommunityAdmin, **not_admin):
        approved.setProfileWeights(1, 1, 1, sender=citizen)
    task_id = make_task()
    with ape.reverts(approved.MarketplaceNotCommunityAdmin, **not_admin):
        approved.cancel(task_id, sender=citizen)
    approved.accept(task_id, sender=citizen)
    with ape.reverts(approved.MarketplaceNotCommunityAdmin, account=neighbour.address):
        approved.confirm(task_id, sender=neighbour)
    deal_id = make_accepted(citizen, neighbour)
    approved.dispute(deal_id, sender=neighbour)
    with ape.reverts(approved.MarketplaceNotCommunityAdmin, account=neighbour.address):
        approved.resolve(deal_id, 0, sender=neighbour)


def test_disabled_category(approved, token, token_admin, make_offer, citizen, neighbour):
    deal_id = make_offer(citizen)
    token.setCategoryPolicy(0, 100, 200, 0, False, sender=token_admin)
    with ape.reverts(approved.MarketplaceCategoryDisabled, category=0):
        approved.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)
    with ape.reverts(approved.MarketplaceCategoryDisabled, category=0):
        approved.accept(deal_id, sender=neighbour)
    approved.cancel(deal_id, sender=citizen)  # a closed category never traps a deal


@pytest.mark.parametrize("category", [5, 6, 7, 8, 255])
def test_member_deals_use_categories_0_to_4(approved, citizen, category):
    with ape.reverts(approved.MarketplaceWrongCategory, category=category, side=0):
        approved.offer(category, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)
    with ape.reverts(approved.MarketplaceWrongCategory, category=category, side=1):
        approved.request(category, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=citizen)


@pytest.mark.parametrize("category", [0, 4, 8])
def test_tasks_use_categories_5_to_7(approved, community_admin, category):
    with ape.reverts(approved.MarketplaceWrongCategory, category=category, side=2):
        approved.publishTask(category, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=community_admin)


def test_wrong_kind(approved, token, community_admin, make_offer, make_task, citizen, neighbour, shop, outsider):
    citizen_kind, stakeholder_kind = 1, 2
    with ape.reverts(approved.MarketplaceWrongKind, account=shop.address, category=0, needed=citizen_kind):
        approved.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=shop)
    with ape.reverts(approved.MarketplaceWrongKind, account=citizen.address, category=2, needed=stakeholder_kind):
        approved.offer(2, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)
    with ape.reverts(approved.MarketplaceWrongKind, account=citizen.address, category=4, needed=stakeholder_kind):
        approved.request(4, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=citizen)
    with ape.reverts(approved.MarketplaceWrongKind, account=outsider.address, category=0, needed=citizen_kind):
        approved.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=outsider)
    offer_id = make_offer(citizen)
    with ape.reverts(approved.MarketplaceWrongKind, account=shop.address, category=0, needed=citizen_kind):
        approved.accept(offer_id, sender=shop)
    task_id = make_task(6)
    with ape.reverts(approved.MarketplaceWrongKind, account=citizen.address, category=6, needed=stakeholder_kind):
        approved.accept(task_id, sender=citizen)
    token.removeMember(neighbour, sender=community_admin)
    with ape.reverts(approved.MarketplaceWrongKind, account=neighbour.address, category=0, needed=citizen_kind):
        approved.accept(offer_id, sender=neighbour)


def test_invalid_venue(approved, community_admin, citizen, neighbour, shop):
    with ape.reverts(approved.MarketplaceInvalidVenue, category=1, venue=ZERO_ADDRESS):
        approved.offer(1, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)
    with ape.reverts(approved.MarketplaceInvalidVenue, category=0, venue=shop.address):
        approved.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, shop, 0, sender=citizen)
    with ape.reverts(approved.MarketplaceInvalidVenue, category=1, venue=neighbour.address):
        approved.offer(1, PRICE, DESCRIPTION, ZERO_ADDRESS, neighbour, 0, sender=citizen)  # a venue is a stakeholder
    with ape.reverts(approved.MarketplaceInvalidVenue, category=5, venue=shop.address):
        approved.publishTask(5, PRICE, DESCRIPTION, ZERO_ADDRESS, shop, sender=community_admin)
    with ape.reverts(approved.MarketplaceInvalidVenue, category=7, venue=ZERO_ADDRESS):
        approved.publishTask(7, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=community_admin)


def test_invalid_price(approved, citizen):
    for price in (0, 2**96):
        with ape.reverts(approved.MarketplaceInvalidPrice, price=price):
            approved.offer(0, price, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=citizen)


def test_self_deal(approved, community_admin, make_offer, citizen, shop):
    deal_id = make_offer(citizen)
    with ape.reverts(approved.MarketplaceSelfDeal, account=citizen.address):
        approved.accept(deal_id, sender=citizen)
    with ape.reverts(approved.MarketplaceSelfDeal, account=citizen.address):
        approved.offer(0, PRICE, DESCRIPTION, citizen, ZERO_ADDRESS, 0, sender=citizen)
    venue_deal = make_offer(citizen, category=1, venue=shop)
    with ape.reverts(approved.MarketplaceSelfDeal, account=shop.address):
        approved.accept(venue_deal, sender=shop)
    with ape.reverts(approved.MarketplaceSelfDeal, account=shop.address):
        approved.publishTask(7, PRICE, DESCRIPTION, shop, shop, sender=community_admin)


def test_caps(approved, make_accepted, community_admin, citizen, neighbour, shop):
    with ape.reverts(approved.MarketplaceAboveCap, field="cashbackBps", value=4_001, cap=4_000):
        approved.offer(2, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 4_001, sender=shop)
    with ape.reverts(approved.MarketplaceCashbackNotAllowed, category=0):
        approved.offer(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 100, sender=citizen)
    with ape.reverts(approved.MarketplaceAboveCap, field="prosumerBps", value=20_001, cap=20_000):
        approved.setProfileWeights(0, 20_001, 0, sender=community_admin)
    deal_id = make_accepted(citizen, neighbour)
    approved.dispute(deal_id, sender=neighbour)
    with ape.reverts(approved.MarketplaceAboveCap, field="providerBps", value=10_001, cap=10_000):
        approved.resolve(deal_id, 10_001, sender=community_admin)


def test_windows_are_bounded(approved, community_admin):
    with ape.reverts(approved.MarketplaceInvalidWindow, seconds_=3_599):
        approved.setWindows(3_599, DAY, sender=community_admin)
    with ape.reverts(approved.MarketplaceInvalidWindow, seconds_=366 * DAY):
        approved.setWindows(DAY, 366 * DAY, sender=community_admin)


def test_deadline_not_reached(approved, chain, make_accepted, citizen, neighbour):
    deal_id = make_accepted(citizen, neighbour)
    deadline = approved.expiryOf(deal_id)
    assert deadline == approved.deal(deal_id).updatedAt + 30 * DAY
    with ape.reverts(approved.MarketplaceDeadlineNotReached, dealId=deal_id, deadline=deadline):
        approved.expire(deal_id, sender=citizen)


def test_paused_token_stops_escrow_moves(approved, token, token_admin, make_offer, citizen, neighbour):
    deal_id = make_offer(citizen)
    token.pause(sender=token_admin)
    with ape.reverts(token.EnforcedPause):
        approved.accept(deal_id, sender=neighbour)


def test_accept_without_allowance(approved, token, make_offer, citizen, neighbour):
    deal_id = make_offer(citizen)
    token.approve(approved, 0, sender=neighbour)
    with ape.reverts(token.ERC20InsufficientAllowance):
        approved.accept(deal_id, sender=neighbour)
