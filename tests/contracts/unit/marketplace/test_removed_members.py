"""Members removed while a deal runs (issue 12, finding 5): their open deals can no longer be taken, and a deal whose
provider was removed refunds the payer in full, whichever way it closes."""

from __future__ import annotations

import ape
import pytest
from contract_helpers import ZERO_ADDRESS
from market_helpers import DESCRIPTION, PRICE

from lec.market.policy import DealState

DAY = 86_400


def test_a_removed_members_open_offer_cannot_be_accepted(
    approved, token, community_admin, make_offer, citizen, neighbour
):
    """The audit: the offer of a removed member could still be accepted, and the payer's price was then lost."""
    deal_id = make_offer(citizen)
    token.removeMember(citizen, sender=community_admin)
    with ape.reverts(approved.MarketplaceCreatorNotMember, dealId=deal_id, creator=citizen.address):
        approved.accept(deal_id, sender=neighbour)
    assert approved.escrowTotal() == 0


def test_a_removed_members_open_request_cannot_be_taken_and_is_refunded_to_the_treasury(
    approved, token, community_admin, citizen, neighbour
):
    approved.request(0, PRICE, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, sender=neighbour)
    deal_id = approved.dealCount()
    token.removeMember(neighbour, sender=community_admin)
    with ape.reverts(approved.MarketplaceCreatorNotMember, dealId=deal_id, creator=neighbour.address):
        approved.accept(deal_id, sender=citizen)
    treasury = token.treasuryBalance()
    approved.cancel(deal_id, sender=neighbour)  # the removed wallet can hold nothing: its refund joins its balance
    assert token.treasuryBalance() == treasury + PRICE and token.balanceOf(neighbour) == 0


def test_a_removed_venue_blocks_acceptance(approved, token, community_admin, make_offer, citizen, neighbour, shop):
    deal_id = make_offer(citizen, category=1, venue=shop)
    token.removeMember(shop, sender=community_admin)
    with ape.reverts(approved.MarketplaceInvalidVenue, category=1, venue=shop.address):
        approved.accept(deal_id, sender=neighbour)


@pytest.mark.parametrize("close", ["confirm", "expire", "resolve", "unresolved-dispute"])
def test_a_deal_whose_provider_was_removed_refunds_the_payer(
    approved, chain, token, community_admin, make_accepted, citizen, neighbour, outsider, close
):
    """The audit: after the confirm window, expire settled it and the payer lost the price to the treasury."""
    deal_id = make_accepted(citizen, neighbour)
    approved.complete(deal_id, sender=citizen)
    if close in ("resolve", "unresolved-dispute"):
        approved.dispute(deal_id, sender=neighbour)
    token.removeMember(citizen, sender=community_admin)
    payer, treasury = token.balanceOf(neighbour), token.treasuryBalance()
    if close == "confirm":
        tx = approved.confirm(deal_id, sender=neighbour)
    elif close == "resolve":
        tx = approved.resolve(deal_id, 10_000, sender=community_admin)
    else:
        chain.mine(timestamp=approved.expiryOf(deal_id))
        tx = approved.expire(deal_id, sender=outsider)
    assert token.balanceOf(neighbour) == payer + PRICE and token.treasuryBalance() == treasury
    assert not tx.events.filter(approved.DealSettled)
    assert [e.settled for e in tx.events.filter(approved.DealExpired)] == (
        [False] if close in ("expire", "unresolved-dispute") else []
    )
    refunds = tx.events.filter(approved.DealCancelled) + tx.events.filter(approved.DealResolved)
    assert [e.refunded for e in refunds] == [PRICE]
    expected = DealState.CANCELLED if close in ("confirm", "expire") else DealState.RESOLVED
    assert approved.deal(deal_id).state == expected and approved.escrowTotal() == 0
