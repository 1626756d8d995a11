"""Stateful property test of the token against a Python model of what each account should hold and may still claim.

The model is a plain ledger (balances, treasury, supply, membership, pause, fee) and, per period, the notarised
versions and what each account was paid — written from the rules in docs/proofs.md and docs/security.md, never read
back from the contract. Rules cover transfers (also by a non-member spender), joining and removal, the fee, pause,
notarisation, corrections that raise, lower or redistribute the rewards, claims by the member, by the relayer and by
anyone else, and over-payment records. After every step every balance, claim and over-payment is compared with the
model; a refusal must be the one the model predicts, named by its custom error. Transactions and reads go
through contract_helpers.FastRpc, so that `make test-deep` can take 10 000 steps.
"""

from __future__ import annotations

import pytest
from contract_helpers import CITIZEN, CONSUMER, REWARD_LEAF, STATEFUL_TIMEOUT, UNIT, FastRpc, stateful_runs
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

from oracle.proofs.merkle import StandardMerkleTree

BPS = 10_000
BONUS = 5 * UNIT  # the citizens' welcome bonus set by the fixture
FIRST_PERIOD = 20260401
MAX_PERIODS = 3
# Most steps pick a leaf the action fits (hypothesis leans to small draws, so a draw of 3 is the rarer one); the
# others pick any leaf and must be refused as the model says.
FITTING = st.integers(0, 3).map(lambda n: n != 3)
steps_taken = 0


class Period:
    """One period in the model: its latest record and what each account was paid."""

    def __init__(self, leaves: list[tuple[str, int]], total: int):
        self.version = 0
        self.paid: dict[str, int] = {}
        self.overpaid: dict[str, int] = {}
        self.settled_version: dict[str, int] = {}  # the last version whose leaf the account settled
        self.trees: list[StandardMerkleTree] = []
        self.publish(leaves, total)

    def publish(self, leaves: list[tuple[str, int]], total: int) -> None:
        self.version += 1
        self.leaves = leaves
        self.total = total
        self.settled = 0  # leaves of this version settled so far
        self.trees.append(StandardMerkleTree.of([list(leaf) for leaf in leaves], REWARD_LEAF))

    @property
    def tree(self) -> StandardMerkleTree:
        return self.trees[-1]


@pytest.mark.timeout(STATEFUL_TIMEOUT)
def test_token_invariants(
    chain,
    token,
    notary,
    community_id,
    model_id,
    accounts,
    community_admin,
    token_admin,
    oracle_admin,
    relayer,
    citizen,
    neighbour,
    shop,
    outsider,
):
    pool = [citizen, neighbour, shop, outsider, accounts[9]]
    callers = pool + [relayer]
    watched = [a.address for a in callers]
    rpc = FastRpc(chain.provider.web3.provider.endpoint_uri)
    T = token.address

    def tx(sender, signature: str, *args) -> None:
        rpc.transact(sender, token, signature, *args)

    def refused(error: str, sender, signature: str, *args) -> None:
        rpc.refused(error, sender, token, signature, *args)

    def read(*calls: tuple[str, tuple]) -> list[int]:
        return rpc.uints([(T, sig, args) for sig, args in calls])

    class TokenMachine(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.snapshot = chain.snapshot()
            self.balances = dict(zip(watched, read(*(("balanceOf(address)", (a,)) for a in watched)), strict=True))
            self.treasury, self.supply, self.fee = read(
                ("treasuryBalance()", ()), ("totalSupply()", ()), ("feeBps()", ())
            )
            active = read(*(("isMember(address)", (a.address,)) for a in pool))
            self.members = {a.address for a, is_member in zip(pool, active, strict=True) if is_member}
            self.retired: set[str] = set()
            self.paused = False
            self.periods: dict[int, Period] = {}

        def teardown(self):
            chain.restore(self.snapshot)

        def _step(self):
            global steps_taken
            steps_taken += 1

        # -------------------------------------------------------------- moving tokens

        def _move(self, sender: str, receiver: str, amount: int) -> None:
            fee = amount * self.fee // BPS if sender in self.members and receiver in self.members else 0
            self.balances[sender] -= amount
            self.balances[receiver] += amount - fee
            self.treasury += fee

        def _transfer_refusal(self, sender: str, receiver: str, amount: int):
            """The error the token must raise for this transfer, or None when it goes through."""
            if self.paused:
                return "EnforcedPause"
            if sender not in self.members or receiver not in self.members:
                return "CommunityTokenNotMember"
            if amount > self.balances[sender]:
                return "ERC20InsufficientBalance"
            return None

        @rule(s=st.integers(0, 4), r=st.integers(0, 4), share=st.integers(0, 120))
        def transfer(self, s, r, share):
            self._step()
            sender, receiver = pool[s], pool[r]
            amount = self.balances[sender.address] * share // 100 + (1 if share > 100 else 0)
            refusal = self._transfer_refusal(sender.address, receiver.address, amount)
            if refusal:
                refused(refusal, sender, "transfer(address,uint256)", receiver.address, amount)
                return
            tx(sender, "transfer(address,uint256)", receiver.address, amount)
            self._move(sender.address, receiver.address, amount)

        @rule(s=st.integers(0, 4), r=st.integers(0, 4), share=st.integers(0, 100), by_relayer=st.booleans())
        def transfer_from(self, s, r, share, by_relayer):
            """A spender that is no member (the relayer or an outsider) moves tokens between members with an
            allowance: allowed, since the spender never holds the tokens; the fee is paid as for a transfer."""
            self._step()
            spender = relayer if by_relayer else outsider
            owner, receiver = pool[s], pool[r]
            amount = self.balances[owner.address] * share // 100
            tx(owner, "approve(address,uint256)", spender.address, amount)
            refusal = self._transfer_refusal(owner.address, receiver.address, amount)
            signature = "transferFrom(address,address,uint256)"
            if refusal:
                refused(refusal, spender, signature, owner.address, receiver.address, amount)
                return
            tx(spender, signature, owner.address, receiver.address, amount)
            self._move(owner.address, receiver.address, amount)
            assert read(("allowance(address,address)", (owner.address, spender.address))) == [0]

        # -------------------------------------------------------------- membership, fee, pause

        @rule(i=st.integers(0, 4))
        def add_member(self, i):
            self._step()
            account = pool[i].address
            add = ("addMember(address,uint8,uint8)", account, CITIZEN, CONSUMER)
            if account in self.members:
                refused("CommunityTokenAlreadyMember", community_admin, *add)
            elif account in self.retired:
                refused("CommunityTokenAccountRetired", community_admin, *add)
            elif self.paused:  # the welcome bonus is a movement the pause stops
                refused("EnforcedPause", community_admin, *add)
            else:
                tx(community_admin, *add)
                self._joined(account)

        def _joined(self, account: str) -> None:
            self.members.add(account)
            self.balances[account] += BONUS
            self.supply += BONUS

        @precondition(lambda self: len(self.members) > 2)  # a removed wallet never returns: keep a community
        @rule(i=st.integers(0, 4))
        def remove_member(self, i):
            """The right to be forgotten works while paused too."""
            self._step()
            account = pool[i].address
            if account not in self.members:
                refused("CommunityTokenNotMember", community_admin, "removeMember(address)", account)
                return
            tx(community_admin, "removeMember(address)", account)
            self.members.discard(account)
            self.retired.add(account)
            self.treasury += self.balances[account]
            self.balances[account] = 0

        @rule(bps=st.integers(0, 1_200))
        def set_fee(self, bps):
            self._step()
            if bps > 1_000:
                refused("CommunityTokenAboveCap", token_admin, "setTransferFee(uint16)", bps)
                return
            tx(token_admin, "setTransferFee(uint16)", bps)
            self.fee = bps

        @rule()
        def toggle_pause(self):
            self._step()
            if self.paused:
                refused("EnforcedPause", token_admin, "pause()")
                tx(token_admin, "unpause()")
            else:
                refused("ExpectedPause", token_admin, "unpause()")
                tx(token_admin, "pause()")
            self.paused = not self.paused

        # -------------------------------------------------------------- rewards

        def _notarise(self, period: int, leaves: list[tuple[str, int]], total: int, reason: str = "") -> None:
            tree = StandardMerkleTree.of([list(leaf) for leaf in leaves], REWARD_LEAF)
            root = bytes.fromhex(tree.root[2:])
            args = (community_id, period, b"\x11" * 32, root, b"\x22" * 32, model_id, total, len(leaves))
            record = "uint256,uint256,bytes32,bytes32,bytes32,uint256,uint256,uint256"
            if reason:
                rpc.transact(oracle_admin, notary, f"correct({record},string)", *args, reason)
            else:
                rpc.transact(oracle_admin, notary, f"notarise({record})", *args)

        @precondition(lambda self: len(self.periods) < MAX_PERIODS)
        @rule(
            amounts=st.lists(st.integers(1, 20 * UNIT), min_size=1, max_size=5),
            shortfall=st.sampled_from([0, 0, 0, UNIT]),
        )
        def publish(self, amounts, shortfall):
            """A new period; its leaves name anyone in the pool (a removed member's reward stays unclaimable)."""
            self._step()
            leaves = [(pool[k].address, amount) for k, amount in enumerate(amounts)]
            # An oracle bug may notarise a total below the sum of the leaves: the token caps at the total.
            total = max(sum(a for _, a in leaves) - shortfall, 1)
            period = FIRST_PERIOD + len(self.periods)
            self._notarise(period, leaves, total)
            self.periods[period] = Period(leaves, total)

        @precondition(lambda self: self.periods)
        @rule(
            p=st.integers(0, MAX_PERIODS - 1),
            how=st.sampled_from(["up", "down", "redistribute", "drop"]),
            delta=st.integers(1, 5 * UNIT),
            claimed_first=st.booleans(),
        )
        def correct(self, p, how, delta, claimed_first):
            """A correction as the oracle publishes it: the full new amounts, total = their sum; often right after
            the claims of the version it corrects were paid (the audit's lock-out)."""
            self._step()
            period = sorted(self.periods)[p % len(self.periods)]
            model = self.periods[period]
            if claimed_first:
                self._claim_everything(period)
            amounts = [amount for _, amount in model.leaves]
            if how == "up":
                amounts = [a + delta for a in amounts]
            elif how == "down":
                amounts = [max(a - delta, 1) for a in amounts]
            elif how == "redistribute":
                amounts = amounts[1:] + amounts[:1]
            leaves = [(account, amount) for (account, _), amount in zip(model.leaves, amounts, strict=True)]
            if how == "drop" and len(leaves) > 1:
                leaves = leaves[:-1]
            self._notarise(period, leaves, sum(a for _, a in leaves), reason=how)
            model.publish(leaves, sum(a for _, a in leaves))

        def _claim_refusal(self, model: Period, caller: str, account: str, amount: int):
            if caller != account and caller != relayer.address:
                return "CommunityTokenUnauthorizedRelayer"
            if account not in self.members:
                return "CommunityTokenNotMember"
            paid = model.paid.get(account, 0)
            if amount <= paid or model.settled_version.get(account) == model.version:
                return "CommunityTokenNothingToClaim"
            if model.settled + amount > model.total:
                return "CommunityTokenPeriodTotalExceeded"
            if self.paused:
                return "EnforcedPause"
            return None

        def _claim(self, period: int, index: int, caller) -> None:
            model = self.periods[period]
            account, amount = model.leaves[index]
            proof = [bytes.fromhex(node[2:]) for node in model.tree.get_proof(index)]
            claim = ("claimFor(address,uint256,uint256,bytes32[])", account, period, amount, proof)
            refusal = self._claim_refusal(model, caller.address, account, amount)
            if refusal:
                refused(refusal, caller, *claim)
                return
            tx(caller, *claim)
            due = amount - model.paid.get(account, 0)
            model.paid[account] = amount
            model.overpaid[account] = 0
            model.settled_version[account] = model.version
            model.settled += amount
            self.balances[account] += due
            self.supply += due

        def _leaf(self, p: int, k: int, fitting: bool, fits) -> tuple[int, int]:
            """(period, leaf index): a leaf for which `fits(model, account, amount)` holds when `fitting` and one
            exists, any leaf otherwise."""
            period = sorted(self.periods)[p % len(self.periods)]
            model = self.periods[period]
            indices = [i for i, (a, amount) in enumerate(model.leaves) if fits(model, a, amount)] if fitting else []
            indices = indices or list(range(len(model.leaves)))
            return period, indices[k % len(indices)]

        @precondition(lambda self: self.periods)
        @rule(p=st.integers(0, MAX_PERIODS - 1), k=st.integers(0, 4), c=st.integers(0, 5), fitting=FITTING)
        def claim(self, p, k, c, fitting):
            """The member itself, the relayer, or anyone else (refused) submits a leaf of the latest version."""
            self._step()
            period, index = self._leaf(p, k, fitting, lambda m, a, amount: amount > m.paid.get(a, 0))
            model = self.periods[period]
            caller = callers[c] if c < 5 else relayer
            if c == 0:  # the member itself
                caller = next(a for a in callers if a.address == model.leaves[index][0])
            self._claim(period, index, caller)

        @precondition(lambda self: self.periods)
        @rule(p=st.integers(0, MAX_PERIODS - 1))
        def relayer_claims_everything(self, p):
            """The oracle's claim run: every leaf of the latest version whose member may claim more."""
            self._step()
            self._claim_everything(sorted(self.periods)[p % len(self.periods)])

        def _claim_everything(self, period: int) -> None:
            model = self.periods[period]
            for index, (account, amount) in enumerate(model.leaves):
                if account in self.members and amount > model.paid.get(account, 0):
                    self._claim(period, index, relayer)

        @precondition(lambda self: any(len(m.trees) > 1 for m in self.periods.values()))
        @rule(p=st.integers(0, MAX_PERIODS - 1), k=st.integers(0, 4))
        def stale_leaf_is_refused(self, p, k):
            self._step()
            corrected = [period for period, m in sorted(self.periods.items()) if len(m.trees) > 1]
            period = corrected[p % len(corrected)]
            model = self.periods[period]
            old = model.trees[0]
            if old.root == model.tree.root:
                return
            account, amount = old.values[k % len(old.values)]
            proof = [bytes.fromhex(node[2:]) for node in old.get_proof(k % len(old.values))]
            claim = ("claim(uint256,uint256,bytes32[])", period, int(amount), proof)
            owner = next(a for a in callers if a.address.lower() == str(account).lower())
            error = "CommunityTokenInvalidProof" if owner.address in self.members else "CommunityTokenNotMember"
            refused(error, owner, *claim)

        @precondition(lambda self: self.periods)
        @rule(p=st.integers(0, MAX_PERIODS - 1), k=st.integers(0, 4), fitting=FITTING)
        def record_overpayment(self, p, k, fitting):
            """Anyone may record that a correction left an account paid above its new amount."""
            self._step()
            period, index = self._leaf(
                p, k, fitting, lambda m, a, amount: amount < m.paid.get(a, 0) and m.settled_version.get(a) != m.version
            )
            model = self.periods[period]
            account, amount = model.leaves[index]
            proof = [bytes.fromhex(node[2:]) for node in model.tree.get_proof(index)]
            record = ("recordOverpayment(address,uint256,uint256,bytes32[])", account, period, amount, proof)
            paid = model.paid.get(account, 0)
            if amount > paid:
                refused("CommunityTokenNotOverpaid", outsider, *record)
            elif model.settled_version.get(account) == model.version:
                refused("CommunityTokenLeafSettled", outsider, *record)
            elif model.settled + amount > model.total:
                refused("CommunityTokenPeriodTotalExceeded", outsider, *record)
            else:
                tx(outsider, *record)
                self._overpaid(model, account, paid - amount, amount)

        def _overpaid(self, model: Period, account: str, overpaid: int, amount: int) -> None:
            model.overpaid[account] = overpaid
            model.settled_version[account] = model.version
            model.settled += amount

        # -------------------------------------------------------------- invariants

        @invariant()
        def balances_match_the_model(self):
            *balances, treasury, supply = read(
                *(("balanceOf(address)", (a,)) for a in watched), ("treasuryBalance()", ()), ("totalSupply()", ())
            )
            assert dict(zip(watched, balances, strict=True)) == self.balances
            assert treasury == self.treasury
            assert supply == self.supply == sum(self.balances.values()) + self.treasury

        @invariant()
        def nothing_outside_the_loop(self):
            for account in watched:
                if account not in self.members:
                    assert self.balances[account] == 0

        @invariant()
        def claims_match_the_model(self):
            calls, expected = [], []
            for period, model in self.periods.items():
                calls += [("claimedTotal(uint256)", (period,)), ("overpaidTotal(uint256)", (period,))]
                expected += [sum(model.paid.values()), sum(model.overpaid.values())]
                for account in watched:
                    calls += [("claimed(uint256,address)", (period, account))]
                    calls += [("overpaid(uint256,address)", (period, account))]
                    expected += [model.paid.get(account, 0), model.overpaid.get(account, 0)]
            assert read(*calls) == expected

    examples, steps, wanted = stateful_runs(12, 15)
    machine_settings = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, suppress_health_check=list(HealthCheck)
    )
    global steps_taken
    steps_taken = 0
    run_state_machine_as_test(TokenMachine, settings=machine_settings)
    while steps_taken < wanted:
        run_state_machine_as_test(TokenMachine, settings=machine_settings)
