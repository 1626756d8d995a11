"""secp256k1 node keys: the validator address and the enode URL both derive from the private key."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from eth_keys import keys
from eth_keys.constants import SECPK1_N
from eth_keys.datatypes import PrivateKey

_ENODE = re.compile(r"^enode://(?P<pubkey>[0-9a-f]{128})@(?P<host>[^:@/]+):(?P<port>\d{1,5})(?:\?.*)?$")


@dataclass(frozen=True)
class NodeKey:
    """A node's secp256k1 key pair in the forms Besu reads and prints."""

    private_key: bytes

    @property
    def _key(self) -> PrivateKey:
        return keys.PrivateKey(self.private_key)

    @property
    def public_key_hex(self) -> str:
        """The uncompressed public key without its 0x04 prefix, as in an enode URL (128 hex digits)."""
        return self._key.public_key.to_bytes().hex()

    @property
    def address(self) -> str:
        """The checksummed account address; for a QBFT validator this is its validator id."""
        return self._key.public_key.to_checksum_address()

    def private_key_file(self) -> str:
        """Contents of Besu's `key` file (`--node-private-key-file`)."""
        return "0x" + self.private_key.hex()

    def public_key_file(self) -> str:
        """Contents of Besu's `key.pub` file (what `besu public-key export` writes)."""
        return "0x" + self.public_key_hex

    def enode(self, host: str, port: int) -> str:
        return enode_url(self.public_key_hex, host, port)


def new_key() -> NodeKey:
    """A fresh key from the OS's random source (rejection sampling keeps it inside the curve order)."""
    while True:
        candidate = secrets.token_bytes(32)
        if 0 < int.from_bytes(candidate, "big") < SECPK1_N:
            return NodeKey(candidate)


def parse_private_key(text: str) -> NodeKey:
    """A key from the contents of a Besu `key` file (64 hex digits, with or without 0x)."""
    raw = text.strip().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", raw) or not 0 < int(raw, 16) < SECPK1_N:
        raise ValueError("A node key file must hold one secp256k1 private key as 64 hex digits (0x optional).")
    return NodeKey(bytes.fromhex(raw))


def enode_url(public_key_hex: str, host: str, port: int) -> str:
    """`enode://<pubkey>@<host>:<port>`; Besu's allowlist compares the host as an IP unless DNS is enabled."""
    if not re.fullmatch(r"[0-9a-f]{128}", public_key_hex):
        raise ValueError("An enode public key is 128 lowercase hex digits (the uncompressed key without 0x04).")
    if not 0 < port < 65536:
        raise ValueError(f"Port {port} is not a TCP port (1-65535).")
    return f"enode://{public_key_hex}@{host}:{port}"


def parse_enode(url: str) -> tuple[str, str, int]:
    """(public key hex, host, port) of an enode URL, or a ValueError that says what is malformed."""
    match = _ENODE.match(url.strip())
    if not match:
        raise ValueError(f"{url!r} is not an enode URL of the form enode://<128 hex digits>@<host>:<port>.")
    return match["pubkey"], match["host"], int(match["port"])


def public_key_to_address(public_key_hex: str) -> str:
    """The checksummed address of an uncompressed public key (to check an enode against an address)."""
    return keys.PublicKey(bytes.fromhex(public_key_hex)).to_checksum_address()
