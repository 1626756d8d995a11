import ape
import pytest
from contract_helpers import CITIZEN, CONSUMER, UNIT, ZERO_ADDRESS
from eth_account import Account
from eth_account.messages import encode_typed_data


def test_member_transfer_pays_fee_to_treasury(token, citizen, neighbour):
    treasury_before = token.treasuryBalance()
    tx = token.transfer(neighbour, 2 * UNIT, sender=citizen)
    fee = 2 * UNIT * 100 // 10_000
    assert tx.events.filter(token.Transfer) == [
        token.Transfer(**{"from": citizen, "to": token.address, "value": fee}),
        token.Transfer(**{"from": citizen, "to": neighbour, "value": 2 * UNIT - fee}),
    ]
    assert token.balanceOf(citizen) == 3 * UNIT
    assert token.balanceOf(neighbour) == 5 * UNIT + 2 * UNIT - fee
    assert token.treasuryBalance() == treasury_before + fee
    assert token.transferFeeOf(2 * UNIT) == fee


def test_transfer_to_treasury_pays_no_fee(token, citizen):
    before = token.treasuryBalance()
    token.transfer(token.address, UNIT, sender=citizen)
    assert token.treasuryBalance() == before + UNIT


def test_zero_fee_transfer(token, token_admin, citizen, neighbour):
    token.setTransferFee(0, sender=token_admin)
    tx = token.transfer(neighbour, UNIT, sender=citizen)
    assert tx.events.filter(token.Transfer) == [token.Transfer(**{"from": citizen, "to": neighbour, "value": UNIT})]
    assert token.balanceOf(neighbour) == 6 * UNIT


def test_closed_loop(token, citizen, outsider, community_admin):
    with ape.reverts(token.CommunityTokenNotMember):
        token.transfer(outsider, UNIT, sender=citizen)
    token.approve(outsider, UNIT, sender=citizen)
    with ape.reverts(token.CommunityTokenNotMember):
        token.transferFrom(citizen, outsider, UNIT, sender=outsider)
    # An outsider that somehow holds nothing cannot send either: the check names the sender.
    with ape.reverts(token.CommunityTokenNotMember):
        token.transfer(citizen, 0, sender=outsider)
    with ape.reverts(token.ERC20InvalidReceiver):
        token.transfer(ZERO_ADDRESS, UNIT, sender=citizen)


def test_transfer_from_with_allowance_pays_fee(token, citizen, neighbour, shop):
    token.approve(shop, 3 * UNIT, sender=citizen)
    token.transferFrom(citizen, neighbour, 3 * UNIT, sender=shop)
    assert token.balanceOf(neighbour) == 8 * UNIT - 3 * UNIT // 100
    assert token.allowance(citizen, shop) == 0


def test_pause_stops_transfers(token, token_admin, citizen, neighbour, outsider):
    tx = token.pause(sender=token_admin)
    assert tx.events == [token.Paused(account=token_admin)] and token.paused()
    with ape.reverts(token.EnforcedPause):
        token.pause(sender=token_admin)
    with ape.reverts(token.EnforcedPause):
        token.transfer(neighbour, UNIT, sender=citizen)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.unpause(sender=outsider)
    assert token.unpause(sender=token_admin).events == [token.Unpaused(account=token_admin)]
    assert not token.paused()
    with ape.reverts(token.ExpectedPause):
        token.unpause(sender=token_admin)
    token.transfer(neighbour, UNIT, sender=citizen)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.pause(sender=outsider)


def test_fee_cap(token, token_admin, outsider):
    tx = token.setTransferFee(1000, sender=token_admin)
    assert tx.events == [token.TransferFeeSet(previousBps=100, newBps=1000)]
    with ape.reverts(token.CommunityTokenAboveCap):
        token.setTransferFee(1001, sender=token_admin)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.setTransferFee(10, sender=outsider)


def sign_permit(token, chain, owner, spender, value, deadline, nonce=None, key=None):
    """(v, r, s) of an EIP-2612 permit signed with `key` (default: the owner's own key)."""
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": token.name(), "version": "1", "chainId": chain.chain_id, "verifyingContract": token.address},
        "message": {
            "owner": owner.address,
            "spender": spender.address,
            "value": value,
            "nonce": token.nonces(owner) if nonce is None else nonce,
            "deadline": deadline,
        },
    }
    signed = Account.sign_message(encode_typed_data(full_message=typed), key or owner.private_key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def test_permit_then_transfer_from(token, citizen, neighbour, shop, chain):
    deadline = chain.pending_timestamp + 3600
    v, r, s = sign_permit(token, chain, citizen, shop, UNIT, deadline)
    token.permit(citizen, shop, UNIT, deadline, v, r, s, sender=shop)
    assert token.allowance(citizen, shop) == UNIT and token.nonces(citizen) == 1
    token.transferFrom(citizen, neighbour, UNIT, sender=shop)
    assert token.balanceOf(neighbour) == 6 * UNIT - UNIT // 100


def test_permit_failures(token, citizen, neighbour, shop, chain):
    """An expired deadline, a signature by someone else than the owner, and a nonce used once already."""
    deadline = chain.pending_timestamp + 3600
    expired = chain.pending_timestamp - 1
    v, r, s = sign_permit(token, chain, citizen, shop, UNIT, expired)
    with ape.reverts(token.ERC2612ExpiredSignature, deadline=expired):
        token.permit(citizen, shop, UNIT, expired, v, r, s, sender=shop)
    v, r, s = sign_permit(token, chain, citizen, shop, UNIT, deadline, key=neighbour.private_key)
    with ape.reverts(token.ERC2612InvalidSigner, owner=citizen.address):
        token.permit(citizen, shop, UNIT, deadline, v, r, s, sender=shop)
    v, r, s = sign_permit(token, chain, citizen, shop, UNIT, deadline)
    token.permit(citizen, shop, UNIT, deadline, v, r, s, sender=shop)
    with ape.reverts(token.ERC2612InvalidSigner, owner=citizen.address):
        token.permit(citizen, shop, UNIT, deadline, v, r, s, sender=shop)  # the nonce moved on
    assert token.allowance(citizen, shop) == UNIT and token.nonces(citizen) == 1


def test_a_spender_outside_the_community_moves_tokens_between_members(token, citizen, neighbour, outsider):
    """The closed loop is about who holds tokens, not who sends the transaction: a non-member spender with an
    allowance (a relayer, a payment service) moves tokens between members, fee included, and never holds any."""
    token.approve(outsider, 2 * UNIT, sender=citizen)
    treasury = token.treasuryBalance()
    token.transferFrom(citizen, neighbour, 2 * UNIT, sender=outsider)
    assert token.balanceOf(neighbour) == 7 * UNIT - 2 * UNIT // 100
    assert token.treasuryBalance() == treasury + 2 * UNIT // 100 and token.balanceOf(outsider) == 0
    with ape.reverts(token.ERC20InsufficientAllowance, spender=outsider.address, allowance=0, needed=UNIT):
        token.transferFrom(citizen, neighbour, UNIT, sender=outsider)


@pytest.mark.parametrize("category,fee,incentive,venue", [(0, 100, 0, 0), (7, 1000, 5000, 5000)])
def test_category_policy(token, token_admin, category, fee, incentive, venue):
    tx = token.setCategoryPolicy(category, fee, incentive, venue, True, sender=token_admin)
    assert tx.events == [
        token.CategoryPolicySet(category=category, feeBps=fee, incentiveBps=incentive, venueBps=venue, enabled=True)
    ]
    policy = token.categoryPolicy(category)
    assert (policy.feeBps, policy.incentiveBps, policy.venueBps, policy.enabled) == (fee, incentive, venue, True)


def test_category_policy_refusals(token, token_admin, outsider):
    with ape.reverts(token.CommunityTokenInvalidCategory):
        token.setCategoryPolicy(8, 0, 0, 0, True, sender=token_admin)
    with ape.reverts(token.CommunityTokenInvalidCategory):
        token.categoryPolicy(8)
    for args in ((0, 1001, 0, 0), (0, 0, 5001, 0), (0, 0, 0, 5001)):
        with ape.reverts(token.CommunityTokenAboveCap):
            token.setCategoryPolicy(*args, True, sender=token_admin)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.setCategoryPolicy(0, 0, 0, 0, True, sender=outsider)


def test_new_member_joins_with_bonus_and_can_trade(token, community_admin, outsider, citizen):
    token.addMember(outsider, CITIZEN, CONSUMER, sender=community_admin)
    token.transfer(citizen, UNIT, sender=outsider)
    assert token.balanceOf(citizen) == 6 * UNIT - UNIT // 100
