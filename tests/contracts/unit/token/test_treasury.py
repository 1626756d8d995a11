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


def test_community_contract_pays_from_treasury(token, marketplace_stub, citizen, outsider):
    before = token.treasuryBalance()
    tx = marketplace_stub.payFromTreasury(citizen, 3 * UNIT, sender=outsider)
    assert tx.events.filter(token.TreasuryPaid) == [
        token.TreasuryPaid(to=citizen, amount=3 * UNIT, by=marketplace_stub)
    ]
    assert token.balanceOf(citizen) == 8 * UNIT and token.treasuryBalance() == before - 3 * UNIT
    with ape.reverts(token.CommunityTokenTreasuryInsufficient, balance=before - 3 * UNIT, needed=10**30):
        marketplace_stub.payFromTreasury(citizen, 10**30, sender=outsider)


def test_incentive_is_paid_while_treasury_can_afford_it(token, marketplace_stub, citizen, outsider):
    available = token.treasuryBalance()
    marketplace_stub.payIncentive(citizen, available + 10 * UNIT, 0, sender=outsider)
    assert token.treasuryBalance() == 0
    assert token.balanceOf(citizen) == 5 * UNIT + available
    tx = marketplace_stub.payIncentive(citizen, UNIT, 0, sender=outsider)
    assert not tx.events.filter(token.TreasuryPaid)


def test_budgeted_incentive_is_paid_within_the_members_budget(
    token, token_admin, marketplace_stub, citizen, neighbour, outsider, chain
):
    """The part of an incentive the marketplace marks as budgeted (above the deal's own fee) is paid only while the
    recipient's budget for the epoch lasts; the budget refills in the next epoch."""
    token.setIncentiveBudget(0, sender=token_admin)
    assert token.incentiveBudget() == 0 and token.incentiveBudgetLeft(citizen) == 0
    tx = marketplace_stub.payIncentive(citizen, 3 * UNIT, 2 * UNIT, sender=outsider)
    assert tx.events.filter(token.TreasuryPaid)[0].amount == UNIT  # only the free part
    assert token.setIncentiveBudget(2 * UNIT, sender=token_admin).events == [
        token.IncentiveBudgetSet(perMemberPerEpoch=2 * UNIT)
    ]
    epoch = token.incentiveEpoch()
    tx = marketplace_stub.payIncentive(citizen, 3 * UNIT, 3 * UNIT, sender=outsider)
    assert tx.events.filter(token.IncentiveBudgetSpent) == [
        token.IncentiveBudgetSpent(account=citizen, epoch=epoch, spent=2 * UNIT)
    ]
    assert tx.events.filter(token.TreasuryPaid)[0].amount == 2 * UNIT
    assert token.incentiveBudgetLeft(citizen) == 0 and token.incentiveBudgetLeft(neighbour) == 2 * UNIT
    assert not marketplace_stub.payIncentive(citizen, UNIT, UNIT, sender=outsider).events.filter(token.TreasuryPaid)
    chain.pending_timestamp = (epoch + 1) * token.INCENTIVE_EPOCH()
    marketplace_stub.payIncentive(citizen, UNIT, UNIT, sender=outsider)
    assert token.incentiveBudgetLeft(citizen) == UNIT
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.setIncentiveBudget(UNIT, sender=outsider)


def test_community_contract_escrow_moves_without_fee(token, marketplace_stub, citizen, neighbour, outsider):
    token.approve(marketplace_stub, 2 * UNIT, sender=citizen)
    marketplace_stub.pull(citizen, 2 * UNIT, sender=outsider)
    assert token.balanceOf(marketplace_stub) == 2 * UNIT
    marketplace_stub.send(neighbour, 2 * UNIT, sender=outsider)
    assert token.balanceOf(neighbour) == 7 * UNIT


def test_only_community_contracts_and_registry(token, outsider, citizen):
    with ape.reverts(token.CommunityTokenNotCommunityContract, caller=outsider.address):
        token.payFromTreasury(citizen, 1, sender=outsider)
    with ape.reverts(token.CommunityTokenNotCommunityContract, caller=outsider.address):
        token.payIncentive(citizen, 1, 0, sender=outsider)
    with ape.reverts(token.CommunityTokenOnlyRegistry, caller=outsider.address):
        token.setCommunityContract(outsider, True, sender=outsider)
