"""`lec`: the platform's root command. Each command lives beside the code it drives and is imported only when used."""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked or listed: their modules bring web3,
    pandas and scikit-learn, which would otherwise make every `lec` call wait seconds to start."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = self.lazy_commands.get(cmd_name)
        if spec is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = spec.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{spec} is not a click command")
        return command


# Top-level commands, as name → "module:attribute" (imported when used, so the floor names the commands of
# the layers above it without importing them).
_COMMANDS: dict[str, str] = {
    "oracle": "oracle.cli:oracle",
    "community": "lec.community.cli:community",
    "besu": "lec.besu.cli:besu",
    "verify": "oracle.audit.cli:verify_command",
    "lake": "oracle.spark.cli:lake",
    "api": "dapp.api.cli:api",
    "demo-identity": "dapp.api.demo_identity:demo_identity",
    "demo-lab": "dapp.api.demo_lab:demo_lab",
    "lab": "dapp.api.lab_cli:lab",
    "dapp": "dapp.dapp_cli:dapp",
    "flex": "oracle.flex.cli:flex",
}


@click.group(cls=LazyGroup, lazy_commands=_COMMANDS)
def lec() -> None:
    """Local Energy Community platform."""


def main() -> None:
    lec()
