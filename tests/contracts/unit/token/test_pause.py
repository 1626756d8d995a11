"""What the pause stops (issue 12, finding 6): every token movement — transfers, claims, welcome bonuses, issuance,
stakeholder sales and the community contracts' treasury payments — except a member's removal (docs/security.md)."""

from __future__ import annotations

import ape
from contract_helpers import CITIZEN, CONSUMER, PERIOD, UNIT, proof_of


def test_pause_stops_sales_bonuses_and_issuance(token, token_admin, community_admin, shop, outsider):
    """The audit: sellToStakeholder and the welcome bonus went through a paused token."""
    token.setExchangeRate(UNIT // 1000, sender=token_admin)
    token.pause(sender=token_admin)
    treasury, supply = token.treasuryBalance(), token.totalSupply()
    with ape.reverts(token.EnforcedPause):
        token.sellToStakeholder(shop, 5_000, "0x" + "ab" * 32, sender=token_admin)
    with ape.reverts(token.EnforcedPause):
        token.addMember(outsider, CITIZEN, CONSUMER, sender=community_admin)
    with ape.reverts(token.EnforcedPause):
        token.fundTreasury(UNIT, "while paused", sender=token_admin)
    assert token.treasuryBalance() == treasury and token.totalSupply() == supply
    assert not token.isMember(outsider)


def test_pause_stops_claims_and_treasury_payments_but_not_removals(
    token, token_admin, community_admin, publish, marketplace_stub, citizen, neighbour, outsider
):
    tree = publish({citizen: UNIT})
    token.pause(sender=token_admin)
    with ape.reverts(token.EnforcedPause):
        token.claim(PERIOD, UNIT, proof_of(tree, citizen, UNIT), sender=citizen)
    with ape.reverts(token.EnforcedPause):
        marketplace_stub.payFromTreasury(citizen, UNIT, sender=outsider)
    with ape.reverts(token.EnforcedPause):
        marketplace_stub.payIncentive(citizen, UNIT, 0, sender=outsider)
    token.approve(marketplace_stub, UNIT, sender=citizen)  # an approval moves nothing
    with ape.reverts(token.EnforcedPause):
        marketplace_stub.pull(citizen, UNIT, sender=outsider)
    treasury = token.treasuryBalance()
    token.removeMember(neighbour, sender=community_admin)  # the right to be forgotten is never blocked
    assert token.treasuryBalance() == treasury + 5 * UNIT and token.balanceOf(neighbour) == 0


def test_joining_without_a_bonus_works_while_paused(token, token_admin, community_admin, outsider):
    token.setWelcomeBonus(CITIZEN, 0, sender=token_admin)
    token.pause(sender=token_admin)
    token.addMember(outsider, CITIZEN, CONSUMER, sender=community_admin)
    assert token.isMember(outsider) and token.balanceOf(outsider) == 0
