"""`lec`: the platform's command line (oracle, verification, Besu network, API, dApp)."""

from __future__ import annotations

import importlib

import click

from oracle.cli import oracle

# Further top-level commands, as "module:attribute".
_COMMANDS: list[str] = [
    "oracle.besu.cli:besu",
    "oracle.verify:verify_command",
    "dapp.api.cli:api",
]


@click.group()
def lec() -> None:
    """Local Energy Community platform."""


lec.add_command(oracle)
for _spec in _COMMANDS:
    _module, _attr = _spec.split(":")
    lec.add_command(getattr(importlib.import_module(_module), _attr))


def main() -> None:
    lec()
