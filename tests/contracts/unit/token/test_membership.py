import ape
from contract_helpers import CITIZEN, CONSUMER, PROSTORMER, PROSUMER, STAKEHOLDER, UNIT, ZERO_ADDRESS


def test_add_member_mints_welcome_bonus(make_community, community_admin, citizen, shop):
    _, token = make_community("Fresh", "FR")
    tx = token.addMember(citizen, CITIZEN, PROSUMER, sender=community_admin)
    assert tx.events.filter(token.MemberAdded) == [
        token.MemberAdded(account=citizen, kind=CITIZEN, profile=PROSUMER, welcomeBonus=5 * UNIT)
    ]
    token.addMember(shop, STAKEHOLDER, CONSUMER, sender=community_admin)
    assert token.balanceOf(citizen) == 5 * UNIT and token.balanceOf(shop) == 20 * UNIT
    assert token.isMember(citizen) and token.memberCount() == 2
    record = token.member(citizen)
    assert (record.kind, record.profile, record.active, record.retired) == (CITIZEN, PROSUMER, True, False)


def test_add_member_refusals(project, make_community, register_marketplace, community_admin, citizen, outsider):
    community_id, token = make_community("Fresh", "FR")
    marketplace_stub = register_marketplace(community_id, project.MarketplaceStub.deploy(token, sender=outsider))
    token.addMember(citizen, CITIZEN, CONSUMER, sender=community_admin)
    with ape.reverts(token.CommunityTokenAlreadyMember):
        token.addMember(citizen, CITIZEN, CONSUMER, sender=community_admin)
    with ape.reverts(token.CommunityTokenInvalidKind):
        token.addMember(outsider, 0, CONSUMER, sender=community_admin)
    for bad in (ZERO_ADDRESS, token.address):
        with ape.reverts(token.CommunityTokenInvalidAccount):
            token.addMember(bad, CITIZEN, CONSUMER, sender=community_admin)
    with ape.reverts(token.CommunityTokenInvalidAccount):
        token.addMember(marketplace_stub, CITIZEN, CONSUMER, sender=community_admin)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.addMember(outsider, CITIZEN, CONSUMER, sender=outsider)


def test_remove_member_returns_balance_and_retires_wallet(token, community_admin, citizen):
    treasury_before = token.treasuryBalance()
    supply = token.totalSupply()
    tx = token.removeMember(citizen, sender=community_admin)
    assert tx.events.filter(token.MemberRemoved) == [token.MemberRemoved(account=citizen, returnedToTreasury=5 * UNIT)]
    assert token.balanceOf(citizen) == 0
    assert token.treasuryBalance() == treasury_before + 5 * UNIT
    assert token.totalSupply() == supply
    assert not token.isMember(citizen) and token.member(citizen).retired
    with ape.reverts(token.CommunityTokenAccountRetired):
        token.addMember(citizen, CITIZEN, CONSUMER, sender=community_admin)
    with ape.reverts(token.CommunityTokenNotMember):
        token.removeMember(citizen, sender=community_admin)


def test_removal_works_while_paused(token, community_admin, token_admin, citizen):
    token.pause(sender=token_admin)
    token.removeMember(citizen, sender=community_admin)
    assert token.balanceOf(citizen) == 0


def test_update_profile(token, community_admin, citizen, outsider):
    tx = token.updateProfile(citizen, PROSTORMER, sender=community_admin)
    assert tx.events == [token.MemberProfileUpdated(account=citizen, profile=PROSTORMER)]
    assert token.member(citizen).profile == PROSTORMER
    with ape.reverts(token.CommunityTokenNotMember):
        token.updateProfile(outsider, PROSUMER, sender=community_admin)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.updateProfile(citizen, PROSUMER, sender=outsider)


def test_welcome_bonus_settings(community, token_admin, outsider):
    _, token = community
    tx = token.setWelcomeBonus(CITIZEN, 7 * UNIT, sender=token_admin)
    assert tx.events == [token.WelcomeBonusSet(kind=CITIZEN, amount=7 * UNIT)]
    assert token.welcomeBonus(CITIZEN) == 7 * UNIT
    with ape.reverts(token.CommunityTokenInvalidKind):
        token.setWelcomeBonus(0, UNIT, sender=token_admin)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.setWelcomeBonus(CITIZEN, UNIT, sender=outsider)
