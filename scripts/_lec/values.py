"""Values as a person types them and as the chain holds them: tokens (18 decimals, 1 token = 1 hour of the time
bank) and addresses. The parsers raise click's `BadParameter`, so a wrong value reads as a sentence."""

from __future__ import annotations

from decimal import Decimal

import click
from eth_utils import to_checksum_address

UNIT = 10**18
ZERO = "0x" + "00" * 20


def to_units(tokens: str) -> int:
    """Tokens as typed by a person ("2.5") to 18-decimal units, exactly."""
    try:
        value = Decimal(tokens)
    except ArithmeticError as exc:
        raise click.BadParameter(f"{tokens!r} is not a number of tokens.") from exc
    if value < 0:
        raise click.BadParameter("Amounts cannot be negative.")
    units = value * UNIT
    if units != units.to_integral_value():
        raise click.BadParameter("Tokens have 18 decimals: use at most 18 digits after the point.")
    return int(units)


def address(value: str) -> str:
    """A checksummed address, or a sentence saying the value is not one."""
    try:
        return to_checksum_address(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an Ethereum address.") from exc
