"""Transactions and wallet requests the dApp hands to the browser wallet, ABI-encoded here in Python.

The wallet only signs: every byte of calldata is built by these pure functions, so what MetaMask shows is
exactly what the page displayed before signing.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

UNIT = 10**18  # 18 decimals: 1 token = 1 hour of the time bank
MAX_SYMBOL_LENGTH = 11  # MetaMask refuses longer symbols in wallet_watchAsset
# Decimal's default 28 digits would silently round large amounts (uint256 has 78 digits, plus 18 decimals).
_EXACT = Context(prec=120)


class CallError(ValueError):
    """A value typed by a person that cannot become a transaction; the message says what to fix."""


def _argument_types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : signature.rindex(")")]
    return [t for t in inner.split(",") if t]


def encode_call(signature: str, *args: Any) -> str:
    """Calldata (0x-hex) of `signature` (e.g. ``"transfer(address,uint256)"``) applied to `args`."""
    types = _argument_types(signature)
    if len(types) != len(args):
        raise CallError(f"{signature} takes {len(types)} arguments, {len(args)} were given.")
    selector = function_signature_to_4byte_selector(signature)
    return "0x" + (selector + encode(types, list(args))).hex()


def to_units(tokens: str | int | float | Decimal) -> int:
    """Tokens as a person types them ("2.5") to 18-decimal units, exactly or not at all."""
    try:
        value = Decimal(str(tokens).strip())
    except InvalidOperation as exc:
        raise CallError(f"{tokens!r} is not a number of tokens.") from exc
    if not value.is_finite() or value <= 0:
        raise CallError("The amount must be a positive number of tokens.")
    with localcontext(_EXACT):
        units = value * UNIT
    if units != units.to_integral_value():
        raise CallError("Tokens have 18 decimals: use at most 18 digits after the point.")
    if units >= 2**256:
        raise CallError("That amount is larger than any token balance can be.")
    return int(units)


def to_tokens(units: int) -> Decimal:
    with localcontext(_EXACT):
        return Decimal(units) / UNIT


def checksum(address: str) -> str:
    try:
        return to_checksum_address(address.strip())
    except (ValueError, AttributeError) as exc:
        raise CallError(f"{address!r} is not an Ethereum address (0x followed by 40 hex digits).") from exc


def tx(sender: str, to: str, data: str) -> dict[str, str]:
    """An eth_sendTransaction request; gas and fees are left to the wallet (zero on the LEC network)."""
    return {"from": checksum(sender), "to": checksum(to), "data": data, "value": "0x0"}


def transfer_tx(sender: str, token: str, recipient: str, units: int) -> dict[str, str]:
    return tx(sender, token, encode_call("transfer(address,uint256)", checksum(recipient), units))


def claim_tx(sender: str, token: str, period_id: int, amount: int, proof: list[str]) -> dict[str, str]:
    leaves = [bytes.fromhex(p.removeprefix("0x")) for p in proof]
    if any(len(p) != 32 for p in leaves):
        raise CallError("Every step of a Merkle proof is 32 bytes (0x followed by 64 hex digits).")
    return tx(sender, token, encode_call("claim(uint256,uint256,bytes32[])", period_id, amount, leaves))


def add_chain_params(chain_id: int, rpc_url: str, name: str = "LEC network") -> list[dict[str, Any]]:
    """EIP-3085 parameters of the LEC network: free gas, so the native currency is only a formality."""
    return [
        {
            "chainId": hex(chain_id),
            "chainName": name,
            "nativeCurrency": {"name": "LEC gas", "symbol": "LECG", "decimals": 18},
            "rpcUrls": [rpc_url],
        }
    ]


def switch_chain_params(chain_id: int) -> list[dict[str, str]]:
    return [{"chainId": hex(chain_id)}]


def watch_asset_params(token: str, symbol: str) -> dict[str, Any]:
    """EIP-747 parameters (an object, not a list, as MetaMask expects) to show the community token."""
    if not symbol or len(symbol) > MAX_SYMBOL_LENGTH:
        raise CallError(f"A token symbol for the wallet has 1 to {MAX_SYMBOL_LENGTH} characters; {symbol!r} does not.")
    return {"type": "ERC20", "options": {"address": checksum(token), "symbol": symbol, "decimals": 18}}
