"""`lec oracle …`: the oracle's command line, a thin layer over the oracle's services."""

from __future__ import annotations

import click

from lec.cli import LazyGroup

# Commands of `lec oracle`, as name → "module:attribute".
_COMMANDS: dict[str, str] = {
    "db-upgrade": "lec.db.migrate:db_upgrade",
    "ingest": "oracle.ingest.cli:ingest",
    "ingest-weather": "oracle.ingest.cli:ingest_weather_command",
    "watch": "oracle.ingest.cli:watch",
    "mqtt": "oracle.ingest.cli:mqtt",
    "simulate": "oracle.simulate.cli:simulate",
    "run": "oracle.commands:run_command",
    "kpi": "oracle.commands:kpi_command",
    "cluster": "oracle.commands:cluster_command",
    "bundle": "oracle.commands:bundle_command",
    "register-model": "oracle.commands:register_model_command",
    "schedule": "oracle.schedule:schedule_command",
    "incentive": "oracle.incentive.cli:incentive_command",
}


@click.group(name="oracle", cls=LazyGroup, lazy_commands=_COMMANDS)
def oracle() -> None:
    """Ingest meter readings, compute KPIs and rewards, publish and verify proofs."""
