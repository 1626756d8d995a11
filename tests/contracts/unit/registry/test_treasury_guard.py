"""Nobody holding one key can empty a community's treasury (issue 12, finding 3), and two communities' admins are
isolated from each other: each community has its own governor, community, token and oracle admins and relayer."""

from __future__ import annotations

import ape
import pytest
from contract_helpers import CITIZEN, CONSUMER, PERIOD, REWARD_LEAF, UNIT

from oracle.proofs.merkle import StandardMerkleTree


def test_the_platform_admin_cannot_pay_itself_the_treasury(project, registry, community, platform_admin):
    """The audit: setMarketplace accepted any address, so the platform admin registered its own wallet as the
    "marketplace" and called payFromTreasury."""
    community_id, token = community
    treasury = token.treasuryBalance()
    with ape.reverts(registry.RegistryInvalidMarketplace, communityId=community_id, marketplace=platform_admin.address):
        registry.setMarketplace(community_id, platform_admin, sender=platform_admin)
    with ape.reverts(token.CommunityTokenNotCommunityContract, caller=platform_admin.address):
        token.payFromTreasury(platform_admin, treasury, sender=platform_admin)
    # A contract of its own that looks like a marketplace passes the Registry's checks, but only the community's
    # governor can let it near the treasury.
    fake = project.MarketplaceStub.deploy(token, sender=platform_admin)
    registry.setMarketplace(community_id, fake, sender=platform_admin)
    with ape.reverts(registry.RegistryNotCommunityGovernor, communityId=community_id, account=platform_admin.address):
        registry.acceptMarketplace(community_id, fake, sender=platform_admin)
    with ape.reverts(token.CommunityTokenNotCommunityContract, caller=fake.address):
        fake.payFromTreasury(platform_admin, treasury, sender=platform_admin)
    assert token.treasuryBalance() == treasury and not token.isCommunityContract(fake)


@pytest.fixture
def two_communities(make_community, other_admins):
    first = make_community("Borgo Solare", "BSOL")
    second = make_community("Altra", "ALT", admins=other_admins)
    return first, second


def test_admins_of_two_communities_are_isolated(
    project,
    registry,
    notary,
    model_id,
    two_communities,
    platform_admin,
    governor,
    community_admin,
    token_admin,
    oracle_admin,
    relayer,
    other_admins,
    citizen,
    outsider,
):
    (first_id, first), (second_id, second) = two_communities
    for role in ("DEFAULT_ADMIN_ROLE", "COMMUNITY_ADMIN_ROLE", "TOKEN_ADMIN_ROLE", "ORACLE_ADMIN_ROLE", "RELAYER_ROLE"):
        for account in (governor, community_admin, token_admin, oracle_admin, relayer):
            assert not second.hasRole(getattr(second, role)(), account)
        for account in other_admins.values():
            assert not first.hasRole(getattr(first, role)(), account)
    with ape.reverts(second.AccessControlUnauthorizedAccount):
        second.addMember(citizen, CITIZEN, CONSUMER, sender=community_admin)
    with ape.reverts(second.AccessControlUnauthorizedAccount):
        second.setTransferFee(0, sender=token_admin)
    with ape.reverts(second.AccessControlUnauthorizedAccount):
        second.grantRole(second.COMMUNITY_ADMIN_ROLE(), governor, sender=governor)
    with ape.reverts(first.AccessControlUnauthorizedAccount):
        first.pause(sender=other_admins["token_admin"])
    tree = StandardMerkleTree.of([[citizen.address, UNIT]], REWARD_LEAF)
    record = (second_id, PERIOD, "0x" + "11" * 32, tree.root, "0x" + "22" * 32, model_id, UNIT, 1)
    with ape.reverts(notary.NotaryUnauthorized, communityId=second_id, account=oracle_admin.address):
        notary.notarise(*record, sender=oracle_admin)
    notary.notarise(*record, sender=other_admins["oracle_admin"])
    second.addMember(citizen, CITIZEN, CONSUMER, sender=other_admins["community_admin"])
    with ape.reverts(second.CommunityTokenUnauthorizedRelayer, caller=relayer.address, account=citizen.address):
        second.claimFor(citizen, PERIOD, UNIT, tree.get_proof(0), sender=relayer)
    second.claimFor(citizen, PERIOD, UNIT, tree.get_proof(0), sender=other_admins["relayer"])
    stub = project.MarketplaceStub.deploy(second, sender=outsider)
    registry.setMarketplace(second_id, stub, sender=platform_admin)
    with ape.reverts(registry.RegistryNotCommunityGovernor, communityId=second_id, account=governor.address):
        registry.acceptMarketplace(second_id, stub, sender=governor)
    registry.acceptMarketplace(second_id, stub, sender=other_admins["governor"])
    assert second.isCommunityContract(stub) and not first.isCommunityContract(stub)
