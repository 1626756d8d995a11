"""Notary.notarisePoll: the living lab's poll results (docs/living-lab.md). Only a community admin of that community
notarises, once per poll; the record is read back and a ballot leaf proves against it."""

import ape
import pytest

from lec.lab.polls import BALLOT_LEAF_ENCODING, ballot_key
from oracle.proofs.merkle import StandardMerkleTree

TALLY = "0x" + "22" * 32
POLL = 7


@pytest.fixture
def ballots(citizen, neighbour, shop):
    leaves = [
        (ballot_key(bytes([i + 1]) * 32, a.address, POLL), c)
        for i, (a, c) in enumerate([(citizen, 0), (neighbour, 1), (shop, 1)])
    ]
    return leaves, StandardMerkleTree.of(leaves, BALLOT_LEAF_ENCODING)


def test_community_admin_notarises_a_poll_once(notary, community_id, community_admin, ballots, chain):
    leaves, tree = ballots
    tx = notary.notarisePoll(community_id, POLL, tree.root, TALLY, 3, sender=community_admin)
    assert tx.events.filter(notary.PollNotarised) == [
        notary.PollNotarised(
            communityId=community_id, pollId=POLL, ballotsRoot=tree.root, tallyHash=TALLY, ballotCount=3
        )
    ]
    rec = notary.pollRecord(community_id, POLL)
    assert (rec.ballotsRoot.hex(), rec.tallyHash.hex(), rec.ballotCount) == (tree.root[2:], TALLY[2:], 3)
    assert rec.publisher == community_admin.address
    for leaf in leaves:
        assert notary.verifyBallotLeaf(community_id, POLL, leaf[0], leaf[1], tree.get_proof(leaf))
    key, choice = leaves[0]
    assert not notary.verifyBallotLeaf(community_id, POLL, key, 1 - choice, tree.get_proof(leaves[0]))
    with ape.reverts(notary.NotaryPollExists, communityId=community_id, pollId=POLL):
        notary.notarisePoll(community_id, POLL, "0x" + "33" * 32, TALLY, 3, sender=community_admin)


@pytest.mark.parametrize("who", ["oracle_admin", "citizen", "outsider", "platform_admin"])
def test_only_a_community_admin_notarises(notary, community_id, ballots, request, who):
    account = request.getfixturevalue(who)
    with ape.reverts(notary.NotaryNotCommunityAdmin, communityId=community_id, account=account.address):
        notary.notarisePoll(community_id, POLL + 1, ballots[1].root, TALLY, 3, sender=account)


def test_an_admin_of_another_community_cannot_notarise_here(
    notary, make_community, community_id, ballots, other_admins
):
    make_community("Elsewhere", admins=other_admins)
    with ape.reverts(notary.NotaryNotCommunityAdmin):
        notary.notarisePoll(community_id, POLL + 2, ballots[1].root, TALLY, 3, sender=other_admins["community_admin"])


def test_unknown_community_and_empty_results_are_refused(notary, community_id, community_admin, ballots):
    with ape.reverts(notary.NotaryUnknownCommunity, communityId=999):
        notary.notarisePoll(999, POLL, ballots[1].root, TALLY, 3, sender=community_admin)
    with ape.reverts(notary.NotaryEmptyPoll):
        notary.notarisePoll(community_id, POLL + 3, ballots[1].root, "0x" + "00" * 32, 3, sender=community_admin)
    with ape.reverts(notary.NotaryEmptyPoll):
        notary.notarisePoll(community_id, POLL + 3, "0x" + "00" * 32, TALLY, 3, sender=community_admin)
    notary.notarisePoll(community_id, POLL + 3, "0x" + "00" * 32, TALLY, 0, sender=community_admin)  # nobody voted


def test_reading_a_poll_never_notarised_is_refused(notary, community_id):
    with ape.reverts(notary.NotaryPollNotFound, communityId=community_id, pollId=12345):
        notary.pollRecord(community_id, 12345)
