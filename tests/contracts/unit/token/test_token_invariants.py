"""Stateful property test of the token's invariants: supply equals the sum of balances, every fee reaches the
treasury, no transfer leaves the closed loop, a leaf is claimed once, claims never exceed the period total."""

from __future__ import annotations

import ape
from contract_helpers import CITIZEN, CONSUMER, REWARD_LEAF, UNIT
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
    citizen,
    neighbour,
    shop,
    outsider,
):
    pool = [citizen, neighbour, shop, outsider, accounts[9]]

    class TokenMachine(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.snapshot = chain.snapshot()
            self.balances = {a.address: token.balanceOf(a) for a in pool}
            self.treasury = token.treasuryBalance()
            self.supply = token.totalSupply()
            self.members = {a.address for a in pool if token.isMember(a)}
            self.retired = set()
            self.fee = token.feeBps()
            self.periods = {}  # periodId -> (tree, amounts, total)
            self.claimed = set()
            self.next_period = 20260401

        def teardown(self):
            chain.restore(self.snapshot)

        @rule(s=st.integers(0, 4), r=st.integers(0, 4), share=st.integers(0, 120))
        def transfer(self, s, r, share):
            sender, receiver = pool[s], pool[r]
            amount = self.balances[sender.address] * share // 100
            ok = (
                sender.address in self.members
                and receiver.address in self.members
                and amount <= self.balances[sender.address]
            )
            if not ok:
                with ape.reverts():
                    token.transfer(receiver, amount, sender=sender)
                return
            token.transfer(receiver, amount, sender=sender)
            fee = amount * self.fee // BPS
            self.balances[sender.address] -= amount
            self.balances[receiver.address] += amount - fee
            self.treasury += fee

        @rule(i=st.integers(0, 4))
        def add_member(self, i):
            account = pool[i]
            if account.address in self.members or account.address in self.retired:
                with ape.reverts():
                    token.addMember(account, CITIZEN, CONSUMER, sender=community_admin)
                return
            token.addMember(account, CITIZEN, CONSUMER, sender=community_admin)
            self.members.add(account.address)
            self.balances[account.address] += 5 * UNIT
            self.supply += 5 * UNIT

        @rule(i=st.integers(0, 4))
        def remove_member(self, i):
            account = pool[i]
            if account.address not in self.members:
                with ape.reverts(token.CommunityTokenNotMember):
                    token.removeMember(account, sender=community_admin)
                return
            token.removeMember(account, sender=community_admin)
            self.members.discard(account.address)
            self.retired.add(account.address)
            self.treasury += self.balances[account.address]
            self.balances[account.address] = 0

        @rule(bps=st.integers(0, 1_200))
        def set_fee(self, bps):
            if bps > 1_000:
                with ape.reverts(token.CommunityTokenAboveCap):
                    token.setTransferFee(bps, sender=token_admin)
                return
            token.setTransferFee(bps, sender=token_admin)
            self.fee = bps

        @precondition(lambda self: self.members and self.next_period < 20260429)
        @rule(amounts=st.lists(st.integers(1, 50 * UNIT), min_size=1, max_size=4), shortfall=st.integers(0, 10 * UNIT))
        def publish(self, amounts, shortfall):
            members = sorted(self.members)
            leaves = [[members[k % len(members)], amt] for k, amt in enumerate(amounts[: len(members)])]
            tree = StandardMerkleTree.of(leaves, REWARD_LEAF)
            total = max(sum(a for _, a in leaves) - shortfall, 1)
            period = self.next_period
            self.next_period += 1
            notary.notarise(
                community_id,
                period,
                "0x" + "11" * 32,
                tree.root,
                "0x" + "22" * 32,
                model_id,
                total,
                len(leaves),
                sender=oracle_admin,
            )
            self.periods[period] = (tree, leaves, total)

        @precondition(lambda self: self.periods)
        @rule(p=st.integers(0, 100), k=st.integers(0, 3))
        def claim(self, p, k):
            period = sorted(self.periods)[p % len(self.periods)]
            tree, leaves, total = self.periods[period]
            account, amount = leaves[k % len(leaves)]
            proof = tree.get_proof([account, amount])
            claimed_so_far = token.claimedTotal(period)
            ok = account in self.members and (period, account) not in self.claimed and claimed_so_far + amount <= total
            if not ok:
                with ape.reverts():
                    token.claimFor(account, period, amount, proof, sender=outsider)
                return
            token.claimFor(account, period, amount, proof, sender=outsider)
            self.claimed.add((period, account))
            self.balances[account] += amount
            self.supply += amount

        @invariant()
        def balances_match_the_model(self):
            for account in pool:
                assert token.balanceOf(account) == self.balances[account.address]
            assert token.treasuryBalance() == self.treasury

        @invariant()
        def supply_is_the_sum_of_balances(self):
            assert token.totalSupply() == self.supply == sum(self.balances.values()) + self.treasury

        @invariant()
        def nothing_outside_the_loop(self):
            for account in pool:
                if account.address not in self.members:
                    assert token.balanceOf(account) == 0

        @invariant()
        def claims_within_totals(self):
            for period, (_, _, total) in self.periods.items():
                assert token.claimedTotal(period) <= total

    run_state_machine_as_test(
        TokenMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
