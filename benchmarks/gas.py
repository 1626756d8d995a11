"""Gas of the platform's contract operations, side by side with a plain OpenZeppelin ERC20 in the same run.

    make bench-gas                     # prints the table and rewrites the figures in docs/gas.md
    python -m benchmarks.gas [--out docs/gas.md]

Runs on a throw-away anvil started by ape-foundry (the figures do not depend on the chain id). Every figure
is the `gasUsed` of a mined transaction, 21 000 base included.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from ape import accounts, networks, project

from lec.lab.polls import BALLOT_LEAF_ENCODING
from oracle.proofs.merkle import StandardMerkleTree
from scripts._lec.bench_market import bench_marketplace
from scripts._lec.values import UNIT

REWARD_LEAF = ["address", "uint256"]
Row = tuple[str, int, str]  # (operation, gas, note)


def filler(n: int) -> list[str]:
    """n distinct non-member addresses to fill a rewards tree to a given size."""
    return ["0x" + f"{i + 1:040x}" for i in range(n)]


def setup_platform(admin):
    registry = project.Registry.deploy(admin, sender=admin)
    models = project.RewardModels.deploy(admin, sender=admin)
    notary = project.Notary.deploy(registry, models, sender=admin)
    registry.setCore(notary, models, sender=admin)
    models.registerModel("bench", "self_consumption", '{"a":1}', sender=admin)
    registry.createCommunity("Bench", "BEN", admin, sender=admin)
    token = project.CommunityToken.at(registry.tokenOf(1))
    token.setWelcomeBonus(1, 5 * UNIT, sender=admin)
    token.setTransferFee(100, sender=admin)
    token.fundTreasury(1_000 * UNIT, "bench", sender=admin)
    return registry, models, notary, token


def bench_transfers(admin, token, users) -> list[Row]:
    a, b = users[0], users[1]
    plain = project.PlainToken.deploy(0, sender=admin)
    plain.mint(a, 100 * UNIT, sender=admin)
    plain.mint(b, 100 * UNIT, sender=admin)
    for u in (a, b):
        token.addMember(u, 1, 0, sender=admin)
    token.transfer(b, UNIT, sender=a)  # warm up: every balance involved is non-zero from here on
    plain.transfer(b, UNIT, sender=a)
    plain_gas = plain.transfer(b, UNIT, sender=a).gas_used
    member_gas = token.transfer(b, UNIT, sender=a).gas_used
    ratio = member_gas / plain_gas
    return [
        ("plain OpenZeppelin ERC20 transfer (reference)", plain_gas, "1.00×"),
        ("member transfer with 1 % fee to the treasury", member_gas, f"{ratio:.2f}× the reference (target ≤ 1.6×)"),
    ]


def bench_add_member(admin, token, users) -> list[Row]:
    gas = token.addMember(users[2], 1, 1, sender=admin).gas_used
    return [("add a member with a 5-token welcome bonus", gas, "")]


def bench_publish(admin, notary, members) -> list[Row]:
    rows = []
    for i, n in enumerate((10, 1_000, 100_000)):
        leaves = [[addr, UNIT + k] for k, addr in enumerate(filler(n))]
        tree = StandardMerkleTree.of(leaves, REWARD_LEAF)
        gas = notary.notarise(
            1, 20260101 + i, "0x" + "11" * 32, tree.root, "0x" + "22" * 32, 1, n * UNIT, n, sender=admin
        ).gas_used
        rows.append((f"publish a period for {n:,} members", gas, "independent of the number of members"))
    return rows


def bench_polls(admin, notary) -> list[Row]:
    """A poll's close: `notarisePoll` stores the ballots root, the tally hash and the count, whatever the number of
    ballots; a member's check that their ballot is counted is the view `verifyBallotLeaf` (free to call; its
    estimate is shown as the work it does)."""
    rows: list[Row] = []
    for i, n in enumerate((10, 1_000, 100_000)):
        leaves = [["0x" + f"{k + 1:064x}", k % 3] for k in range(n)]
        tree = StandardMerkleTree.of(leaves, BALLOT_LEAF_ENCODING)
        tally_hash = "0x" + f"{i + 1:064x}"
        gas = notary.notarisePoll(1, 9_000 + i, tree.root, tally_hash, n, sender=admin).gas_used
        rows.append((f"notarise a poll's tally with {n:,} ballots", gas, "independent of the number of ballots"))
        proof = tree.get_proof(leaves[0])
        assert notary.verifyBallotLeaf(1, 9_000 + i, leaves[0][0], leaves[0][1], proof)
        estimate = notary.verifyBallotLeaf.estimate_gas_cost(
            1, 9_000 + i, leaves[0][0], leaves[0][1], proof, sender=admin
        )
        rows.append(
            (
                f"verify one ballot among {n:,} (view, proof depth {len(proof)})",
                estimate,
                "eth_estimateGas; free as a call",
            )
        )
    return rows


def bench_claims(admin, notary, token, users) -> list[Row]:
    rows = []
    claimers = users[3:5]
    for u in claimers:
        token.addMember(u, 1, 0, sender=admin)
    for i, depth in enumerate((4, 10, 17)):
        n = 2**depth
        leaves = [[u.address, UNIT] for u in claimers] + [[addr, UNIT] for addr in filler(n - len(claimers))]
        tree = StandardMerkleTree.of(leaves, REWARD_LEAF)
        period = 20260201 + i
        notary.notarise(1, period, "0x" + "11" * 32, tree.root, "0x" + "22" * 32, 1, n * UNIT, n, sender=admin)
        gas = []
        for u in claimers:
            proof = tree.get_proof([u.address, UNIT])
            assert len(proof) == depth == math.ceil(math.log2(n))
            gas.append(token.claim(period, UNIT, proof, sender=u).gas_used)
        rows.append((f"claim at proof depth {depth} (first claim of the period)", gas[0], f"{n:,} leaves"))
        rows.append((f"claim at proof depth {depth} (later claims)", gas[1], "target < 100 000 at depth 17"))
    rows += bench_correction(admin, notary, token, claimers, period, n)
    return rows


def bench_correction(admin, notary, token, claimers, period: int, n: int) -> list[Row]:
    """A correction of the depth-17 period that raises one claimer and lowers the other, both already paid 1 token:
    the first claims the difference, the second's over-payment is recorded."""
    raised, lowered = claimers
    leaves = [[raised.address, 2 * UNIT], [lowered.address, UNIT // 2]] + [[a, UNIT] for a in filler(n - 2)]
    tree = StandardMerkleTree.of(leaves, REWARD_LEAF)
    total = sum(amount for _, amount in leaves)
    notary.correct(
        1, period, "0x" + "11" * 32, tree.root, "0x" + "22" * 32, 1, total, n, "bench: meter re-read", sender=admin
    )
    claim = token.claim(period, 2 * UNIT, tree.get_proof([raised.address, 2 * UNIT]), sender=raised).gas_used
    proof = tree.get_proof([lowered.address, UNIT // 2])
    record = token.recordOverpayment(lowered, period, UNIT // 2, proof, sender=raised).gas_used
    return [
        ("claim after a correction at depth 17 (the difference)", claim, "first leaf of the new version"),
        ("record an over-payment at depth 17", record, "anyone, once per version"),
    ]


def run() -> list[tuple[str, list[Row]]]:
    admin = accounts.test_accounts[0]
    users = accounts.test_accounts[1:9]
    registry, _models, notary, token = setup_platform(admin)
    sections = [
        ("Token", bench_transfers(admin, token, users) + bench_add_member(admin, token, users)),
        ("Notary", bench_publish(admin, notary, users)),
        ("Polls (living lab)", bench_polls(admin, notary)),
        ("Claims", bench_claims(admin, notary, token, users)),
        ("Marketplace", bench_marketplace(admin, registry, token, users)),
    ]
    return sections


def render(sections: list[tuple[str, list[Row]]]) -> str:
    lines = ["| operation | gas | note |", "|---|---:|---|"]
    for title, rows in sections:
        lines.append(f"| **{title}** | | |")
        lines += [f"| {op} | {gas:,} | {note} |" for op, gas, note in rows]
    return "\n".join(lines)


BEGIN, END = "<!-- gas:begin -->", "<!-- gas:end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="markdown file whose gas table (between markers) is rewritten")
    args = parser.parse_args()
    started = time.time()
    with networks.parse_network_choice("ethereum:local:foundry"):
        table = render(run())
    print(table)
    print(f"\n(measured in {time.time() - started:.0f} s with solc 0.8.28, optimizer 200 runs, EVM shanghai)")
    if args.out:
        text = args.out.read_text()
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        args.out.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
        print(f"Updated {args.out}")


if __name__ == "__main__":
    main()
