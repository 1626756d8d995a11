"""Stateful property test of the marketplace against a Python model of every deal and every balance.

Members, the community admin, the token admin and time act at random: deals of every category are created, taken,
completed, confirmed, cancelled, disputed, resolved and expired, while members are removed, the token is paused,
and the category policies, incentive budget, profile weights, windows and expiry rule change. The model — written
from the rules (terms frozen at creation, the profile weight when the price goes into escrow, a removed provider's
deal refunded, incentives within fee + budget) and never read back from the contract — predicts every refusal (named
by its custom error) and every balance to the unit; the treasury's in/out ledger (fees and removals in; incentives
and tasks out; refunds and redirected shares in) is checked after every step, with the escrow and each deal's state.
Transactions and reads go through contract_helpers.FastRpc, so that `make test-deep` can take 10 000 steps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from contract_helpers import STATEFUL_TIMEOUT, UNIT, ZERO_ADDRESS, FastRpc, stateful_runs
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

from lec.market.policy import (
    CATEGORIES,
    DealState,
    Kind,
    Policy,
    Side,
    budget_spent,
    incentive_paid,
    resolution,
    split,
)

DAY = 86_400
EPOCH = 30 * DAY
# A step is honest (the right actor on a deal in a fitting state) unless the draw is 3; hypothesis leans to small
# draws, so most steps walk the lifecycle and the rest try what must be refused.
HONEST = st.integers(0, 3).map(lambda n: n != 3)
# Cancelling ends a deal: only a rare step cancels one that can be cancelled, so that deals live on.
RARELY = st.integers(0, 3).map(lambda n: n == 3)
HOLDS_ESCROW = {DealState.ACCEPTED, DealState.COMPLETED, DealState.DISPUTED}
WALKABLE = {DealState.OPEN} | HOLDS_ESCROW
steps_taken = 0


@dataclass
class Deal:
    category: int
    side: Side
    provider: str | None
    payer: str | None
    venue: str | None
    price: int
    cashback: int
    policy: Policy  # frozen at creation
    rules: tuple[int, int, int, bool]  # completion, confirm, dispute window, settle on expiry: frozen at creation
    at: int
    state: DealState = DealState.OPEN
    weight: int = 0  # frozen when the price goes into escrow (stakeholder→citizen only)

    @property
    def escrow(self) -> int:
        held = self.state in HOLDS_ESCROW or (self.state == DealState.OPEN and self.side != Side.OFFER)
        return self.price if held else 0

    def deadline(self) -> int | None:
        window = {DealState.ACCEPTED: 0, DealState.COMPLETED: 1, DealState.DISPUTED: 2}.get(self.state)
        return None if window is None else self.at + self.rules[window]


@pytest.mark.timeout(STATEFUL_TIMEOUT)
def test_marketplace_invariants(
    chain, approved, token, community_admin, token_admin, citizen, neighbour, shop, association, outsider
):
    market = approved
    rpc = FastRpc(chain.provider.web3.provider.endpoint_uri)
    citizens, stakeholders = [citizen, neighbour], [shop, association]
    members = citizens + stakeholders
    everyone = members + [community_admin, outsider]
    T, M = token.address, market.address
    holders = [a.address for a in members + [outsider, community_admin]] + [T, M]
    profile_of = {a.address: int(token.member(a).profile) for a in members}
    kind_of = {a.address: Kind.CITIZEN for a in citizens} | {a.address: Kind.STAKEHOLDER for a in stakeholders}

    def of_kind(kind: Kind):
        return citizens if kind is Kind.CITIZEN else stakeholders

    def call(sender, signature: str, *args, error: str | None = None, on=market) -> bool:
        """Sends to the marketplace (or `on`); with `error`, the refusal the model predicts."""
        if error:
            errors_of = token if error.startswith(("CommunityToken", "ERC20", "Enforced")) else on
            rpc.refused(error, sender, on, signature, *args, errors_of=errors_of)
            return False
        rpc.transact(sender, on, signature, *args)
        return True

    class MarketMachine(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.snapshot = chain.snapshot()
            rpc.start_clock()
            self.balances = dict(
                zip(holders, rpc.uints([(T, "balanceOf(address)", (h,)) for h in holders]), strict=True)
            )
            self.supply = token.totalSupply()
            self.treasury_start = self.balances[T]
            self.ledger: Counter[str] = Counter()  # the treasury's flows by reason, signed
            self.active = {a.address for a in members}
            self.removed = False
            self.paused = False
            self.policies = {}
            for c in range(8):
                p = token.categoryPolicy(c)
                self.policies[c] = (Policy(p.feeBps, p.incentiveBps, p.venueBps), p.enabled)
            self.budget = token.incentiveBudget()
            self.spent: dict[tuple[int, str], int] = {}
            self.weights = list(market.profileWeights())
            self.rules = (30 * DAY, 7 * DAY, 30 * DAY, True)
            self.deals: dict[int, Deal] = {}

        def teardown(self):
            rpc.clock = None
            chain.restore(self.snapshot)

        def _step(self):
            global steps_taken
            steps_taken += 1

        # -------------------------------------------------------------- the model's token moves

        def _move(self, source: str, to: str, amount: int, reason: str) -> None:
            """A move out of the escrow or the treasury; a share for a removed member goes to the treasury."""
            if to in kind_of and to not in self.active:
                to = T
            self.balances[source] -= amount
            self.balances[to] += amount
            if to == T:
                self.ledger[reason] += amount
            if source == T:
                self.ledger[reason] -= amount

        def _pay_out(self, deal: Deal, amount: int, with_incentive: bool) -> None:
            s = split(
                amount,
                deal.policy,
                category_number=deal.category,
                with_venue=deal.venue is not None,
                cashback_bps=deal.cashback,
                profile_weight_bps=deal.weight,
                with_incentive=with_incentive,
            )
            self._move(M, T, s.fee, "fees in")
            if deal.venue:
                self._move(M, deal.venue, s.venue_share, "removed venue's share in")
            self._move(M, deal.payer, s.cashback, "removed payer's cashback in")
            self._move(M, deal.provider, s.to_provider, "removed provider's pay in")
            recipient = deal.payer if deal.category == 2 else deal.provider
            if with_incentive and recipient in self.active and s.incentive:
                epoch = (rpc.clock - 1) // EPOCH  # the settling transaction was just mined at clock - 1
                spent = self.spent.get((epoch, recipient), 0)
                paid = incentive_paid(
                    s.incentive,
                    s.fee,
                    category_number=deal.category,
                    budget_left=max(self.budget - spent, 0),
                    treasury=self.balances[T],
                )
                self.spent[(epoch, recipient)] = spent + budget_spent(
                    paid, s.incentive, s.fee, category_number=deal.category
                )
                self._move(T, recipient, paid, "incentives out")

        def _settle(self, deal: Deal) -> None:
            if deal.side != Side.TASK and deal.provider not in self.active:
                self._move(M, deal.payer, deal.price, "refund of a removed payer in")
                deal.state = DealState.CANCELLED
                return
            self._pay_out(deal, deal.price, True)
            deal.state = DealState.SETTLED

        def _resolve(self, deal: Deal, provider_bps: int) -> None:
            to_provider_side, refunded = resolution(deal.price, provider_bps)
            if deal.provider not in self.active:
                to_provider_side, refunded = 0, deal.price
            if to_provider_side:
                self._pay_out(deal, to_provider_side, False)
            self._move(M, deal.payer, refunded, "task refunds in" if deal.side == Side.TASK else "refund in")
            deal.state = DealState.RESOLVED

        def _refund(self, deal: Deal) -> None:
            if deal.escrow:
                self._move(M, deal.payer, deal.escrow, "task refunds in" if deal.side == Side.TASK else "refund in")
            deal.state = DealState.CANCELLED

        # -------------------------------------------------------------- helpers

        def _pick(self, d: int, honest: bool, states: tuple[DealState, ...]) -> tuple[int, Deal]:
            ids = sorted(self.deals)
            fitting = [i for i in ids if self.deals[i].state in states]
            pool = fitting if honest and fitting else ids
            deal_id = pool[d % len(pool)]
            return deal_id, self.deals[deal_id]

        def _actor(self, honest: bool, k: int, proper: str | None):
            if honest and proper is not None:
                return next(a for a in everyone if a.address == proper)
            return everyone[k]

        def _is(self, account: str | None, kind: Kind) -> bool:
            return account in self.active and kind_of.get(account) is kind

        def _create(self, category: int, side: Side, provider, payer, venue, price, cashback=0) -> None:
            deal_id = len(self.deals) + 1
            self.deals[deal_id] = Deal(
                category,
                side,
                provider,
                payer,
                venue,
                price,
                cashback,
                self.policies[category][0],
                self.rules,
                rpc.clock - 1,
            )

        def _creation_refusal(self, category: int, price: int) -> str | None:
            if not self.policies[category][1]:
                return "MarketplaceCategoryDisabled"
            return None

        # -------------------------------------------------------------- creation

        def _few_open(self) -> bool:
            return sum(deal.state == DealState.OPEN for deal in self.deals.values()) < 3

        @precondition(_few_open)
        @rule(
            c=st.integers(0, 4),
            k=st.integers(0, 1),
            v=st.integers(0, 1),
            price=st.integers(1, 3 * UNIT),
            cb=st.sampled_from([0, 500]),
        )
        def offer(self, c, k, v, price, cb):
            self._step()
            cat = CATEGORIES[c]
            provider = of_kind(cat.provider)[k]
            venue = stakeholders[v] if cat.venue else None
            cashback = cb if c == 2 else 0
            args = (c, price, DESCRIPTION, ZERO_ADDRESS, venue.address if venue else ZERO_ADDRESS, cashback)
            signature = "offer(uint8,uint256,bytes32,address,address,uint16)"
            if not self._is(provider.address, cat.provider):
                call(provider, signature, *args, error="MarketplaceWrongKind")
            elif not self.policies[c][1]:
                call(provider, signature, *args, error="MarketplaceCategoryDisabled")
            elif venue and not self._is(venue.address, Kind.STAKEHOLDER):
                call(provider, signature, *args, error="MarketplaceInvalidVenue")
            else:
                call(provider, signature, *args)
                self._create(c, Side.OFFER, provider.address, None, venue and venue.address, price, cashback)

        @precondition(_few_open)
        @rule(c=st.integers(0, 4), k=st.integers(0, 1), v=st.integers(0, 1), share=st.integers(1, 110))
        def request(self, c, k, v, share):
            self._step()
            cat = CATEGORIES[c]
            payer = of_kind(cat.payer)[k]
            venue = stakeholders[v] if cat.venue else None
            price = max(self.balances[payer.address] * share // 100, 1)
            args = (c, price, DESCRIPTION, ZERO_ADDRESS, venue.address if venue else ZERO_ADDRESS)
            signature = "request(uint8,uint256,bytes32,address,address)"
            if not self._is(payer.address, cat.payer):
                call(payer, signature, *args, error="MarketplaceWrongKind")
            elif not self.policies[c][1]:
                call(payer, signature, *args, error="MarketplaceCategoryDisabled")
            elif venue and not self._is(venue.address, Kind.STAKEHOLDER):
                call(payer, signature, *args, error="MarketplaceInvalidVenue")
            elif self.paused:
                call(payer, signature, *args, error="EnforcedPause")
            elif price > self.balances[payer.address]:
                call(payer, signature, *args, error="ERC20InsufficientBalance")
            else:
                call(payer, signature, *args)
                self._create(c, Side.REQUEST, None, payer.address, venue and venue.address, price)
                deal = self.deals[len(self.deals)]
                deal.weight = self.weights[profile_of[payer.address]] if c == 2 else 0
                self._move(payer.address, M, price, "escrow")

        @precondition(_few_open)
        @rule(c=st.integers(5, 7), v=st.integers(0, 1), share=st.integers(1, 110))
        def publish_task(self, c, v, share):
            self._step()
            venue = stakeholders[v] if CATEGORIES[c].venue else None
            price = max(self.balances[T] * share // 1000, 1)
            args = (c, price, DESCRIPTION, ZERO_ADDRESS, venue.address if venue else ZERO_ADDRESS)
            signature = "publishTask(uint8,uint256,bytes32,address,address)"
            if not self.policies[c][1]:
                call(community_admin, signature, *args, error="MarketplaceCategoryDisabled")
            elif venue and not self._is(venue.address, Kind.STAKEHOLDER):
                call(community_admin, signature, *args, error="MarketplaceInvalidVenue")
            elif self.paused:
                call(community_admin, signature, *args, error="EnforcedPause")
            elif price > self.balances[T]:
                call(community_admin, signature, *args, error="CommunityTokenTreasuryInsufficient")
            else:
                call(community_admin, signature, *args)
                self._create(c, Side.TASK, None, T, venue and venue.address, price)
                self._move(T, M, price, "tasks out")

        # -------------------------------------------------------------- lifecycle

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def accept(self, d, k, honest):
            self._step()
            deal_id, deal = self._pick(d, honest, (DealState.OPEN,))
            cat = CATEGORIES[deal.category]
            as_provider = deal.side != Side.OFFER
            needed = cat.provider if as_provider else cat.payer
            fit = [a for a in of_kind(needed) if a.address not in (deal.provider, deal.payer, deal.venue)]
            taker = self._actor(honest, k, fit[k % len(fit)].address if fit else None)
            creator = deal.payer if as_provider else deal.provider
            creator_kind = cat.payer if as_provider else cat.provider
            error = None
            if deal.state != DealState.OPEN:
                error = "MarketplaceWrongState"
            elif not self.policies[deal.category][1]:
                error = "MarketplaceCategoryDisabled"
            elif deal.side != Side.TASK and not self._is(creator, creator_kind):
                error = "MarketplaceCreatorNotMember"
            elif deal.venue and not self._is(deal.venue, Kind.STAKEHOLDER):
                error = "MarketplaceInvalidVenue"
            elif taker.address in (deal.provider, deal.payer, deal.venue):
                error = "MarketplaceSelfDeal"
            elif not self._is(taker.address, needed):
                error = "MarketplaceWrongKind"
            elif not as_provider and self.paused:
                error = "EnforcedPause"
            elif not as_provider and deal.price > self.balances[taker.address]:
                error = "ERC20InsufficientBalance"
            if not call(taker, "accept(uint256)", deal_id, error=error):
                return
            deal.state, deal.at = DealState.ACCEPTED, rpc.clock - 1
            if as_provider:
                deal.provider = taker.address
            else:
                deal.payer = taker.address
                deal.weight = self.weights[profile_of[taker.address]] if deal.category == 2 else 0
                self._move(taker.address, M, deal.price, "escrow")

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def complete(self, d, k, honest):
            self._step()
            deal_id, deal = self._pick(d, honest, (DealState.ACCEPTED,))
            by = self._actor(honest, k, deal.provider)
            error = None
            if deal.state != DealState.ACCEPTED:
                error = "MarketplaceWrongState"
            elif by.address != deal.provider:
                error = "MarketplaceNotParty"
            if call(by, "complete(uint256)", deal_id, error=error):
                deal.state, deal.at = DealState.COMPLETED, rpc.clock - 1

        def _payer_actor(self, deal: Deal) -> str | None:
            return community_admin.address if deal.side == Side.TASK else deal.payer

        def _payer_side_error(self, deal: Deal, by) -> str | None:
            if deal.side == Side.TASK:
                return None if by == community_admin else "MarketplaceNotCommunityAdmin"
            return None if by.address == deal.payer else "MarketplaceNotParty"

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def confirm(self, d, k, honest):
            self._step()
            deal_id, deal = self._pick(d, honest, (DealState.ACCEPTED, DealState.COMPLETED))
            by = self._actor(honest, k, self._payer_actor(deal))
            if deal.state not in (DealState.ACCEPTED, DealState.COMPLETED):
                error = "MarketplaceWrongState"
            else:
                error = self._payer_side_error(deal, by) or ("EnforcedPause" if self.paused else None)
            if call(by, "confirm(uint256)", deal_id, error=error):
                deal.at = rpc.clock - 1
                self._settle(deal)

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=RARELY)
        def cancel(self, d, k, honest):
            self._step()
            deal_id, deal = self._pick(d, honest, (DealState.OPEN, DealState.ACCEPTED))
            creator = {Side.OFFER: deal.provider, Side.REQUEST: deal.payer, Side.TASK: community_admin.address}
            proper = creator[deal.side] if deal.state == DealState.OPEN else deal.provider
            by = self._actor(honest, k, proper)
            if deal.state == DealState.OPEN and deal.side == Side.TASK:
                error = None if by == community_admin else "MarketplaceNotCommunityAdmin"
            elif deal.state == DealState.OPEN:
                error = None if by.address == creator[deal.side] else "MarketplaceNotParty"
            elif deal.state == DealState.ACCEPTED:
                error = None if by.address == deal.provider else "MarketplaceNotParty"
            else:
                error = "MarketplaceWrongState"
            if error is None and deal.escrow and self.paused:
                error = "EnforcedPause"
            if call(by, "cancel(uint256)", deal_id, error=error):
                deal.at = rpc.clock - 1
                self._refund(deal)

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), honest=HONEST)
        def dispute(self, d, k, honest):
            self._step()
            deal_id, deal = self._pick(d, honest, (DealState.ACCEPTED, DealState.COMPLETED))
            by = self._actor(honest, k, deal.provider if k % 2 else self._payer_actor(deal))
            if deal.state not in (DealState.ACCEPTED, DealState.COMPLETED):
                error = "MarketplaceWrongState"
            elif by.address != deal.provider:
                error = self._payer_side_error(deal, by)
            else:
                error = None
            if call(by, "dispute(uint256)", deal_id, error=error):
                deal.state, deal.at = DealState.DISPUTED, rpc.clock - 1

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), bps=st.integers(0, 10_000), honest=HONEST)
        def resolve(self, d, bps, honest):
            self._step()
            deal_id, deal = self._pick(d, honest, (DealState.DISPUTED,))
            if deal.state != DealState.DISPUTED:
                error = "MarketplaceWrongState"
            else:
                error = "EnforcedPause" if self.paused else None
            if call(community_admin, "resolve(uint256,uint16)", deal_id, bps, error=error):
                deal.at = rpc.clock - 1
                self._resolve(deal, bps)

        @precondition(lambda self: self.deals)
        @rule(d=st.integers(0, 99), days=st.sampled_from([0, 3, 8, 31]), honest=HONEST)
        def expire(self, d, days, honest):
            self._step()
            deal_id, deal = self._pick(d, honest, (DealState.ACCEPTED, DealState.COMPLETED, DealState.DISPUTED))
            rpc.advance(days * DAY)
            deadline = deal.deadline()
            if deadline is None:
                error = "MarketplaceWrongState"
            elif rpc.clock < deadline:
                error = "MarketplaceDeadlineNotReached"
            else:
                error = "EnforcedPause" if self.paused else None
            if not call(outsider, "expire(uint256)", deal_id, error=error):
                return
            deal.at = rpc.clock - 1
            if deal.state == DealState.DISPUTED:
                self._resolve(deal, 5_000)
            elif deal.state == DealState.COMPLETED and deal.rules[3]:
                self._settle(deal)
            else:
                self._refund(deal)

        @precondition(lambda self: any(deal.state in WALKABLE for deal in self.deals.values()))
        @rule(d=st.integers(0, 99), k=st.integers(0, 5), settle=HONEST)
        def walk(self, d, k, settle):
            """The next step of a running deal's happy path, by the proper actor: most deals get somewhere."""
            running = [i for i in sorted(self.deals) if self.deals[i].state in WALKABLE]
            deal = self.deals[running[d % len(running)]]

            # The rules pick among fitting deals by index: find this deal's index among them.
            def index(states):
                return [i for i in sorted(self.deals) if self.deals[i].state in states].index(running[d % len(running)])

            if deal.state == DealState.OPEN:
                self.accept(index((DealState.OPEN,)), k, True)
            elif deal.state == DealState.ACCEPTED:
                self.complete(index((DealState.ACCEPTED,)), k, True)
            elif deal.state == DealState.COMPLETED and settle:
                self.confirm(index((DealState.ACCEPTED, DealState.COMPLETED)), k, True)
            elif deal.state == DealState.COMPLETED:
                self.dispute(index((DealState.ACCEPTED, DealState.COMPLETED)), k, True)
            else:
                self.resolve(index((DealState.DISPUTED,)), k * 2_000, True)

        # -------------------------------------------------------------- the admins' levers and members leaving

        @precondition(lambda self: not self.removed)
        @rule(i=st.integers(0, 3))
        def remove_member(self, i):
            """Right to be forgotten mid-deal (once per run, so that every kind keeps a member)."""
            self._step()
            account = members[i].address
            call(community_admin, "removeMember(address)", account, on=token)
            self.active.discard(account)
            self.removed = True
            self._move(account, T, self.balances[account], "removals in")

        @rule(lever=st.sampled_from(["policy", "budget", "weights", "rules", "pause"]), data=st.data())
        def admin_lever(self, lever, data):
            """One of the admins' levers (a single rule, so that most steps walk deals through their lifecycle)."""
            self._step()
            if lever == "pause":
                call(token_admin, "unpause()" if self.paused else "pause()", on=token)
                self.paused = not self.paused
            elif lever == "policy":
                c = data.draw(st.integers(0, 7))
                policy = Policy(
                    data.draw(st.integers(0, 1_000)), data.draw(st.integers(0, 5_000)), data.draw(st.integers(0, 5_000))
                )
                enabled = data.draw(st.integers(0, 5)) != 5
                signature = "setCategoryPolicy(uint8,uint16,uint16,uint16,bool)"
                call(
                    token_admin, signature, c, policy.fee_bps, policy.incentive_bps, policy.venue_bps, enabled, on=token
                )
                self.policies[c] = (policy, enabled)
            elif lever == "budget":
                self.budget = data.draw(st.sampled_from([0, UNIT // 100, UNIT, 100 * UNIT]))
                call(token_admin, "setIncentiveBudget(uint256)", self.budget, on=token)
            elif lever == "weights":
                self.weights = data.draw(st.lists(st.integers(0, 20_000), min_size=3, max_size=3))
                call(community_admin, "setProfileWeights(uint16,uint16,uint16)", *self.weights)
            else:
                completion = data.draw(st.sampled_from([3_600, 2 * DAY, 30 * DAY]))
                confirm = data.draw(st.sampled_from([3_600, 7 * DAY]))
                dispute = data.draw(st.sampled_from([3_600, 30 * DAY]))
                settle = data.draw(st.booleans())
                call(community_admin, "setWindows(uint64,uint64)", completion, confirm)
                call(community_admin, "setDisputeWindow(uint64)", dispute)
                call(community_admin, "setExpiryRule(bool)", settle)
                self.rules = (completion, confirm, dispute, settle)

        # -------------------------------------------------------------- invariants

        @invariant()
        def every_balance_matches_the_model(self):
            *balances, supply, escrow_total = rpc.uints(
                [(T, "balanceOf(address)", (h,)) for h in holders]
                + [(T, "totalSupply()", ()), (M, "escrowTotal()", ())]
            )
            assert dict(zip(holders, balances, strict=True)) == self.balances
            assert supply == self.supply == sum(self.balances.values())
            assert escrow_total == self.balances[M] == sum(deal.escrow for deal in self.deals.values())

        @invariant()
        def the_treasury_follows_its_ledger(self):
            """Fees, removals, refunds and redirected shares in; incentives and tasks out: nothing else moves it."""
            treasury = rpc.uints([(T, "treasuryBalance()", ())])[0]
            assert treasury == self.treasury_start + sum(self.ledger.values()), dict(self.ledger)

        @invariant()
        def every_deal_is_in_the_state_the_model_predicts(self):
            if self.deals:
                words = rpc.words([(M, "deal(uint256)", (i,)) for i in sorted(self.deals)])
                assert [w[3] for w in words] == [self.deals[i].state for i in sorted(self.deals)]

    examples, steps, wanted = stateful_runs(15, 20)
    machine_settings = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, suppress_health_check=list(HealthCheck)
    )
    global steps_taken
    steps_taken = 0
    run_state_machine_as_test(MarketMachine, settings=machine_settings)
    while steps_taken < wanted:
        run_state_machine_as_test(MarketMachine, settings=machine_settings)
