"""`lec verify` for a poll bundle (`lec-poll-bundle`, docs/living-lab.md): anyone recomputes a closed poll's tally and
the root of its salted ballot leaves and checks both against what the community admin notarised on chain.

With a member's receipt merged in (`receipt`: voter, salt, choice — what the dApp's "download my receipt" gives) it
also checks that the member's ballot is one of the counted leaves, locally and by the Notary's own proof check.
Only web3 reads: no database, no API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web3 import Web3
from web3.exceptions import ContractLogicError

from lec.lab import polls as rules
from oracle.audit.verify import Check, _abi, _Failed, _require, run_checks
from oracle.proofs.merkle import StandardMerkleTree

POLL_BUNDLE_FORMAT = "lec-poll-bundle"
POLL_BUNDLE_VERSION = 1
ZERO = "0x" + "00" * 32


def is_poll_bundle(bundle: dict[str, Any]) -> bool:
    return bundle.get("format") == POLL_BUNDLE_FORMAT


def verify_poll_bundle(bundle: dict[str, Any], w3: Web3, report: Callable[[Check], None] | None = None) -> list[Check]:
    """Every check of a poll bundle, in order; stops at the first that fails."""
    return run_checks(_verify, bundle, w3, report)


def _verify(bundle: dict[str, Any], w3: Web3, passed: Callable[[str, str], None]) -> None:
    _require(bundle.get("version") == POLL_BUNDLE_VERSION, "format", f"not a {POLL_BUNDLE_FORMAT} v1 file")
    passed("format", f"{POLL_BUNDLE_FORMAT} v{POLL_BUNDLE_VERSION}")
    chain_id = int(w3.eth.chain_id)
    _require(
        chain_id == int(bundle["chainId"]), "chain", f"node is chain {chain_id}, the bundle is for {bundle['chainId']}"
    )
    passed("chain", f"chain id {chain_id}")

    options = [str(o) for o in bundle["options"]]
    question_hash = rules.question_hash(str(bundle["question"]), options)
    _require(question_hash == bundle["questionHash"], "question", "the question or its options differ from the hash")
    passed("question", f"{len(options)} options, hash {question_hash}")

    leaves = [(str(k).lower(), int(c)) for k, c in bundle["leaves"]]
    _require(len({k for k, _ in leaves}) == len(leaves), "leaves", "two leaves share a ballot key")
    root = StandardMerkleTree.of(leaves, rules.BALLOT_LEAF_ENCODING).root if leaves else ZERO
    _require(
        root == str(bundle["ballotsRoot"]).lower(),
        "leaves",
        f"the leaves give root {root}, the bundle says {bundle['ballotsRoot']}",
    )
    passed("leaves", f"{len(leaves)} ballot leaves give root {root}")

    try:
        counts = rules.tally((c for _, c in leaves), len(options))
    except ValueError as exc:
        raise _Failed("tally", str(exc)) from None
    _require(
        counts == [int(c) for c in bundle["counts"]],
        "tally",
        f"the leaves count {counts}, the bundle says {bundle['counts']}",
    )
    eligible = int(bundle["eligible"])
    _require(len(leaves) <= eligible, "tally", f"{len(leaves)} ballots for {eligible} eligible members")
    poll = rules.PollIdentity(
        chain_id, str(bundle["notary"]), int(bundle["chainCommunityId"]), int(bundle["pollId"]), question_hash
    )
    tally_hash = rules.tally_hash(poll, eligible, counts)
    _require(tally_hash == str(bundle["tallyHash"]).lower(), "tally", "the tally hash does not match the tally")
    passed("tally", f"counts {counts} of {eligible} eligible members, tally hash {tally_hash}")

    notary = w3.eth.contract(address=Web3.to_checksum_address(bundle["notary"]), abi=_abi("Notary"))
    try:
        record = notary.functions.pollRecord(poll.chain_community_id, poll.poll_id).call()
    except ContractLogicError:
        raise _Failed("notarised", f"the Notary {notary.address} has no result for this poll") from None
    onchain_root, onchain_tally, onchain_count = (
        "0x" + bytes(record[0]).hex(),
        "0x" + bytes(record[1]).hex(),
        int(record[2]),
    )
    _require(onchain_root == root, "notarised", f"the Notary holds ballots root {onchain_root}, not {root}")
    _require(onchain_tally == tally_hash, "notarised", f"the Notary holds tally hash {onchain_tally}, not {tally_hash}")
    _require(onchain_count == len(leaves), "notarised", f"the Notary counts {onchain_count} ballots, not {len(leaves)}")
    passed("notarised", f"root, tally hash and {onchain_count} ballots match the Notary's record")

    receipt = bundle.get("receipt")
    if receipt:
        key = rules.ballot_key(bytes.fromhex(str(receipt["salt"])[2:]), str(receipt["voter"]), poll.poll_id)
        leaf = (key, int(receipt["choice"]))
        _require(leaf in leaves, "my-ballot", f"no counted leaf has your ballot key with choice {leaf[1]}")
        proof = StandardMerkleTree.of(leaves, rules.BALLOT_LEAF_ENCODING).get_proof(leaf)
        _require(
            bool(notary.functions.verifyBallotLeaf(poll.chain_community_id, poll.poll_id, key, leaf[1], proof).call()),
            "my-ballot",
            "the Notary rejects the proof of your ballot",
        )
        passed("my-ballot", f"your ballot ({options[leaf[1]]}) is counted, proven by the Notary")
