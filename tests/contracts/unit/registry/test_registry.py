import ape
import pytest
from contract_helpers import ZERO_ADDRESS


def test_create_community_deploys_token_and_grants_admin(project, registry, notary, platform_admin, community_admin):
    tx = registry.createCommunity("Borgo Solare", "BSOL", community_admin, sender=platform_admin)
    community_id = registry.communityCount()
    token_address = registry.tokenOf(community_id)
    assert tx.events.filter(registry.CommunityCreated) == [
        registry.CommunityCreated(
            communityId=community_id, name="Borgo Solare", token=token_address, admin=community_admin
        )
    ]
    c = registry.community(community_id)
    assert (c.name, c.token, c.marketplace, c.admin) == ("Borgo Solare", token_address, ZERO_ADDRESS, community_admin)
    token = project.CommunityToken.at(token_address)
    assert token.name() == "Borgo Solare" and token.symbol() == "BSOL" and token.decimals() == 18
    assert token.communityId() == community_id
    assert token.registry() == registry.address and token.notary() == notary.address
    # The one-key form (a demo, a first setup): every role, the relayer's included, goes to `admin`.
    for role in ("DEFAULT_ADMIN_ROLE", "COMMUNITY_ADMIN_ROLE", "TOKEN_ADMIN_ROLE", "ORACLE_ADMIN_ROLE", "RELAYER_ROLE"):
        assert token.hasRole(getattr(token, role)(), community_admin)
    assert not token.hasRole(token.DEFAULT_ADMIN_ROLE(), platform_admin)


ROLES = ("DEFAULT_ADMIN_ROLE", "COMMUNITY_ADMIN_ROLE", "TOKEN_ADMIN_ROLE", "ORACLE_ADMIN_ROLE", "RELAYER_ROLE")


def test_community_with_split_admins_gives_each_key_one_role(
    registry, community, governor, community_admin, token_admin, oracle_admin, relayer
):
    """The governor holds only DEFAULT_ADMIN_ROLE; the API's hot key (community admin) only its own role."""
    community_id, token = community
    holders = (governor, community_admin, token_admin, oracle_admin, relayer)
    for holder, own in zip(holders, ROLES, strict=True):
        assert [token.hasRole(getattr(token, role)(), holder) for role in ROLES] == [r == own for r in ROLES]
    assert registry.community(community_id).admin == governor.address


def test_role_ids_are_the_keycloak_role_names(registry, reward_models, community):
    from eth_utils import keccak

    _, token = community
    assert registry.PLATFORM_ADMIN_ROLE() == keccak(text="platform-admin")
    assert token.COMMUNITY_ADMIN_ROLE() == keccak(text="community-admin")
    assert token.TOKEN_ADMIN_ROLE() == keccak(text="token-admin")
    assert token.ORACLE_ADMIN_ROLE() == keccak(text="oracle-admin")
    assert token.RELAYER_ROLE() == keccak(text="claim-relayer")
    assert reward_models.ORACLE_ADMIN_ROLE() == keccak(text="oracle-admin")


def test_only_platform_admin_creates_communities(registry, notary, community_admin):
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.createCommunity("X", "X", community_admin, sender=community_admin)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.createCommunityWithAdmins("X", "X", (community_admin,) * 5, sender=community_admin)


@pytest.mark.parametrize("zero_slot", range(5))
def test_every_split_admin_must_be_set(registry, notary, platform_admin, community_admin, zero_slot):
    admins = [community_admin.address] * 5
    admins[zero_slot] = ZERO_ADDRESS
    with ape.reverts(registry.RegistryInvalidCommunity):
        registry.createCommunityWithAdmins("N", "S", admins, sender=platform_admin)


@pytest.mark.parametrize("name,symbol,admin_zero", [("", "S", False), ("N", "", False), ("N", "S", True)])
def test_invalid_community_is_refused(registry, notary, platform_admin, community_admin, name, symbol, admin_zero):
    admin = ZERO_ADDRESS if admin_zero else community_admin
    with ape.reverts(registry.RegistryInvalidCommunity):
        registry.createCommunity(name, symbol, admin, sender=platform_admin)


def test_community_needs_core(project, platform_admin, community_admin):
    fresh = project.Registry.deploy(platform_admin, sender=platform_admin)
    with ape.reverts(fresh.RegistryCoreNotSet):
        fresh.createCommunity("N", "S", community_admin, sender=platform_admin)


def test_core_is_set_once(registry, notary, reward_models, platform_admin):
    assert registry.notary() == notary.address and registry.rewardModels() == reward_models.address
    with ape.reverts(registry.RegistryCoreAlreadySet):
        registry.setCore(notary, reward_models, sender=platform_admin)


def test_set_core_refuses_zero_and_strangers(project, platform_admin, outsider, notary, reward_models):
    fresh = project.Registry.deploy(platform_admin, sender=platform_admin)
    with ape.reverts(fresh.RegistryZeroAddress):
        fresh.setCore(ZERO_ADDRESS, reward_models, sender=platform_admin)
    with ape.reverts(fresh.AccessControlUnauthorizedAccount):
        fresh.setCore(notary, reward_models, sender=outsider)
    tx = fresh.setCore(notary, reward_models, sender=platform_admin)
    assert tx.events == [fresh.CoreSet(notary=notary.address, rewardModels=reward_models.address)]


def test_marketplace_is_proposed_by_the_platform_and_accepted_by_the_governor(
    project, registry, make_community, platform_admin, governor, outsider
):
    community_id, token = make_community("Fresh", "FR")
    first, second = (project.MarketplaceStub.deploy(token, sender=outsider) for _ in range(2))
    tx = registry.setMarketplace(community_id, first, sender=platform_admin)
    assert tx.events == [
        registry.MarketplaceProposed(communityId=community_id, current=ZERO_ADDRESS, marketplace=first)
    ]
    assert registry.proposedMarketplace(community_id) == first.address and not token.isCommunityContract(first)
    tx = registry.acceptMarketplace(community_id, first, sender=governor)
    assert tx.events.filter(registry.MarketplaceSet) == [
        registry.MarketplaceSet(communityId=community_id, previous=ZERO_ADDRESS, marketplace=first)
    ]
    assert tx.events.filter(token.CommunityContractSet) == [token.CommunityContractSet(account=first, allowed=True)]
    assert token.isCommunityContract(first) and registry.proposedMarketplace(community_id) == ZERO_ADDRESS
    registry.setMarketplace(community_id, second, sender=platform_admin)
    registry.acceptMarketplace(community_id, second, sender=governor)
    assert not token.isCommunityContract(first) and token.isCommunityContract(second)
    assert token.communityContractStatus(first) == 2 and token.communityContractStatus(second) == 1  # retired, active
    assert registry.community(community_id).marketplace == second.address


def test_set_marketplace_refusals(project, registry, community, make_community, platform_admin, governor, outsider):
    community_id, token = community
    with ape.reverts(registry.RegistryUnknownCommunity, communityId=99):
        registry.setMarketplace(99, outsider, sender=platform_admin)
    with ape.reverts(registry.RegistryZeroAddress):
        registry.setMarketplace(community_id, ZERO_ADDRESS, sender=platform_admin)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.setMarketplace(community_id, outsider, sender=outsider)
    # A wallet, a contract without token(), or a marketplace of another community is not this one's marketplace.
    _, other_token = make_community("Altra", "ALT")
    for bad in (
        outsider.address,
        registry.address,
        project.MarketplaceStub.deploy(other_token, sender=outsider).address,
    ):
        with ape.reverts(registry.RegistryInvalidMarketplace, communityId=community_id, marketplace=bad):
            registry.setMarketplace(community_id, bad, sender=platform_admin)
    stub = project.MarketplaceStub.deploy(token, sender=outsider)
    with ape.reverts(registry.RegistryMarketplaceNotProposed, communityId=community_id, marketplace=stub.address):
        registry.acceptMarketplace(community_id, stub, sender=governor)
    registry.setMarketplace(community_id, stub, sender=platform_admin)
    for not_governor in (platform_admin, outsider):
        with ape.reverts(registry.RegistryNotCommunityGovernor, communityId=community_id, account=not_governor.address):
            registry.acceptMarketplace(community_id, stub, sender=not_governor)


def test_unknown_community(registry, notary):
    assert registry.tokenOf(0) == ZERO_ADDRESS and registry.tokenOf(42) == ZERO_ADDRESS
    with ape.reverts(registry.RegistryUnknownCommunity):
        registry.community(42)
