"""Corrections of a period (issue 12, finding 1): whatever an earlier version paid, every member can be brought up to
its amount in the latest version, `max(0, new - paid)`; an over-payment is recorded, never taken back; and only the
member or the relayer may claim on a member's behalf (docs/proofs.md, "Corrections")."""

from __future__ import annotations

import ape
import pytest
from contract_helpers import PERIOD, UNIT, proof_of


@pytest.mark.parametrize(
    "corrected",
    [
        pytest.param({"A": 1, "B": 3}, id="redistributed"),
        pytest.param({"A": 2, "B": 1}, id="lowered-B-unchanged"),
    ],
)
def test_a_correction_never_locks_a_member_out(token, publish, citizen, neighbour, relayer, corrected):
    """The audit's lock-out: v1 = {A: 3, B: 1}, A is paid 3 the moment v1 lands; a correction then made B's claim
    revert with PeriodTotalExceeded forever."""
    a, b = citizen, neighbour
    first = publish({a: 3 * UNIT, b: UNIT})
    token.claimFor(a, PERIOD, 3 * UNIT, proof_of(first, a, 3 * UNIT), sender=relayer)
    second = publish({a: corrected["A"] * UNIT, b: corrected["B"] * UNIT}, correct_reason="meter 12 re-read")
    before = token.balanceOf(b)
    tx = token.claim(PERIOD, corrected["B"] * UNIT, proof_of(second, b, corrected["B"] * UNIT), sender=b)
    assert tx.events.filter(token.RewardClaimed) == [
        token.RewardClaimed(periodId=PERIOD, account=b, amount=corrected["B"] * UNIT, version=2)
    ]
    assert token.balanceOf(b) == before + corrected["B"] * UNIT
    # A was paid above its new amount: recorded (anyone may show it), not taken back.
    overpaid = (3 - corrected["A"]) * UNIT
    tx = token.recordOverpayment(a, PERIOD, corrected["A"] * UNIT, proof_of(second, a, corrected["A"] * UNIT), sender=b)
    assert tx.events == [token.RewardOverpaymentRecorded(periodId=PERIOD, account=a, version=2, overpaid=overpaid)]
    assert token.overpaid(PERIOD, a) == token.overpaidTotal(PERIOD) == overpaid
    assert token.claimed(PERIOD, a) == 3 * UNIT and token.claimedTotal(PERIOD) == (3 + corrected["B"]) * UNIT


def test_an_over_payment_is_recorded_once_per_version_and_cleared_by_a_raise(token, publish, citizen, neighbour):
    first = publish({citizen: 3 * UNIT, neighbour: UNIT})
    token.claim(PERIOD, 3 * UNIT, proof_of(first, citizen, 3 * UNIT), sender=citizen)
    with ape.reverts(
        token.CommunityTokenNotOverpaid, account=neighbour.address, periodId=PERIOD, amount=UNIT, claimed=0
    ):
        token.recordOverpayment(neighbour, PERIOD, UNIT, proof_of(first, neighbour, UNIT), sender=citizen)
    lowered = publish({citizen: UNIT, neighbour: UNIT}, correct_reason="double counted PV")
    proof = proof_of(lowered, citizen, UNIT)
    token.recordOverpayment(citizen, PERIOD, UNIT, proof, sender=neighbour)
    with ape.reverts(token.CommunityTokenLeafSettled, account=citizen.address, periodId=PERIOD, version=2):
        token.recordOverpayment(citizen, PERIOD, UNIT, proof, sender=neighbour)
    with ape.reverts(token.CommunityTokenNothingToClaim, account=citizen.address, amount=UNIT, claimed=3 * UNIT):
        token.claim(PERIOD, UNIT, proof, sender=citizen)
    raised = publish({citizen: 4 * UNIT, neighbour: UNIT}, correct_reason="meter 7 replaced")
    tx = token.claim(PERIOD, 4 * UNIT, proof_of(raised, citizen, 4 * UNIT), sender=citizen)
    assert tx.events.filter(token.RewardOverpaymentRecorded) == [
        token.RewardOverpaymentRecorded(periodId=PERIOD, account=citizen, version=3, overpaid=0)
    ]
    assert tx.events.filter(token.RewardClaimed)[0].amount == UNIT
    assert token.overpaid(PERIOD, citizen) == token.overpaidTotal(PERIOD) == 0


def test_every_leaf_of_a_version_counts_once_against_its_total(token, publish, citizen, neighbour, shop):
    """An inconsistent record (leaves above its total) still cannot mint more than its total, version by version."""
    first = publish({citizen: 2 * UNIT, neighbour: 2 * UNIT})
    token.claim(PERIOD, 2 * UNIT, proof_of(first, citizen, 2 * UNIT), sender=citizen)
    second = publish({citizen: 3 * UNIT, neighbour: 2 * UNIT, shop: 2 * UNIT}, total=5 * UNIT, correct_reason="x")
    token.claim(PERIOD, 3 * UNIT, proof_of(second, citizen, 3 * UNIT), sender=citizen)  # counts 3 of 5, mints 1
    token.claim(PERIOD, 2 * UNIT, proof_of(second, neighbour, 2 * UNIT), sender=neighbour)  # 5 of 5
    with ape.reverts(token.CommunityTokenPeriodTotalExceeded, periodId=PERIOD, requested=2 * UNIT, available=0):
        token.claim(PERIOD, 2 * UNIT, proof_of(second, shop, 2 * UNIT), sender=shop)
    assert token.claimedTotal(PERIOD) == 5 * UNIT
