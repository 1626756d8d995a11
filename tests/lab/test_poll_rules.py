"""The ballot rules of `lec.lab.polls`, pure: EIP-712 signatures bound to the poll, the snapshot, the window, one
counted ballot per member with replacement by a newer nonce, and the tally (stateful, against a model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from lec.lab import polls as rules
from lec.lab.polls import BallotRefused, PollIdentity, PollState, Window
from oracle.proofs.merkle import StandardMerkleTree

NOTARY = "0x" + "ab" * 20
POLL = PollIdentity(1981, NOTARY, 1, 7, rules.question_hash("Bike racks?", ["Yes", "No"]))
ANNA, BRUNO, CARLA = Account.create(), Account.create(), Account.create()
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
OPEN = Window(PollState.OPEN, T0, T0 + timedelta(days=2))


def sign(account, poll: PollIdentity = POLL, choice: int = 0, nonce: int = 1) -> str:
    signed = Account.sign_typed_data(account.key, full_message=rules.typed_data(poll, choice, nonce))
    return "0x" + signed.signature.hex().removeprefix("0x")


def check(
    signer_account,
    *,
    poll=POLL,
    choice=0,
    nonce=1,
    signature=None,
    wallet=None,
    snapshot=None,
    previous=None,
    now=T0 + timedelta(hours=1),
    window=OPEN,
) -> str:
    sig = signature or sign(signer_account, poll, choice, nonce)
    signer = rules.recover_voter(POLL, choice, nonce, sig)
    rules.check_ballot(
        window,
        now,
        2,
        choice,
        nonce,
        signer,
        wallet if wallet is not None else signer_account.address,
        snapshot if snapshot is not None else [ANNA.address, BRUNO.address],
        previous,
    )
    return signer


def refused(reason: str, **kwargs) -> None:
    with pytest.raises(BallotRefused) as info:
        check(kwargs.pop("who", ANNA), **kwargs)
    assert info.value.reason == reason
    assert str(info.value)  # a sentence for the member


def test_a_members_signed_ballot_recovers_their_wallet():
    assert check(ANNA) == ANNA.address


def test_ballot_signed_for_another_poll_is_refused():
    other = PollIdentity(1981, NOTARY, 1, 8, POLL.question_hash)
    refused("signature-mismatch", signature=sign(ANNA, other))


def test_ballot_signed_for_another_chain_id_is_refused():
    other = PollIdentity(1, NOTARY, 1, 7, POLL.question_hash)
    refused("signature-mismatch", signature=sign(ANNA, other))


def test_ballot_signed_for_another_question_is_refused():
    other = PollIdentity(1981, NOTARY, 1, 7, rules.question_hash("Bike racks?", ["Yes", "No", "Later"]))
    refused("signature-mismatch", signature=sign(ANNA, other))


def test_a_members_signature_sent_by_another_member_is_refused():
    """Colluding members: Bruno posts Anna's signed ballot as his own; it is not his wallet's signature."""
    refused("signature-mismatch", signature=sign(ANNA), wallet=BRUNO.address, who=BRUNO)


def test_non_member_is_refused():
    refused("not-in-snapshot", who=CARLA)


def test_member_who_joined_after_the_snapshot_is_refused():
    """Carla is an active member now, but the snapshot was taken before she joined."""
    refused("not-in-snapshot", who=CARLA, snapshot=[ANNA.address, BRUNO.address])


def test_replayed_signature_is_refused():
    refused("replayed", nonce=5, previous=5)
    refused("replayed", nonce=4, previous=5)
    assert check(ANNA, nonce=6, previous=5) == ANNA.address


def test_ballot_after_the_end_or_after_close_is_refused():
    refused("closed", now=OPEN.ends_at)
    refused("closed", window=Window(PollState.CLOSED, OPEN.starts_at, OPEN.ends_at))


def test_ballot_before_the_start_or_on_a_draft_is_refused():
    refused("not-open", now=T0 - timedelta(seconds=1))
    refused("not-open", window=Window(PollState.DRAFT, OPEN.starts_at, OPEN.ends_at))


def test_choice_outside_the_options_is_refused():
    refused("bad-choice", choice=2)


@pytest.mark.parametrize("signature", ["0x1234", "0x" + "zz" * 65, "0x" + "00" * 65])
def test_a_malformed_signature_is_refused(signature):
    with pytest.raises(BallotRefused) as info:
        rules.recover_voter(POLL, 0, 1, signature)
    assert info.value.reason == "bad-signature"


def test_options_must_be_two_to_ten_distinct_texts():
    assert rules.check_options([" Yes ", "No"]) == ["Yes", "No"]
    for bad in (["Only"], ["Yes", "yes"], ["Yes", " "], [str(i) for i in range(11)]):
        with pytest.raises(ValueError):
            rules.check_options(bad)


def test_ballot_key_depends_on_salt_voter_and_poll():
    salt = b"\x01" * 32
    key = rules.ballot_key(salt, ANNA.address, 7)
    assert (
        len(
            {
                key,
                rules.ballot_key(b"\x02" * 32, ANNA.address, 7),
                rules.ballot_key(salt, BRUNO.address, 7),
                rules.ballot_key(salt, ANNA.address, 8),
            }
        )
        == 4
    )


def test_tally_hash_binds_counts_eligible_and_poll():
    base = rules.tally_hash(POLL, 3, [2, 1])
    assert base != rules.tally_hash(POLL, 3, [1, 2])
    assert base != rules.tally_hash(POLL, 4, [2, 1])
    assert base != rules.tally_hash(PollIdentity(1981, NOTARY, 1, 8, POLL.question_hash), 3, [2, 1])


class PollMachine(RuleBasedStateMachine):
    """Members send ballots (new, replacing, replayed, from outside the snapshot); the counted ballots always match
    a model that keeps each snapshot member's newest ballot, and the tree's leaves prove the tally."""

    VOTERS = [Account.create() for _ in range(4)]
    OUTSIDER = Account.create()

    def __init__(self) -> None:
        super().__init__()
        self.snapshot = [v.address for v in self.VOTERS[:3]]  # the fourth joined after the poll opened
        self.counted: dict[str, tuple[int, int]] = {}  # voter -> (nonce, choice), as the service keeps them
        self.model: dict[str, int] = {}

    @rule(who=st.integers(0, 4), choice=st.integers(0, 2), step=st.integers(-2, 3))
    def send(self, who: int, choice: int, step: int) -> None:
        account = self.OUTSIDER if who == 4 else self.VOTERS[who]
        previous = self.counted.get(account.address)
        nonce = max(1, (previous[0] if previous else 1) + step)
        sig = sign(account, choice=choice, nonce=nonce)
        signer = rules.recover_voter(POLL, choice, nonce, sig)
        try:
            rules.check_ballot(
                OPEN, T0, 3, choice, nonce, signer, account.address, self.snapshot, previous[0] if previous else None
            )
        except BallotRefused as exc:
            in_snapshot = account.address in self.snapshot
            assert exc.reason == ("not-in-snapshot" if not in_snapshot else "replayed")
            assert in_snapshot is False or (previous is not None and nonce <= previous[0])
            return
        assert account.address in self.snapshot
        self.counted[signer] = (nonce, choice)
        self.model[account.address] = choice

    @invariant()
    def one_ballot_per_member_and_the_tally_matches(self) -> None:
        counts = rules.tally((c for _, c in self.counted.values()), 3)
        assert counts == [sum(1 for c in self.model.values() if c == i) for i in range(3)]
        assert sum(counts) <= len(self.snapshot)
        if self.counted:
            leaves = [(rules.ballot_key(b"\x07" * 32, v, POLL.poll_id), c) for v, (_, c) in self.counted.items()]
            tree = StandardMerkleTree.of(leaves, rules.BALLOT_LEAF_ENCODING)
            for leaf in leaves:
                assert StandardMerkleTree.verify(tree.root, rules.BALLOT_LEAF_ENCODING, leaf, tree.get_proof(leaf))


PollMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=12)
TestPollMachine = PollMachine.TestCase
