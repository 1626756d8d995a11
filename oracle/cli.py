"""`lec oracle …`: the oracle's command line. Each command lives beside the code it drives."""

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


# Commands of `lec oracle`, as name → "module:attribute".
_COMMANDS: dict[str, str] = {
    "db-upgrade": "oracle.db.migrate:db_upgrade",
    "ingest": "oracle.ingest.cli:ingest",
    "watch": "oracle.ingest.cli:watch",
    "mqtt": "oracle.ingest.cli:mqtt",
    "simulate": "oracle.simulate.cli:simulate",
    "run": "oracle.commands:run_command",
    "kpi": "oracle.commands:kpi_command",
    "cluster": "oracle.commands:cluster_command",
    "bundle": "oracle.commands:bundle_command",
    "register-model": "oracle.commands:register_model_command",
    "schedule": "oracle.schedule:schedule_command",
}


@click.group(name="oracle", cls=LazyGroup, lazy_commands=_COMMANDS)
def oracle() -> None:
    """Ingest meter readings, compute KPIs and rewards, publish and verify proofs."""
