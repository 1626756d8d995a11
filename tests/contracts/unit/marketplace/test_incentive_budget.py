"""Incentives can never make a closed cycle of deals profitable beyond the members' budgets (issue 12, finding 2;
docs/token-economy.md): in a members' deal the treasury pays the incentive up to the deal's own fee freely and above
it only within the recipient's incentive budget for the 30-day epoch, which the token admin sets (0 by default)."""

from __future__ import annotations

import pytest
from contract_helpers import STATEFUL_TIMEOUT, UNIT, ZERO_ADDRESS, FastRpc, stateful_runs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from market_helpers import DESCRIPTION

from lec.market.policy import BPS, CATEGORIES, Kind, Policy, budget_spent, incentive_paid, split

EPOCH = 30 * 86_400
steps_taken = 0


def round_trips(approved, token, shop, citizen, trips: int, price: int) -> None:
    """The audit's exploit: the shop sells to the citizen in category 2 (the incentive goes to the citizen), the
    citizen sells the same amount back in category 4."""
    for provider, payer, category in [(shop, citizen, 2), (citizen, shop, 4)] * trips:
        approved.offer(category, price, DESCRIPTION, ZERO_ADDRESS, ZERO_ADDRESS, 0, sender=provider)
        deal_id = approved.dealCount()
        approved.accept(deal_id, sender=payer)
        approved.confirm(deal_id, sender=payer)


def test_the_demo_policy_no_longer_pays_a_pair_for_round_trips(approved, token, token_admin, shop, citizen):
    """The demo policy: category 2 has no fee and a 5 % incentive, category 4 a 1 % fee. Ten round trips of 5 tokens
    moved 2 tokens from the treasury to the pair; with no incentive budget the incentive only returns the fee."""
    token.setCategoryPolicy(2, 0, 500, 0, True, sender=token_admin)
    token.setCategoryPolicy(4, 100, 0, 0, True, sender=token_admin)
    token.setIncentiveBudget(0, sender=token_admin)
    token.transfer(citizen, 5 * UNIT, sender=shop)
    treasury, pair = token.treasuryBalance(), token.balanceOf(citizen) + token.balanceOf(shop)
    round_trips(approved, token, shop, citizen, trips=10, price=5 * UNIT)
    assert token.treasuryBalance() == treasury + 10 * (5 * UNIT // 100)  # only the category 4 fees moved
    assert token.balanceOf(citizen) + token.balanceOf(shop) == pair - 10 * (5 * UNIT // 100)


@pytest.mark.parametrize("budget", [UNIT // 2, 3 * UNIT])
def test_a_budget_bounds_what_round_trips_take_from_the_treasury(approved, token, token_admin, shop, citizen, budget):
    token.setCategoryPolicy(2, 0, 500, 0, True, sender=token_admin)
    token.setCategoryPolicy(4, 100, 0, 0, True, sender=token_admin)
    token.setIncentiveBudget(budget, sender=token_admin)
    token.transfer(citizen, 5 * UNIT, sender=shop)
    treasury = token.treasuryBalance()
    round_trips(approved, token, shop, citizen, trips=10, price=5 * UNIT)
    incentives = min(10 * (5 * UNIT * 500 // BPS), budget)  # only the citizen receives incentives
    assert token.treasuryBalance() == treasury + 10 * (5 * UNIT // 100) - incentives
    assert token.treasuryBalance() >= treasury - budget


def test_the_preview_shows_the_incentive_the_budget_allows(approved, token, token_admin, make_offer, shop, citizen):
    token.setCategoryPolicy(2, 0, 500, 0, True, sender=token_admin)
    token.setIncentiveBudget(UNIT // 10, sender=token_admin)
    deal_id = make_offer(shop, category=2, price=5 * UNIT)
    assert approved.previewSettlement(deal_id)[0][4] == UNIT // 10  # 5 % of 5 = 0.25, the budget is 0.1
    approved.accept(deal_id, sender=citizen)
    event = approved.confirm(deal_id, sender=citizen).events.filter(approved.DealSettled)[0]
    assert event.incentive == UNIT // 10 and token.incentiveBudgetLeft(citizen) == 0
    follow_up = make_offer(shop, category=2, price=UNIT // 20)
    approved.accept(follow_up, sender=citizen)
    assert approved.previewSettlement(follow_up)[0][4] == 0


@pytest.mark.timeout(STATEFUL_TIMEOUT)
def test_round_trips_never_take_more_than_the_budgets(
    chain, approved, token, token_admin, community_admin, citizen, neighbour, shop, association
):
    """Stateful: two citizens and two stakeholders (a ring of colluding members) trade back and forth in every
    members' category, while the token admin changes policies and the budget and epochs pass. The treasury, every
    balance and every incentive are checked against a model, and within any epoch the treasury never loses more than
    the ring's budgets."""
    market = approved
    rpc = FastRpc(chain.provider.web3.provider.endpoint_uri)
    citizens, stakeholders = [citizen, neighbour], [shop, association]
    ring = citizens + stakeholders
    holders = [a.address for a in ring] + [token.address, market.address]
    profile_of = {a.address: int(token.member(a).profile) for a in ring}

    def of_kind(kind: Kind):
        return citizens if kind is Kind.CITIZEN else stakeholders

    class RoundTrips(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.snapshot = chain.snapshot()
            self.now = rpc.start_clock()
            self.balances = self._balances()
            self.policies = {c: self._policy(c) for c in range(5)}
            self.weights = list(market.profileWeights())
            self.budget = token.incentiveBudget()
            self.spent: dict[tuple[int, str], int] = {}
            self._open_epoch()

        def teardown(self):
            rpc.clock = None
            chain.restore(self.snapshot)

        @staticmethod
        def _policy(category: int) -> Policy:
            p = token.categoryPolicy(category)
            return Policy(p.feeBps, p.incentiveBps, p.venueBps)

        def _balances(self) -> dict[str, int]:
            return dict(
                zip(holders, rpc.uints([(token.address, "balanceOf(address)", (h,)) for h in holders]), strict=True)
            )

        def _open_epoch(self):
            self.epoch = rpc.clock // EPOCH
            self.epoch_treasury = self.balances[token.address]
            self.epoch_budget = self.budget

        @rule(
            c=st.integers(0, 4),
            i=st.integers(0, 1),
            j=st.integers(0, 1),
            v=st.integers(0, 1),
            share=st.integers(1, 100),
            cashback=st.sampled_from([0, 0, 500, 4_000]),
        )
        def round_trip_leg(self, c, i, j, v, share, cashback):
            global steps_taken
            steps_taken += 1
            cat = CATEGORIES[c]
            provider, payer = of_kind(cat.provider)[i], of_kind(cat.payer)[j]
            if provider == payer:
                payer = of_kind(cat.payer)[1 - j]
            venue = stakeholders[v] if cat.venue else None
            cashback = cashback if c == 2 else 0
            price = self.balances[payer.address] * share // 100
            if price == 0:
                return
            policy = self.policies[c]  # frozen at creation
            rpc.transact(
                provider,
                market,
                "offer(uint8,uint256,bytes32,address,address,uint16)",
                c,
                price,
                DESCRIPTION,
                ZERO_ADDRESS,
                venue.address if venue else ZERO_ADDRESS,
                cashback,
            )
            deal_id = rpc.uints([(market.address, "dealCount()", ())])[0]
            rpc.transact(payer, market, "accept(uint256)", deal_id)
            weight = self.weights[profile_of[payer.address]]  # frozen when the price goes into escrow
            if rpc.clock // EPOCH != self.epoch:
                self._open_epoch()
            epoch = rpc.clock // EPOCH
            rpc.transact(payer, market, "confirm(uint256)", deal_id)
            s = split(
                price,
                policy,
                category_number=c,
                with_venue=venue is not None,
                cashback_bps=cashback,
                profile_weight_bps=weight,
            )
            recipient = payer.address if c == 2 else provider.address
            spent = self.spent.get((epoch, recipient), 0)
            treasury = self.balances[token.address] + s.fee
            paid = incentive_paid(
                s.incentive, s.fee, category_number=c, budget_left=max(self.budget - spent, 0), treasury=treasury
            )
            self.spent[(epoch, recipient)] = spent + budget_spent(paid, s.incentive, s.fee, category_number=c)
            self.balances[payer.address] += s.cashback - price
            self.balances[provider.address] += s.to_provider
            if venue:
                self.balances[venue.address] += s.venue_share
            self.balances[token.address] = treasury - paid
            self.balances[recipient] += paid

        @rule(
            c=st.integers(0, 4), fee=st.integers(0, 1_000), incentive=st.integers(0, 5_000), venue=st.integers(0, 5_000)
        )
        def set_policy(self, c, fee, incentive, venue):
            rpc.transact(
                token_admin, token, "setCategoryPolicy(uint8,uint16,uint16,uint16,bool)", c, fee, incentive, venue, True
            )
            self.policies[c] = Policy(fee, incentive, venue)

        @rule(budget=st.sampled_from([0, UNIT // 100, UNIT // 10, UNIT]))
        def set_budget(self, budget):
            rpc.transact(token_admin, token, "setIncentiveBudget(uint256)", budget)
            self.budget = budget
            self.epoch_budget = max(self.epoch_budget, budget)

        @rule(w=st.lists(st.integers(0, 20_000), min_size=3, max_size=3))
        def set_weights(self, w):
            rpc.transact(community_admin, market, "setProfileWeights(uint16,uint16,uint16)", *w)
            self.weights = w

        @rule()
        def next_epoch(self):
            rpc.advance(EPOCH)

        @invariant()
        def ledger_matches_the_model(self):
            assert self._balances() == self.balances

        @invariant()
        def the_treasury_loses_at_most_the_budgets(self):
            treasury = rpc.uints([(token.address, "treasuryBalance()", ())])[0]
            assert treasury >= self.epoch_treasury - len(ring) * self.epoch_budget

    examples, steps, wanted = stateful_runs(10, 15)
    machine_settings = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, suppress_health_check=list(HealthCheck)
    )
    global steps_taken
    steps_taken = 0
    run_state_machine_as_test(RoundTrips, settings=machine_settings)
    while steps_taken < wanted:
        run_state_machine_as_test(RoundTrips, settings=machine_settings)
