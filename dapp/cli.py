"""`lec`: the platform's command line (oracle, verification, Besu network, API, dApp)."""

from __future__ import annotations

import click

from oracle.cli import LazyGroup, oracle

# Top-level commands besides `lec oracle`, as name → "module:attribute" (imported when used).
_COMMANDS: dict[str, str] = {
    "besu": "oracle.besu.cli:besu",
    "verify": "oracle.verify:verify_command",
    "api": "dapp.api.cli:api",
    "dapp": "dapp.dapp_cli:dapp",
}


@click.group(cls=LazyGroup, lazy_commands=_COMMANDS)
def lec() -> None:
    """Local Energy Community platform."""


lec.add_command(oracle)


def main() -> None:
    lec()
