import ape
from contract_helpers import PERIOD, UNIT, proof_of


def test_claim_mints_reward_against_notarised_root(token, publish, citizen, neighbour):
    tree = publish({citizen: 3 * UNIT, neighbour: UNIT})
    supply = token.totalSupply()
    tx = token.claim(PERIOD, 3 * UNIT, proof_of(tree, citizen, 3 * UNIT), sender=citizen)
    assert tx.events.filter(token.RewardClaimed) == [
        token.RewardClaimed(periodId=PERIOD, account=citizen, amount=3 * UNIT, version=1)
    ]
    assert token.balanceOf(citizen) == 8 * UNIT and token.totalSupply() == supply + 3 * UNIT
    assert token.claimed(PERIOD, citizen) == 3 * UNIT and token.claimedTotal(PERIOD) == 3 * UNIT


def test_claim_for_sends_tokens_to_the_member(token, publish, citizen, neighbour, relayer):
    tree = publish({citizen: 3 * UNIT, neighbour: UNIT})
    token.claimFor(neighbour, PERIOD, UNIT, proof_of(tree, neighbour, UNIT), sender=relayer)
    assert token.balanceOf(neighbour) == 6 * UNIT and token.balanceOf(relayer) == 0


def test_claim_for_is_the_member_itself_or_the_relayer(token, publish, citizen, neighbour, outsider, oracle_admin):
    """Nobody else may pay a member under a record the oracle may be about to correct (issue 12, finding 1)."""
    tree = publish({citizen: 3 * UNIT, neighbour: UNIT})
    proof = proof_of(tree, neighbour, UNIT)
    for stranger in (outsider, citizen, oracle_admin):
        with ape.reverts(token.CommunityTokenUnauthorizedRelayer, caller=stranger.address, account=neighbour.address):
            token.claimFor(neighbour, PERIOD, UNIT, proof, sender=stranger)
    token.claimFor(neighbour, PERIOD, UNIT, proof, sender=neighbour)
    assert token.claimed(PERIOD, neighbour) == UNIT


def test_a_leaf_is_claimed_once(token, publish, citizen, neighbour, relayer):
    tree = publish({citizen: 3 * UNIT, neighbour: UNIT})
    proof = proof_of(tree, citizen, 3 * UNIT)
    token.claim(PERIOD, 3 * UNIT, proof, sender=citizen)
    with ape.reverts(token.CommunityTokenNothingToClaim, account=citizen.address, amount=3 * UNIT, claimed=3 * UNIT):
        token.claimFor(citizen, PERIOD, 3 * UNIT, proof, sender=relayer)


def test_wrong_amount_account_or_proof_is_refused(token, publish, citizen, neighbour, shop):
    tree = publish({citizen: 3 * UNIT, neighbour: UNIT})
    with ape.reverts(token.CommunityTokenInvalidProof):
        token.claim(PERIOD, 4 * UNIT, proof_of(tree, citizen, 3 * UNIT), sender=citizen)
    with ape.reverts(token.CommunityTokenInvalidProof):
        token.claim(PERIOD, 3 * UNIT, proof_of(tree, citizen, 3 * UNIT), sender=shop)
    with ape.reverts(token.CommunityTokenInvalidProof):
        token.claim(PERIOD, 3 * UNIT, [], sender=citizen)


def test_period_not_notarised(token, citizen):
    with ape.reverts(token.CommunityTokenPeriodNotNotarised):
        token.claim(20260101, UNIT, [], sender=citizen)


def test_claims_never_exceed_the_period_total(token, publish, citizen, neighbour):
    # An inconsistent record (total below the sum of its leaves) cannot mint more than its total.
    tree = publish({citizen: 3 * UNIT, neighbour: 2 * UNIT}, total=4 * UNIT)
    token.claim(PERIOD, 3 * UNIT, proof_of(tree, citizen, 3 * UNIT), sender=citizen)
    with ape.reverts(token.CommunityTokenPeriodTotalExceeded, periodId=PERIOD, requested=2 * UNIT, available=UNIT):
        token.claim(PERIOD, 2 * UNIT, proof_of(tree, neighbour, 2 * UNIT), sender=neighbour)
    assert token.claimedTotal(PERIOD) == 3 * UNIT


def test_correction_pays_only_the_difference(token, publish, citizen, neighbour):
    first = publish({citizen: 3 * UNIT, neighbour: UNIT})
    token.claim(PERIOD, 3 * UNIT, proof_of(first, citizen, 3 * UNIT), sender=citizen)
    second = publish({citizen: 4 * UNIT, neighbour: UNIT}, correct_reason="meter 12 re-read")
    # The old leaf no longer proves anything: only the latest version counts.
    with ape.reverts(token.CommunityTokenInvalidProof):
        token.claim(PERIOD, UNIT, proof_of(first, neighbour, UNIT), sender=neighbour)
    tx = token.claim(PERIOD, 4 * UNIT, proof_of(second, citizen, 4 * UNIT), sender=citizen)
    assert tx.events.filter(token.RewardClaimed) == [
        token.RewardClaimed(periodId=PERIOD, account=citizen, amount=UNIT, version=2)
    ]
    assert token.claimed(PERIOD, citizen) == 4 * UNIT and token.balanceOf(citizen) == 9 * UNIT


def test_lowered_correction_gives_nothing_more(token, publish, citizen, neighbour):
    first = publish({citizen: 3 * UNIT, neighbour: UNIT})
    token.claim(PERIOD, 3 * UNIT, proof_of(first, citizen, 3 * UNIT), sender=citizen)
    second = publish({citizen: 2 * UNIT, neighbour: UNIT}, correct_reason="double counted PV")
    with ape.reverts(token.CommunityTokenNothingToClaim):
        token.claim(PERIOD, 2 * UNIT, proof_of(second, citizen, 2 * UNIT), sender=citizen)


def test_claims_need_an_active_member_and_no_pause(token, publish, citizen, neighbour, community_admin, token_admin):
    tree = publish({citizen: 3 * UNIT, neighbour: UNIT})
    token.pause(sender=token_admin)
    with ape.reverts(token.EnforcedPause):
        token.claim(PERIOD, 3 * UNIT, proof_of(tree, citizen, 3 * UNIT), sender=citizen)
    token.unpause(sender=token_admin)
    token.removeMember(neighbour, sender=community_admin)
    with ape.reverts(token.CommunityTokenNotMember):
        token.claim(PERIOD, UNIT, proof_of(tree, neighbour, UNIT), sender=neighbour)


def test_only_the_notary_opens_periods(token, outsider):
    with ape.reverts(token.CommunityTokenOnlyNotary):
        token.openPeriod(20260101, sender=outsider)


def test_notarising_opens_the_period_with_nothing_claimed(token, publish, citizen):
    assert token.claimedTotal(PERIOD) == 0
    publish({citizen: UNIT})
    assert token.claimedTotal(PERIOD) == 0
