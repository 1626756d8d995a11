"""End to end: deploy → community → members → a period whose rewards root is built in Python (and one built
by OpenZeppelin's JS library) → claims → member transfers with fee."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from contract_helpers import CITIZEN, CONSUMER, PROSTORMER, PROSUMER, REWARD_LEAF, STAKEHOLDER, UNIT

from oracle.proofs.merkle import StandardMerkleTree
from scripts.deploy import deploy_platform

ROOT = Path(__file__).resolve().parents[3]


def oz_tree(values: list[list], encoding: list[str]) -> dict:
    """Root and proofs computed by @openzeppelin/merkle-tree in Node."""
    script = """
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const tree = StandardMerkleTree.of(input.values, input.encoding);
const proofs = {};
for (const [i, v] of tree.entries()) proofs[v[0]] = tree.getProof(i);
process.stdout.write(JSON.stringify({ root: tree.root, proofs, dump: tree.dump() }));
"""
    env = dict(os.environ, NODE_PATH=str(ROOT / "tools/node_modules"))
    out = subprocess.run(
        ["node", "-e", script],
        input=json.dumps({"values": values, "encoding": encoding}),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout)


def test_full_platform_flow(project, accounts, chain):
    platform_admin, community_admin, oracle_admin, relayer = accounts[0], accounts[1], accounts[2], accounts[9]
    members = accounts[3:9]
    data = deploy_platform(platform_admin)
    registry = project.Registry.at(data["contracts"]["Registry"])
    notary = project.Notary.at(data["contracts"]["Notary"])
    models = project.RewardModels.at(data["contracts"]["RewardModels"])
    assert data["chainId"] == chain.chain_id

    registry.createCommunity("Comunità Energetica Test", "CET", community_admin, sender=platform_admin)
    token = project.CommunityToken.at(registry.tokenOf(1))
    token.grantRole(token.ORACLE_ADMIN_ROLE(), oracle_admin, sender=community_admin)
    token.grantRole(token.RELAYER_ROLE(), relayer, sender=community_admin)  # the oracle's claim service
    models.grantRole(models.ORACLE_ADMIN_ROLE(), oracle_admin, sender=platform_admin)
    token.setWelcomeBonus(CITIZEN, 5 * UNIT, sender=community_admin)
    token.setWelcomeBonus(STAKEHOLDER, 20 * UNIT, sender=community_admin)
    token.setTransferFee(100, sender=community_admin)
    kinds = [CITIZEN, CITIZEN, CITIZEN, CITIZEN, STAKEHOLDER, STAKEHOLDER]
    profiles = [PROSUMER, CONSUMER, PROSTORMER, CONSUMER, PROSUMER, CONSUMER]
    for account, kind, profile in zip(members, kinds, profiles, strict=True):
        token.addMember(account, kind, profile, sender=community_admin)
    assert [token.balanceOf(m) for m in members] == [5 * UNIT] * 4 + [20 * UNIT] * 2

    models.registerModel("self-consumption", "self_consumption", '{"a":10,"b":5,"c":5}', sender=oracle_admin)
    model_id = models.latestModelId("self-consumption")

    # Period 1: rewards tree built in Python.
    rewards = {m.address: (i + 1) * 123_456_789_000_000_000 for i, m in enumerate(members)}
    tree = StandardMerkleTree.of([[a, v] for a, v in rewards.items()], REWARD_LEAF)
    devices = StandardMerkleTree.of(
        [["0x" + f"{i + 1:064x}", "0x" + f"{(i + 1) * 99:064x}"] for i in range(len(members))], ["bytes32", "bytes32"]
    )
    total = sum(rewards.values())
    tx = notary.notarise(
        1, 20260321, devices.root, tree.root, "0x" + "aa" * 32, model_id, total, len(members), sender=oracle_admin
    )
    assert tx.events.filter(notary.PeriodNotarised)[0].rewardsRoot.hex() == tree.root[2:]

    supply_before = token.totalSupply()
    for i, m in enumerate(members):
        proof = tree.get_proof([m.address, rewards[m.address]])
        if i % 2:
            token.claimFor(m, 20260321, rewards[m.address], proof, sender=relayer)
        else:
            token.claim(20260321, rewards[m.address], proof, sender=m)
    assert token.claimedTotal(20260321) == total
    assert token.totalSupply() == supply_before + total
    assert token.balanceOf(relayer) == 0

    # Period 2: tree and proofs produced by OpenZeppelin's JS library are accepted unchanged,
    # and the Python tree gives the same root and proofs.
    values = [[m.address, str(10**18 + i)] for i, m in enumerate(members)]
    oz = oz_tree(values, REWARD_LEAF)
    py = StandardMerkleTree.of(values, REWARD_LEAF)
    assert py.root == oz["root"]
    ours, theirs = py.dump(), oz["dump"]
    assert ours["tree"] == theirs["tree"] and ours["leafEncoding"] == theirs["leafEncoding"]
    lower = [[v["treeIndex"], [str(x).lower() for x in v["value"]]] for v in theirs["values"]]
    assert [[v["treeIndex"], [str(x).lower() for x in v["value"]]] for v in ours["values"]] == lower
    notary.notarise(
        1,
        20260322,
        devices.root,
        oz["root"],
        "0x" + "bb" * 32,
        model_id,
        sum(int(v) for _, v in values),
        6,
        sender=oracle_admin,
    )
    for m, (_, amount) in zip(members, values, strict=True):
        assert py.get_proof([m.address, int(amount)]) == oz["proofs"][m.address]
        token.claim(20260322, int(amount), oz["proofs"][m.address], sender=m)
    assert token.claimedTotal(20260322) == sum(int(v) for _, v in values)

    # Member transfers pay the fee to the treasury; supply is conserved.
    supply = token.totalSupply()
    treasury = token.treasuryBalance()
    sender, receiver = members[0], members[1]
    before_sender, before_receiver = token.balanceOf(sender), token.balanceOf(receiver)
    token.transfer(receiver, 3 * UNIT, sender=sender)
    assert token.balanceOf(sender) == before_sender - 3 * UNIT
    assert token.balanceOf(receiver) == before_receiver + 3 * UNIT - 3 * UNIT // 100
    assert token.treasuryBalance() == treasury + 3 * UNIT // 100
    assert token.totalSupply() == supply
    holders = [*members, token]
    assert sum(token.balanceOf(h) for h in holders) == token.totalSupply()
