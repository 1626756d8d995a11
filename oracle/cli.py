"""`lec oracle …`: the oracle's command line. Each command lives beside the code it drives."""

from __future__ import annotations

import importlib

import click

# Modules that define click commands to attach to `lec oracle`, as "module:attribute".
_COMMANDS: list[str] = [
    "oracle.db.migrate:db_upgrade",
    "oracle.ingest.cli:ingest",
    "oracle.ingest.cli:watch",
    "oracle.ingest.cli:mqtt",
    "oracle.simulate.cli:simulate",
    "oracle.commands:run_command",
    "oracle.commands:kpi_command",
    "oracle.commands:cluster_command",
    "oracle.commands:bundle_command",
    "oracle.commands:register_model_command",
    "oracle.schedule:schedule_command",
]


@click.group(name="oracle")
def oracle() -> None:
    """Ingest meter readings, compute KPIs and rewards, publish and verify proofs."""


def _attach() -> None:
    for spec in _COMMANDS:
        module_name, attr = spec.split(":")
        oracle.add_command(getattr(importlib.import_module(module_name), attr))


_attach()
