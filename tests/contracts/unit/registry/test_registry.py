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
    for role in ("DEFAULT_ADMIN_ROLE", "COMMUNITY_ADMIN_ROLE", "TOKEN_ADMIN_ROLE", "ORACLE_ADMIN_ROLE"):
        assert token.hasRole(getattr(token, role)(), community_admin)
    assert not token.hasRole(token.DEFAULT_ADMIN_ROLE(), platform_admin)


def test_role_ids_are_the_keycloak_role_names(registry, reward_models, community):
    from eth_utils import keccak

    _, token = community
    assert registry.PLATFORM_ADMIN_ROLE() == keccak(text="platform-admin")
    assert token.COMMUNITY_ADMIN_ROLE() == keccak(text="community-admin")
    assert token.TOKEN_ADMIN_ROLE() == keccak(text="token-admin")
    assert token.ORACLE_ADMIN_ROLE() == keccak(text="oracle-admin")
    assert reward_models.ORACLE_ADMIN_ROLE() == keccak(text="oracle-admin")


def test_only_platform_admin_creates_communities(registry, notary, community_admin):
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.createCommunity("X", "X", community_admin, sender=community_admin)


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


def test_set_marketplace_registers_it_with_the_token(registry, make_community, platform_admin, accounts):
    community_id, token = make_community("Fresh", "FR")
    first, second = accounts[8], accounts[9]
    tx = registry.setMarketplace(community_id, first, sender=platform_admin)
    assert tx.events.filter(registry.MarketplaceSet)[0] == registry.MarketplaceSet(
        communityId=community_id, previous=ZERO_ADDRESS, marketplace=first
    )
    assert token.isCommunityContract(first)
    registry.setMarketplace(community_id, second, sender=platform_admin)
    assert not token.isCommunityContract(first) and token.isCommunityContract(second)
    assert registry.community(community_id).marketplace == second


def test_set_marketplace_refusals(registry, community, platform_admin, outsider):
    community_id, _ = community
    with ape.reverts(registry.RegistryUnknownCommunity):
        registry.setMarketplace(99, outsider, sender=platform_admin)
    with ape.reverts(registry.RegistryZeroAddress):
        registry.setMarketplace(community_id, ZERO_ADDRESS, sender=platform_admin)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.setMarketplace(community_id, outsider, sender=outsider)


def test_unknown_community(registry, notary):
    assert registry.tokenOf(0) == ZERO_ADDRESS and registry.tokenOf(42) == ZERO_ADDRESS
    with ape.reverts(registry.RegistryUnknownCommunity):
        registry.community(42)
