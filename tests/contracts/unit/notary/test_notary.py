import ape
import pytest
from contract_helpers import PERIOD, UNIT

from oracle.proofs.merkle import StandardMerkleTree

DATA = "0x" + "11" * 32
REWARDS = "0x" + "33" * 32
AGG = "0x" + "22" * 32


@pytest.fixture
def args(community_id, model_id):
    return [community_id, PERIOD, DATA, REWARDS, AGG, model_id, 10 * UNIT, 42]


def test_notarise_appends_version_one(notary, args, oracle_admin, community_id, model_id, chain):
    tx = notary.notarise(*args, sender=oracle_admin)
    assert tx.events.filter(notary.PeriodNotarised) == [
        notary.PeriodNotarised(
            communityId=community_id,
            periodId=PERIOD,
            version=1,
            dataRoot=DATA,
            rewardsRoot=REWARDS,
            aggregatesHash=AGG,
            modelId=model_id,
            totalRewards=10 * UNIT,
            leafCount=42,
        )
    ]
    assert notary.latestVersion(community_id, PERIOD) == 1
    rec = notary.record(community_id, PERIOD, 1)
    assert (rec.dataRoot.hex(), rec.rewardsRoot.hex(), rec.aggregatesHash.hex()) == (DATA[2:], REWARDS[2:], AGG[2:])
    assert (rec.modelId, rec.totalRewards, rec.leafCount, rec.version) == (model_id, 10 * UNIT, 42, 1)
    assert rec.publisher == oracle_admin.address
    assert notary.latest(community_id, PERIOD) == rec
    assert notary.latestRewards(community_id, PERIOD) == (1, bytes.fromhex(REWARDS[2:]), 10 * UNIT)


def test_first_record_opens_the_period_on_the_token(notary, args, oracle_admin, community):
    _, token = community
    tx = notary.notarise(*args, sender=oracle_admin)
    assert tx.events.filter(token.PeriodOpened) == [token.PeriodOpened(periodId=PERIOD)]
    corrected = notary.correct(*args, "re-read", sender=oracle_admin)
    assert not corrected.events.filter(token.PeriodOpened)


def test_a_period_is_notarised_once(notary, args, oracle_admin):
    notary.notarise(*args, sender=oracle_admin)
    with ape.reverts(notary.NotaryPeriodExists):
        notary.notarise(*args, sender=oracle_admin)


def test_correction_is_a_new_version_and_keeps_the_old(notary, args, oracle_admin, community_id):
    notary.notarise(*args, sender=oracle_admin)
    corrected = list(args)
    corrected[3] = "0x" + "44" * 32
    tx = notary.correct(*corrected, "meter 7 replaced", sender=oracle_admin)
    assert tx.events.filter(notary.PeriodCorrected) == [
        notary.PeriodCorrected(
            communityId=community_id, periodId=PERIOD, version=2, previousVersion=1, reason="meter 7 replaced"
        )
    ]
    assert notary.latestVersion(community_id, PERIOD) == 2
    assert notary.record(community_id, PERIOD, 1).rewardsRoot.hex() == REWARDS[2:]
    assert notary.record(community_id, PERIOD, 2).rewardsRoot.hex() == "44" * 32


def test_correction_refusals(notary, args, oracle_admin):
    with ape.reverts(notary.NotaryPeriodNotFound):
        notary.correct(*args, "why", sender=oracle_admin)
    notary.notarise(*args, sender=oracle_admin)
    with ape.reverts(notary.NotaryEmptyReason):
        notary.correct(*args, "", sender=oracle_admin)


def test_only_oracle_admin_of_that_community(notary, args, outsider, make_community, oracle_admin, other_admins):
    with ape.reverts(notary.NotaryUnauthorized):
        notary.notarise(*args, sender=outsider)
    other_id, _ = make_community("Altra", "ALT", admins=other_admins)
    foreign = list(args)
    foreign[0] = other_id
    with ape.reverts(notary.NotaryUnauthorized):
        notary.notarise(*foreign, sender=oracle_admin)
    foreign[0] = 999
    with ape.reverts(notary.NotaryUnknownCommunity):
        notary.notarise(*foreign, sender=oracle_admin)


@pytest.mark.parametrize("period", [0, 20261301, 20260100, 20260132, 19991231, 202603150])
def test_period_must_be_a_date(notary, args, oracle_admin, period):
    args[1] = period
    with ape.reverts(notary.NotaryInvalidPeriod):
        notary.notarise(*args, sender=oracle_admin)


def test_model_must_exist_and_roots_be_present(notary, args, oracle_admin):
    bad = list(args)
    bad[5] = 999
    with ape.reverts(notary.NotaryUnknownModel):
        notary.notarise(*bad, sender=oracle_admin)
    bad = list(args)
    bad[3] = "0x" + "00" * 32
    with ape.reverts(notary.NotaryMissingRoot):
        notary.notarise(*bad, sender=oracle_admin)
    bad = list(args)
    bad[2] = "0x" + "00" * 32
    with ape.reverts(notary.NotaryMissingRoot):
        notary.notarise(*bad, sender=oracle_admin)
    bad = list(args)
    bad[6] = 2**96  # the token packs each account's claim into 96 bits
    with ape.reverts(notary.NotaryValueTooLarge, field="totalRewards", value=2**96):
        notary.notarise(*bad, sender=oracle_admin)


def test_unknown_versions(notary, args, oracle_admin, community_id):
    with ape.reverts(notary.NotaryPeriodNotFound):
        notary.latest(community_id, PERIOD)
    assert notary.latestRewards(community_id, PERIOD) == (0, b"\x00" * 32, 0)
    notary.notarise(*args, sender=oracle_admin)
    for version in (0, 2):
        with ape.reverts(notary.NotaryVersionNotFound):
            notary.record(community_id, PERIOD, version)


def test_verify_leaves_against_roots(notary, community_id, model_id, oracle_admin, accounts):
    data = StandardMerkleTree.of([["0x" + f"{i:064x}", "0x" + f"{i * 7:064x}"] for i in range(1, 6)], ["bytes32"] * 2)
    rewards = StandardMerkleTree.of([[accounts[i].address, i * UNIT] for i in range(1, 6)], ["address", "uint256"])
    notary.notarise(community_id, PERIOD, data.root, rewards.root, AGG, model_id, 15 * UNIT, 5, sender=oracle_admin)
    key, readings = data.values[2]
    assert notary.verifyDataLeaf(community_id, PERIOD, 1, key, readings, data.get_proof(2))
    assert not notary.verifyDataLeaf(community_id, PERIOD, 1, key, "0x" + "00" * 32, data.get_proof(2))
    proof = rewards.get_proof([accounts[3].address, 3 * UNIT])
    assert notary.verifyRewardLeaf(community_id, PERIOD, 1, accounts[3], 3 * UNIT, proof)
    assert not notary.verifyRewardLeaf(community_id, PERIOD, 1, accounts[3], 3 * UNIT + 1, proof)
