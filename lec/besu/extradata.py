"""QBFT `extraData` of the genesis block, as Besu's `QbftExtraDataCodec` encodes it.

RLP list of: 32-byte vanity, the validator addresses, the vote (an empty list when there is none), the round
as an RLP scalar (0 is the empty string, byte 0x80; IBFT 2.0 used a 4-byte integer instead) and the commit
seals (empty in a genesis block). Besu's documented example genesis ends in `c080c0` for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_utils import to_checksum_address

VANITY_LENGTH = 32


@dataclass(frozen=True)
class QbftExtraData:
    vanity: bytes
    validators: list[str]
    vote: list
    round: int
    seals: list[bytes]


def encode_extra_data(validators: list[str], vanity: bytes = bytes(VANITY_LENGTH)) -> str:
    """The 0x-hex `extraData` naming `validators` (in the given order) with no vote, round 0, no seals."""
    if not validators:
        raise ValueError("A QBFT network needs at least one validator address in its genesis extraData.")
    if len(vanity) != VANITY_LENGTH:
        raise ValueError(f"The extraData vanity is exactly {VANITY_LENGTH} bytes, not {len(vanity)}.")
    addresses = [bytes.fromhex(to_checksum_address(a)[2:]) for a in validators]
    if len(set(addresses)) != len(addresses):
        raise ValueError("The validator list repeats an address: each validator must appear once.")
    return "0x" + rlp.encode([vanity, addresses, [], b"", []]).hex()


def decode_extra_data(extra_data: str) -> QbftExtraData:
    """The fields of a QBFT `extraData`, for checking a genesis file."""
    try:
        vanity, validators, vote, round_bytes, seals = rlp.decode(bytes.fromhex(extra_data.removeprefix("0x")))
    except (ValueError, rlp.exceptions.DecodingError) as exc:
        raise ValueError(f"extraData is not an RLP list of the five QBFT fields: {exc}") from exc
    if len(vanity) != VANITY_LENGTH or any(len(v) != 20 for v in validators):
        raise ValueError("extraData holds a vanity that is not 32 bytes or a validator that is not 20 bytes.")
    return QbftExtraData(
        vanity=vanity,
        validators=[to_checksum_address(v) for v in validators],
        vote=list(vote),
        round=int.from_bytes(round_bytes, "big"),
        seals=list(seals),
    )
