"""Fixtures of the contract tests: role-named accounts, the deployed platform and community factories."""

from __future__ import annotations

import pytest
from ape_ethereum.trace import Trace
from contract_helpers import CITIZEN, CONSUMER, PERIOD, PROSUMER, REWARD_LEAF, STAKEHOLDER, UNIT

from oracle.proofs.merkle import StandardMerkleTree


@pytest.fixture(autouse=True)
def _quiet_reverts(monkeypatch):
    """ape-foundry prints the call trace of every reverted transaction (~0.5 s a revert); the tests assert each
    revert's custom error and values instead, so the printout is switched off."""
    monkeypatch.setattr(Trace, "show", lambda self, *args, **kwargs: None)


@pytest.fixture(scope="session")
def platform_admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def community_admin(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def token_admin(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def oracle_admin(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def citizen(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def neighbour(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def shop(accounts):
    """A stakeholder member (a local shop)."""
    return accounts[6]


@pytest.fixture(scope="session")
def outsider(accounts):
    """An account that never joins the community."""
    return accounts[7]


@pytest.fixture(scope="session")
def relayer(accounts):
    """The oracle's service account: holds only the claim-relayer role."""
    return accounts[8]


@pytest.fixture(scope="session")
def extra_accounts(accounts, platform_admin):
    """Seven more funded accounts (the mnemonic's next keys), for governors and a second community's admins."""
    generated = [accounts.generate_test_account() for _ in range(7)]
    for account in generated:
        platform_admin.transfer(account, 10**18)
    return generated


@pytest.fixture(scope="session")
def governor(extra_accounts):
    """The community's governor (DEFAULT_ADMIN_ROLE): a multisig or timelock in production."""
    return extra_accounts[0]


@pytest.fixture(scope="session")
def other_admins(extra_accounts):
    """The admins of a second community: none of them holds a role in the first one."""
    keys = ("governor", "community_admin", "token_admin", "oracle_admin", "relayer")
    return dict(zip(keys, extra_accounts[1:6], strict=True))


@pytest.fixture(scope="session")
def registry(project, platform_admin):
    return project.Registry.deploy(platform_admin, sender=platform_admin)


@pytest.fixture(scope="session")
def reward_models(project, platform_admin, oracle_admin):
    models = project.RewardModels.deploy(platform_admin, sender=platform_admin)
    models.grantRole(models.ORACLE_ADMIN_ROLE(), oracle_admin, sender=platform_admin)
    return models


@pytest.fixture(scope="session")
def notary(project, registry, reward_models, platform_admin):
    notary = project.Notary.deploy(registry, reward_models, sender=platform_admin)
    registry.setCore(notary, reward_models, sender=platform_admin)
    return notary


@pytest.fixture(scope="session")
def model_id(reward_models, oracle_admin):
    reward_models.registerModel("self-consumption", "self_consumption", '{"a":10,"b":5,"c":5}', sender=oracle_admin)
    return reward_models.modelCount()


@pytest.fixture(scope="session")
def make_community(
    project, registry, notary, platform_admin, governor, community_admin, token_admin, oracle_admin, relayer
):
    """Factory: creates a community with its roles split among distinct accounts (by default the role-named
    fixtures; `admins` names others), its welcome bonuses, fee and treasury set by its token admin."""

    def make(
        name: str = "Borgo Solare",
        symbol: str = "BSOL",
        fee_bps: int = 100,
        treasury: int = 1_000 * UNIT,
        admins: dict | None = None,
    ):
        roles = admins or {
            "governor": governor,
            "community_admin": community_admin,
            "token_admin": token_admin,
            "oracle_admin": oracle_admin,
            "relayer": relayer,
        }
        keys = ("governor", "community_admin", "token_admin", "oracle_admin", "relayer")
        registry.createCommunityWithAdmins(name, symbol, tuple(roles[k] for k in keys), sender=platform_admin)
        community_id = registry.communityCount()
        token = project.CommunityToken.at(registry.tokenOf(community_id))
        token_admin_ = roles["token_admin"]
        token.setWelcomeBonus(CITIZEN, 5 * UNIT, sender=token_admin_)
        token.setWelcomeBonus(STAKEHOLDER, 20 * UNIT, sender=token_admin_)
        if fee_bps:
            token.setTransferFee(fee_bps, sender=token_admin_)
        if treasury:
            token.fundTreasury(treasury, "initial issuance", sender=token_admin_)
        return community_id, token

    return make


@pytest.fixture(scope="session")
def register_marketplace(registry, platform_admin, governor):
    """Factory: the platform admin proposes `market` for the community and its governor accepts it."""

    def register(community_id: int, market, by_governor=None):
        registry.setMarketplace(community_id, market, sender=platform_admin)
        registry.acceptMarketplace(community_id, market, sender=by_governor or governor)
        return market

    return register


@pytest.fixture
def marketplace_stub(project, community, register_marketplace, outsider):
    """A test contract registered as the community's own contract, to exercise the treasury hooks the
    marketplace contract uses (tests call them through it)."""
    community_id, token = community
    return register_marketplace(community_id, project.MarketplaceStub.deploy(token, sender=outsider))


@pytest.fixture(scope="session")
def community(make_community):
    return make_community()


@pytest.fixture(scope="session")
def token(community, community_admin, citizen, neighbour, shop):
    """The community's token with two citizens and a shop as members."""
    _, token = community
    token.addMember(citizen, CITIZEN, PROSUMER, sender=community_admin)
    token.addMember(neighbour, CITIZEN, CONSUMER, sender=community_admin)
    token.addMember(shop, STAKEHOLDER, CONSUMER, sender=community_admin)
    return token


@pytest.fixture(scope="session")
def community_id(community):
    return community[0]


@pytest.fixture(scope="session")
def publish(notary, community_id, model_id, oracle_admin):
    """Factory: notarises a period whose rewards tree is built in Python; returns the tree."""

    def publish_period(rewards: dict, period: int = PERIOD, total: int | None = None, correct_reason: str = ""):
        tree = StandardMerkleTree.of([[acct.address, amt] for acct, amt in rewards.items()], REWARD_LEAF)
        total = sum(rewards.values()) if total is None else total
        args = (community_id, period, "0x" + "11" * 32, tree.root, "0x" + "22" * 32, model_id, total, len(rewards))
        if correct_reason:
            notary.correct(*args, correct_reason, sender=oracle_admin)
        else:
            notary.notarise(*args, sender=oracle_admin)
        return tree

    return publish_period
