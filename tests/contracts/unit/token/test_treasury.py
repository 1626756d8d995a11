import ape
from contract_helpers import UNIT


def test_fund_treasury(token, token_admin, outsider):
    before, supply = token.treasuryBalance(), token.totalSupply()
    tx = token.fundTreasury(50 * UNIT, "budget 2026", sender=token_admin)
    assert tx.events.filter(token.TreasuryFunded) == [token.TreasuryFunded(amount=50 * UNIT, reason="budget 2026")]
    assert token.treasuryBalance() == before + 50 * UNIT and token.totalSupply() == supply + 50 * UNIT
    assert token.treasury() == token.address
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.fundTreasury(UNIT, "x", sender=outsider)


def test_stakeholder_buys_at_published_rate(token, token_admin, shop):
    rate = UNIT // 1000  # 1 token = 10 euro
    assert token.setExchangeRate(rate, sender=token_admin).events == [token.ExchangeRateSet(unitsPerCent=rate)]
    receipt = "0x" + "ab" * 32
    before, treasury = token.balanceOf(shop), token.treasuryBalance()
    tx = token.sellToStakeholder(shop, 5_000, receipt, sender=token_admin)  # 50 euro
    assert tx.events.filter(token.TokensSold) == [
        token.TokensSold(buyer=shop, paidCents=5_000, amount=5 * UNIT, unitsPerCent=rate, receiptHash=receipt)
    ]
    assert token.balanceOf(shop) == before + 5 * UNIT and token.treasuryBalance() == treasury - 5 * UNIT
    assert token.receiptUsed(receipt)
    with ape.reverts(token.CommunityTokenReceiptUsed):
        token.sellToStakeholder(shop, 5_000, receipt, sender=token_admin)


def test_sale_refusals(token, token_admin, citizen, shop, outsider):
    receipt = "0x" + "cd" * 32
    with ape.reverts(token.CommunityTokenExchangeRateNotSet):
        token.sellToStakeholder(shop, 100, receipt, sender=token_admin)
    token.setExchangeRate(UNIT // 1000, sender=token_admin)
    with ape.reverts(token.CommunityTokenNotStakeholder):
        token.sellToStakeholder(citizen, 100, receipt, sender=token_admin)
    with ape.reverts(token.CommunityTokenNotMember):
        token.sellToStakeholder(outsider, 100, receipt, sender=token_admin)
    with ape.reverts(token.CommunityTokenInvalidSale):
        token.sellToStakeholder(shop, 0, receipt, sender=token_admin)
    with ape.reverts(token.CommunityTokenInvalidSale):
        token.sellToStakeholder(shop, 100, "0x" + "00" * 32, sender=token_admin)
    with ape.reverts(token.CommunityTokenTreasuryInsufficient):
        token.sellToStakeholder(shop, 10**9, receipt, sender=token_admin)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.sellToStakeholder(shop, 100, receipt, sender=outsider)


def test_community_contract_pays_from_treasury(
    token, registry, community_id, platform_admin, marketplace_stub, citizen
):
    registry.setMarketplace(community_id, marketplace_stub, sender=platform_admin)
    before = token.treasuryBalance()
    tx = token.payFromTreasury(citizen, 3 * UNIT, sender=marketplace_stub)
    assert tx.events.filter(token.TreasuryPaid) == [
        token.TreasuryPaid(to=citizen, amount=3 * UNIT, by=marketplace_stub)
    ]
    assert token.balanceOf(citizen) == 8 * UNIT and token.treasuryBalance() == before - 3 * UNIT
    with ape.reverts(token.CommunityTokenTreasuryInsufficient):
        token.payFromTreasury(citizen, 10**30, sender=marketplace_stub)


def test_incentive_is_paid_while_treasury_can_afford_it(
    token, registry, community_id, platform_admin, marketplace_stub, citizen
):
    registry.setMarketplace(community_id, marketplace_stub, sender=platform_admin)
    available = token.treasuryBalance()
    token.payIncentive(citizen, available + 10 * UNIT, sender=marketplace_stub)
    assert token.treasuryBalance() == 0
    assert token.balanceOf(citizen) == 5 * UNIT + available
    tx = token.payIncentive(citizen, UNIT, sender=marketplace_stub)
    assert not tx.events.filter(token.TreasuryPaid)


def test_community_contract_escrow_moves_without_fee(
    token, registry, community_id, platform_admin, marketplace_stub, citizen, neighbour
):
    registry.setMarketplace(community_id, marketplace_stub, sender=platform_admin)
    token.approve(marketplace_stub, 2 * UNIT, sender=citizen)
    token.transferFrom(citizen, marketplace_stub, 2 * UNIT, sender=marketplace_stub)
    assert token.balanceOf(marketplace_stub) == 2 * UNIT
    token.transfer(neighbour, 2 * UNIT, sender=marketplace_stub)
    assert token.balanceOf(neighbour) == 7 * UNIT


def test_only_community_contracts_and_registry(token, outsider, citizen):
    with ape.reverts(token.CommunityTokenNotCommunityContract):
        token.payFromTreasury(citizen, 1, sender=outsider)
    with ape.reverts(token.CommunityTokenNotCommunityContract):
        token.payIncentive(citizen, 1, sender=outsider)
    with ape.reverts(token.CommunityTokenOnlyRegistry):
        token.setCommunityContract(outsider, True, sender=outsider)
