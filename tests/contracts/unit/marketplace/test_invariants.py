"""Stateful property test of the marketplace: whatever members, the community admin and time do, the escrow (the
marketplace's balance) equals the sum of the prices of the deals that hold one, every deal is in the state the
lifecycle predicts, and no path moves a token out of the closed loop (members, treasury, marketplace)."""

from __future__ import annotations

import ape
from contract_helpers import UNIT, ZERO_ADDRESS
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from market_helpers import DESCRIPTION

from lec.market.policy import CATEGORIES, DealState, Kind, Side

DAY = 86_400
# A step is honest (the right actor on a deal in a fitting state) unless the draw is 3; hypothesis leans to small
# draws, so most steps walk the lifecycle and the rest try what must be refused.
HONEST = st.integers(0, 3).map(lambda n: n != 3)
HOLDS_ESCROW = {DealState.ACCEPTED, DealState.COMPLETED, DealState.DISPUTED}


def test_escrow_and_closed_loop_invariants(
    chain, approved, token, community_admin, citizen, neighbour, shop, association, outsider
):
    market = approved
    citizens, stakeholders = [citizen, neighbour], [shop, association]
    members = citizens + stakeholders
    everyone = members + [community_admin, outsider]
    holders = [a.address for a in members + [outsider, community_admin]] + [token.address, market.address]
    windows = {DealState.ACCEPTED: 30 * DAY, DealState.COMPLETED: 7 * DAY}
    # The invariants read a dozen values after every step: plain web3 calls keep the machine within a minute.
    w3 = chain.provider.web3
    w3_token = w3.eth.contract(address=token.address, abi=token.contract_type.model_dump(mode="json")["abi"])
    w3_market = w3.eth.contract(address=market.address, abi=market.contract_type.model_dump(mode="json")["abi"])

    def of_kind(kind: Kind):
        return citizens if kind is Kind.CITIZEN else stakeholders

    class MarketMachine(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.snapshot = chain.snapshot()
            self.supply = token.totalSupply()
            self.deals: dict[int, dict] = {}

        def teardown(self):
            chain.restore(self.snapshot)

        # -------------------------------------------------------------- helpers

        def _pick(self, d: int, honest: bool, states: tuple[DealState, ...]) -> tuple[int, dict]:
            """An honest step picks a deal in a state the action fits; otherwise any deal."""
            ids = sorted(self.deals)
            fitting = [i for i in ids if self.deals[i]["state"] in states]
            pool_ = fitting if honest and fitting else ids
            deal_id = pool_[d % len(pool_)]
            return deal_id, self.deals[deal_id]

        def _actor(self, honest: bool, k: int, proper):
            """The proper actor (an account, or an address to find among everyone) on an honest step; anyone
            otherwise."""
            if honest and proper is not None:
                if isinstance(proper, str):
                    return next(a for a in everyone if a.address == proper)
                return proper
            return everyone[k]

        def _record(self, deal_id: int, tx, state: DealState, **changes):
            self.deals[deal_id].update(state=state, at=tx.timestamp, **changes)
            # The lifecycle: the deal is in the state the model predicts.
            assert w3_market.functions.deal(deal_id).call()[3] == state

        def _new(self, tx, category, side, provider, payer, venue, price):
            deal_id = market.dealCount()
            self.deals[deal_id] = dict(
                category=category, side=side, provider=provider, payer=payer, venue=venue, price=price
            )
            self._record(deal_id, tx, DealState.OPEN)

        # -------------------------------------------------------------- creation

        def _few_open(self) -> bool:
            """New deals only while few are open, so that the steps go on to walk the lifecycle."""
            return sum(deal["state"] == DealState.OPEN for deal in self.deals.values()) < 3

        @precondition(_few_open)
        @rule(c=st.integers(0, 4), k=st.integers(0, 1), v=st.integers(0, 1), price=st.integers(1, 3 * UNIT))
        def offer(self, c, k, v, price):
            cat = CATEGORIES[c]
            provider = of_kind(cat.provider)[k]
            venue = stakeholders[v] if cat.venue else None
            tx = market.offer(c, price, DESCRIPTION, ZERO_ADDRESS, venue or ZERO_ADDRESS, 0, sender=provider)
            self._new(tx, c, Side.OFFER, provider.address, None, venue and venue.address, price)

        @precondition(_few_open)
        @rule(c=st.integers(0, 4), k=st.integers(0, 1), v=st.integers(0, 1), price=st.integers(1, 8 * UNIT))
        def request(self, c, k, v, price):
            cat = CATEGORIES[c]
            payer = of_kind(cat.payer)[k]
            venue = stakeholders[v] if cat.venue else None
            args = (c, price, DESCRIPTION, ZERO_ADDRESS, venue or ZERO_ADDRESS)
            if token.balanceOf(payer) < price:
                with ape.reverts(token.ERC20InsufficientBalance):
                    market.request(*args, sender=payer)
                return
            tx = market.request(*args, sender=payer)
            self._new(tx, c, Side.REQUEST, None, payer.address, venue and venue.address, price)

        @precondition(_few_open)
        @rule(c=st.integers(5, 7), v=st.integers(0, 1), price=st.integers(1, 400 * UNIT))
        def publish_task(self, c, v, price):
            venue = stakeholders[v] if CATEGORIES[c].venue else None
            args = (c, price, DESCRIPTION, ZERO_ADDRESS, venue or ZERO_ADDRESS)
            if token.treasuryBalance() < price:
                with ape.reverts(token.CommunityTokenTreasuryInsufficient):
                    market.publishTask(*args, sender=community_admin)
                return
            tx = market.publishTask(*args, sender=community_admin)
            self._new(tx, c, Side.TASK, None, token.address, venue and venue.address, price)

        # -------------------------------------------------------------- lifecycle

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def accept(self, d, k, honest):
            deal_id, deal = self._pick(d, honest, (DealState.OPEN,))
            cat = CATEGORIES[deal["category"]]
            as_provider = deal["side"] != Side.OFFER
            fit = [
                a
                for a in of_kind(cat.provider if as_provider else cat.payer)
                if a.address not in (deal["provider"], deal["payer"], deal["venue"])
            ]
            taker = self._actor(honest, k, fit[k % len(fit)] if fit else None)
            right_kind = taker in of_kind(cat.provider if as_provider else cat.payer)
            involved = taker.address in (deal["provider"], deal["payer"], deal["venue"])
            funded = as_provider or token.balanceOf(taker) >= deal["price"]
            if deal["state"] != DealState.OPEN or not right_kind or involved or not funded:
                with ape.reverts():
                    market.accept(deal_id, sender=taker)
                return
            tx = market.accept(deal_id, sender=taker)
            role = "provider" if as_provider else "payer"
            self._record(deal_id, tx, DealState.ACCEPTED, **{role: taker.address})

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def complete(self, d, k, honest):
            deal_id, deal = self._pick(d, honest, (DealState.ACCEPTED,))
            by = self._actor(honest, k, deal["provider"])
            if deal["state"] != DealState.ACCEPTED or by.address != deal["provider"]:
                with ape.reverts():
                    market.complete(deal_id, sender=by)
                return
            self._record(deal_id, market.complete(deal_id, sender=by), DealState.COMPLETED)

        def _payer_actor(self, deal):
            return community_admin if deal["side"] == Side.TASK else deal["payer"]

        def _payer_side(self, deal, by) -> bool:
            if deal["side"] == Side.TASK:
                return by == community_admin
            return by.address == deal["payer"]

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def confirm(self, d, k, honest):
            deal_id, deal = self._pick(d, honest, (DealState.ACCEPTED, DealState.COMPLETED))
            by = self._actor(honest, k, self._payer_actor(deal))
            if deal["state"] not in (DealState.ACCEPTED, DealState.COMPLETED) or not self._payer_side(deal, by):
                with ape.reverts():
                    market.confirm(deal_id, sender=by)
                return
            self._record(deal_id, market.confirm(deal_id, sender=by), DealState.SETTLED)

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def cancel(self, d, k, honest):
            deal_id, deal = self._pick(d, honest, (DealState.OPEN, DealState.ACCEPTED))
            creator = {Side.OFFER: deal["provider"], Side.REQUEST: deal["payer"], Side.TASK: community_admin}
            proper = creator[deal["side"]] if deal["state"] == DealState.OPEN else deal["provider"]
            by = self._actor(honest, k, proper)
            if deal["state"] == DealState.OPEN:
                creator = {Side.OFFER: deal["provider"], Side.REQUEST: deal["payer"]}.get(deal["side"])
                allowed = by == community_admin if deal["side"] == Side.TASK else by.address == creator
            else:
                allowed = deal["state"] == DealState.ACCEPTED and by.address == deal["provider"]
            if not allowed:
                with ape.reverts():
                    market.cancel(deal_id, sender=by)
                return
            self._record(deal_id, market.cancel(deal_id, sender=by), DealState.CANCELLED)

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def dispute(self, d, k, honest):
            deal_id, deal = self._pick(d, honest, (DealState.ACCEPTED, DealState.COMPLETED))
            by = self._actor(honest, k, deal["provider"] if k % 2 else self._payer_actor(deal))
            party = by.address == deal["provider"] or self._payer_side(deal, by)
            if deal["state"] not in (DealState.ACCEPTED, DealState.COMPLETED) or not party:
                with ape.reverts():
                    market.dispute(deal_id, sender=by)
                return
            self._record(deal_id, market.dispute(deal_id, sender=by), DealState.DISPUTED)

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), bps=st.integers(0, 10_000), honest=HONEST)
        def resolve(self, d, bps, honest):
            deal_id, deal = self._pick(d, honest, (DealState.DISPUTED,))
            if deal["state"] != DealState.DISPUTED:
                with ape.reverts(market.MarketplaceWrongState):
                    market.resolve(deal_id, bps, sender=community_admin)
                return
            self._record(deal_id, market.resolve(deal_id, bps, sender=community_admin), DealState.RESOLVED)

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), days=st.sampled_from([0, 3, 8, 31]), honest=HONEST)
        def expire(self, d, days, honest):
            deal_id, deal = self._pick(d, honest, (DealState.ACCEPTED, DealState.COMPLETED))
            chain.pending_timestamp += days * DAY
            window = windows.get(deal["state"])
            if window is None or chain.pending_timestamp < deal["at"] + window:
                with ape.reverts():
                    market.expire(deal_id, sender=outsider)
                return
            tx = market.expire(deal_id, sender=outsider)
            settles = deal["state"] == DealState.COMPLETED  # the default rule: silence is consent
            self._record(deal_id, tx, DealState.SETTLED if settles else DealState.CANCELLED)

        # -------------------------------------------------------------- invariants

        @invariant()
        def escrow_is_the_sum_of_open_deals(self):
            held = sum(
                deal["price"]
                for deal in self.deals.values()
                if deal["state"] in HOLDS_ESCROW or (deal["state"] == DealState.OPEN and deal["side"] != Side.OFFER)
            )
            balance = w3_token.functions.balanceOf(market.address).call()
            assert balance == w3_market.functions.escrowTotal().call() == held

        @invariant()
        def nothing_leaves_the_closed_loop(self):
            balances = {a: w3_token.functions.balanceOf(a).call() for a in holders}
            assert w3_token.functions.totalSupply().call() == self.supply == sum(balances.values())
            assert balances[outsider.address] == 0 and balances[community_admin.address] == 0

    run_state_machine_as_test(
        MarketMachine,
        settings=settings(
            max_examples=15, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
