"""One member, one vote: the rules of a community poll, as values in and values out.

A ballot is EIP-712 typed data signed in the member's wallet (no transaction, no gas). It names the chain, the
Notary (the verifying contract), the community, the poll, the hash of the poll's question and options, the choice
and a nonce that must grow: a later ballot replaces an earlier one until the poll closes, and an old signature
sent again cannot bring back an earlier choice.

At close each counted ballot becomes a leaf `(ballotKey, choice)` of an OpenZeppelin StandardMerkleTree with
`ballotKey = keccak256(abi.encode(salt, voter, pollId))`: the salt (32 random bytes, kept by the API and shown to
the voter only) hides who cast which leaf, deleting it shreds the link, and the voter who holds it can find their
own leaf. The tally is the count of leaves per choice, hashed with the poll's identity into `tallyHash`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

DOMAIN_NAME = "LEC Living Lab"
DOMAIN_VERSION = "1"
BALLOT_LEAF_ENCODING = ["bytes32", "uint256"]
MAX_OPTIONS = 10
MAX_NONCE = 2**64 - 1

BALLOT_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Ballot": [
        {"name": "communityId", "type": "uint256"},
        {"name": "pollId", "type": "uint256"},
        {"name": "questionHash", "type": "bytes32"},
        {"name": "choice", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
    ],
}


class PollState(StrEnum):
    DRAFT = "draft"  # written by the admin, not yet open: no snapshot, no ballots
    OPEN = "open"  # membership snapshot taken; ballots accepted inside the window
    CLOSED = "closed"  # tallied and notarised


class BallotRefused(ValueError):
    """A ballot the rules refuse; `reason` is a stable code, the message a sentence for the member."""

    def __init__(self, reason: str, sentence: str) -> None:
        super().__init__(sentence)
        self.reason = reason


@dataclass(frozen=True)
class PollIdentity:
    """What a ballot is bound to: the chain, the Notary, the community (Registry id), the poll and its text."""

    chain_id: int
    notary: str
    chain_community_id: int
    poll_id: int
    question_hash: str  # 0x-hex of 32 bytes


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def question_hash(question: str, options: Sequence[str]) -> str:
    """keccak256 of the canonical JSON `{"options": [...], "question": "..."}` in UTF-8: what a ballot signs."""
    return "0x" + keccak(canonical_json({"question": question, "options": list(options)}).encode()).hex()


def check_options(options: Sequence[str]) -> list[str]:
    cleaned = [o.strip() for o in options]
    if not 2 <= len(cleaned) <= MAX_OPTIONS:
        raise ValueError(f"A poll needs between 2 and {MAX_OPTIONS} options.")
    if any(not o for o in cleaned):
        raise ValueError("An option cannot be empty.")
    if len({o.casefold() for o in cleaned}) != len(cleaned):
        raise ValueError("Two options have the same text: each option must differ.")
    return cleaned


def typed_data(poll: PollIdentity, choice: int, nonce: int) -> dict[str, Any]:
    """The EIP-712 message a member signs with `eth_signTypedData_v4` for `choice` (an option's index)."""
    return {
        "types": BALLOT_TYPES,
        "primaryType": "Ballot",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": poll.chain_id,
            "verifyingContract": to_checksum_address(poll.notary),
        },
        "message": {
            "communityId": poll.chain_community_id,
            "pollId": poll.poll_id,
            "questionHash": poll.question_hash,
            "choice": choice,
            "nonce": nonce,
        },
    }


def recover_voter(poll: PollIdentity, choice: int, nonce: int, signature: str) -> str:
    """The checksummed address that signed this ballot for this poll. A signature made for another poll, chain,
    community, question, choice or nonce recovers another address (or none), which the snapshot then refuses."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError as exc:
        raise BallotRefused("bad-signature", "The signature is not hex: sign the ballot again in your wallet.") from exc
    if len(raw) != 65:
        raise BallotRefused("bad-signature", "A wallet signature has 65 bytes: sign the ballot again in your wallet.")
    try:
        message = encode_typed_data(full_message=typed_data(poll, choice, nonce))
        return str(Account.recover_message(message, signature=raw))
    except Exception as exc:  # eth_account raises several unrelated types for a malformed signature
        raise BallotRefused(
            "bad-signature", "The signature cannot be read: sign the ballot again in your wallet."
        ) from exc


@dataclass(frozen=True)
class Window:
    state: PollState
    starts_at: datetime
    ends_at: datetime


def check_ballot(
    window: Window,
    now: datetime,
    n_options: int,
    choice: int,
    nonce: int,
    signer: str,
    sender_wallet: str | None,
    snapshot: Iterable[str],
    previous_nonce: int | None,
) -> None:
    """Refuses a ballot that breaks a rule, with the reason; returns when the ballot may be counted."""
    if window.state is PollState.CLOSED:
        raise BallotRefused("closed", "The poll is closed: ballots are no longer accepted.")
    if window.state is not PollState.OPEN or now < window.starts_at:
        raise BallotRefused("not-open", "The poll is not open yet: come back when voting starts.")
    if now >= window.ends_at:
        raise BallotRefused("closed", "Voting time is over: ballots are no longer accepted.")
    if not 0 <= choice < n_options:
        raise BallotRefused("bad-choice", "That choice is not one of the poll's options.")
    if not 0 < nonce <= MAX_NONCE:
        raise BallotRefused("bad-nonce", "The ballot's number is out of range: sign the ballot again.")
    if sender_wallet is None or to_checksum_address(sender_wallet) != signer:
        raise BallotRefused(
            "signature-mismatch",
            "The signature does not match this poll and your wallet in this community (it was made for another "
            "poll, network or choice, or by another wallet): sign the ballot again from this page.",
        )
    if signer not in {to_checksum_address(w) for w in snapshot}:
        raise BallotRefused(
            "not-in-snapshot",
            "Only members who were active when the poll opened may vote in it; your wallet was not among them.",
        )
    if previous_nonce is not None and nonce <= previous_nonce:
        raise BallotRefused(
            "replayed",
            "This ballot is older than, or the same as, the one already counted for you: sign a new one to change "
            "your vote.",
        )


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def ballot_key(salt: bytes, voter: str, poll_id: int) -> str:
    """keccak256(abi.encode(salt, voter, pollId)) as 0x-hex: the leaf's first value."""
    return (
        "0x" + keccak(abi_encode(["bytes32", "address", "uint256"], [salt, to_checksum_address(voter), poll_id])).hex()
    )


def tally(choices: Iterable[int], n_options: int) -> list[int]:
    counts = [0] * n_options
    for choice in choices:
        if not 0 <= choice < n_options:
            raise ValueError(f"Choice {choice} is not one of the {n_options} options.")
        counts[choice] += 1
    return counts


def tally_hash(poll: PollIdentity, eligible: int, counts: Sequence[int]) -> str:
    """keccak256(abi.encode(communityId, pollId, questionHash, eligible, counts)): what the Notary keeps."""
    encoded = abi_encode(
        ["uint256", "uint256", "bytes32", "uint256", "uint256[]"],
        [poll.chain_community_id, poll.poll_id, bytes.fromhex(poll.question_hash[2:]), eligible, list(counts)],
    )
    return "0x" + keccak(encoded).hex()
