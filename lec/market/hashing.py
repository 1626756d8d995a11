"""The hash that ties an on-chain deal to its off-chain description."""

from __future__ import annotations

import json

from eth_utils import keccak


def description_hash(title: str, description: str) -> bytes:
    """keccak256 of the canonical JSON `{"description": …, "title": …}` (sorted keys, no spaces, UTF-8): what a
    deal stores on chain, so anyone holding the listing's text can check it against the chain."""
    canonical = json.dumps({"description": description, "title": title}, sort_keys=True, separators=(",", ":"))
    return keccak(canonical.encode("utf-8"))
