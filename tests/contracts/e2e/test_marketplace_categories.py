"""End to end: the platform deployed and the demo community seeded by the scripts (marketplace included), then a
deal in each of the report's eight categories, every balance checked to the unit — provider, payer, venue,
treasury fee, incentive — and the supply unchanged (nothing leaves the closed loop)."""

from __future__ import annotations

import pytest
from ape import accounts

from lec.market.policy import CATEGORIES, DealState, Policy, split
from scripts._lec.chain import save_deployments
from scripts._lec.seed_market import DEMO_DEALS
from scripts.deploy import deploy_platform
from scripts.seed import DEMO_NAME, seed_demo

UNIT = 10**18
ZERO = "0x" + "00" * 20
# (fee, incentive, venue) bps: every share a category can have is non-zero.
POLICIES = {
    0: (100, 200, 0),
    1: (100, 200, 1_500),
    2: (50, 300, 0),
    3: (200, 100, 0),
    4: (100, 200, 0),
    5: (100, 1_000, 0),
    6: (100, 500, 0),
    7: (100, 1_000, 2_000),
}
PRICE = 2 * UNIT + 13  # the shares round down
DESCRIPTION = b"\x42" * 32


@pytest.fixture(scope="module")
def demo(project, tmp_path_factory):
    """Deploy + seed as `make demo` does, into a private deployments folder and database."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEC_DEPLOYMENTS_DIR", str(tmp_path_factory.mktemp("deployments")))
        mp.setenv("LEC_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        mp.delenv("DATABASE_URL", raising=False)
        admin = accounts.test_accounts[0]
        save_deployments(deploy_platform(admin))
        data = seed_demo(admin)
    community = next(c for c in data["communities"] if c["name"] == DEMO_NAME)
    token = project.CommunityToken.at(community["token"])
    market = project.Marketplace.at(community["marketplace"])
    for category, (fee, incentive, venue) in POLICIES.items():
        token.setCategoryPolicy(category, fee, incentive, venue, True, sender=admin)
    return token, market, admin


def member(index: int):
    return accounts.test_accounts[index]


def test_seed_created_the_marketplace_and_demo_deals(demo):
    token, market, _ = demo
    assert token.isCommunityContract(market)
    assert market.dealCount() == len(DEMO_DEALS)
    states = {"open": DealState.OPEN, "accepted": DealState.ACCEPTED, "settled": DealState.SETTLED}
    for deal_id, seeded in enumerate(DEMO_DEALS, start=1):
        assert market.deal(deal_id).state == states[seeded.outcome]
        assert market.deal(deal_id).category == seeded.category
    assert {d.category for d in DEMO_DEALS} == {c.number for c in CATEGORIES}
    open_escrow = sum(market.escrowOf(i) for i in range(1, market.dealCount() + 1))
    assert token.balanceOf(market) == market.escrowTotal() == open_escrow > 0


def run_deal(token, market, admin, category, provider, payer, *, venue=None, cashback=0, via="offer"):
    """One deal from creation to confirmation; returns the settlement event."""
    venue_address = venue.address if venue else ZERO
    if CATEGORIES[category].is_task:
        market.publishTask(category, PRICE, DESCRIPTION, ZERO, venue_address, sender=admin)
        deal_id = market.dealCount()
        market.accept(deal_id, sender=provider)
        confirmer = admin
    elif via == "offer":
        market.offer(category, PRICE, DESCRIPTION, ZERO, venue_address, cashback, sender=provider)
        deal_id = market.dealCount()
        market.accept(deal_id, sender=payer)
        confirmer = payer
    else:
        market.request(category, PRICE, DESCRIPTION, ZERO, venue_address, sender=payer)
        deal_id = market.dealCount()
        market.accept(deal_id, sender=provider)
        confirmer = payer
    market.complete(deal_id, sender=provider)
    tx = market.confirm(deal_id, sender=confirmer)
    assert market.deal(deal_id).state == DealState.SETTLED
    return tx.events.filter(market.DealSettled)[0]


CASES = [
    # id, category, provider, payer (None = treasury), venue, cashback bps, via
    ("citizen-citizen offer", 0, 1, 2, None, 0, "offer"),
    ("citizen-citizen request", 0, 1, 2, None, 0, "request"),
    ("citizen-citizen-venue", 1, 3, 2, 7, 0, "offer"),
    ("citizen-citizen-venue request", 1, 3, 2, 7, 0, "request"),
    ("stakeholder-citizen", 2, 7, 2, None, 0, "offer"),
    ("new-goods retailer cashback", 2, 8, 1, None, 500, "offer"),
    ("stakeholder-stakeholder", 3, 6, 7, None, 0, "offer"),
    ("stakeholder-stakeholder request", 3, 6, 7, None, 0, "request"),
    ("citizen-stakeholder", 4, 2, 6, None, 0, "offer"),
    ("citizen-stakeholder request", 4, 2, 6, None, 0, "request"),
    ("citizen-community task", 5, 1, None, None, 0, "task"),
    ("stakeholder-community task", 6, 7, None, None, 0, "task"),
    ("citizen-community-venue task", 7, 3, None, 6, 0, "task"),
]


@pytest.mark.parametrize(
    "category,provider_i,payer_i,venue_i,cashback,via", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_category_settles_with_every_balance_to_the_unit(demo, category, provider_i, payer_i, venue_i, cashback, via):
    token, market, admin = demo
    provider = member(provider_i)
    payer = member(payer_i) if payer_i is not None else None
    venue = member(venue_i) if venue_i is not None else None
    payer_address = payer.address if payer else token.address
    watched = {provider.address, payer_address, token.address, market.address} | ({venue.address} if venue else set())
    before = {a: token.balanceOf(a) for a in watched}
    supply = token.totalSupply()

    event = run_deal(token, market, admin, category, provider, payer, venue=venue, cashback=cashback, via=via)

    expected = split(
        PRICE,
        Policy(*POLICIES[category]),
        category_number=category,
        with_venue=venue is not None,
        cashback_bps=cashback,
    )
    incentive_to = payer.address if category == 2 else provider.address
    assert (event.toProvider, event.fee, event.venueShare, event.cashback, event.incentive) == (
        expected.to_provider,
        expected.fee,
        expected.venue_share,
        expected.cashback,
        expected.incentive,
    )
    assert event.incentiveTo == incentive_to
    assert expected.fee > 0 and expected.incentive > 0 and expected.to_provider > 0
    assert (expected.venue_share > 0) == (venue is not None) and (expected.cashback > 0) == (cashback > 0)

    delta = dict.fromkeys(watched, 0)
    delta[provider.address] += expected.to_provider
    delta[payer_address] += expected.cashback - PRICE
    delta[token.address] += expected.fee - expected.incentive
    delta[incentive_to] += expected.incentive
    if venue:
        delta[venue.address] += expected.venue_share
    for account in watched:
        assert token.balanceOf(account) == before[account] + delta[account], account
    assert token.totalSupply() == supply
    assert token.balanceOf(market) == market.escrowTotal()


def test_energy_managers_bonus_is_weighted_by_the_citizens_profile(demo):
    """Category 2, the energy manager's case: the treasury's incentive goes to the citizen, weighted by energy
    profile (consumer 1×, prosumer 1.2×, prostormer 1.5×)."""
    token, market, admin = demo
    market.setProfileWeights(10_000, 12_000, 15_000, sender=admin)
    energy_manager = member(8)
    base = PRICE * POLICIES[2][1] // 10_000
    for citizen_index, weight in ((2, 10_000), (1, 12_000), (3, 15_000)):  # consumer, prosumer, prostormer
        citizen = member(citizen_index)
        before, treasury = token.balanceOf(citizen), token.treasuryBalance()
        event = run_deal(token, market, admin, 2, energy_manager, citizen)
        assert event.incentive == base * weight // 10_000 and event.incentiveTo == citizen.address
        assert token.balanceOf(citizen) == before - PRICE + event.incentive
        assert token.treasuryBalance() == treasury + event.fee - event.incentive


def test_python_client_reads_deals_and_builds_transactions_the_chain_accepts(demo, chain):
    """lec.market.client (what the API calls) against the seeded marketplace, through plain web3."""
    from lec.market.client import MarketClient
    from scripts._lec.seed_market import DEMO_DEALS as SEEDED

    token, market, _ = demo
    client = MarketClient(chain.provider.web3, market.address)
    deals = client.deals()
    assert [d.id for d in deals] == list(range(1, len(SEEDED) + 1))
    for view, seeded in zip(deals, SEEDED, strict=True):
        assert view.category == seeded.category and view.matches(seeded.title, seeded.description)
        assert not view.matches(seeded.title, seeded.description + " ")
    assert client.escrow_total() == token.balanceOf(market)
    task = next(d for d in deals if d.side == 2)
    assert task.payer == token.address
    with pytest.raises(LookupError, match="no deal 99"):
        client.deal(99)

    provider = member(1)
    tx = client.offer_tx(provider.address, 0, PRICE, "Bike repair", "Fix a flat tyre")
    chain.provider.web3.eth.send_transaction(tx)  # anvil holds the test accounts' keys
    created = client.deal(client.deal_count())
    assert created.provider == provider.address and created.matches("Bike repair", "Fix a flat tyre")
    split_now, incentive_to = client.preview(created.id)
    expected = split(PRICE, Policy(*POLICIES[0]), category_number=0, with_venue=False)
    assert (split_now.to_provider, split_now.fee, split_now.incentive) == (
        expected.to_provider,
        expected.fee,
        expected.incentive,
    )
    assert incentive_to == provider.address
    chain.provider.web3.eth.send_transaction(client.action_tx(provider.address, "cancel", created.id))
    assert client.deal(created.id).state == DealState.CANCELLED
    with pytest.raises(ValueError, match="not a deal action"):
        client.action_tx(provider.address, "steal", created.id)
