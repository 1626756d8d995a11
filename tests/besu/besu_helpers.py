"""Helpers of the Besu tests: the `lec besu` runner and typed readers for a generated network folder.

A module of its own (not conftest) because several conftest.py files share that module name."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import yaml
from click.testing import CliRunner

from lec.besu.cli import besu

ROOT = Path(__file__).resolve().parents[2]
EXTRA_ACCOUNT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(besu, list(args), env=env, catch_exceptions=False)


class Folder:
    """Typed access to a generated network folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def summary(self) -> dict:
        return json.loads((self.root / "network.json").read_text())

    @property
    def genesis(self) -> dict:
        return json.loads((self.root / "genesis.json").read_text())

    @property
    def compose(self) -> dict:
        return yaml.safe_load((self.root / "docker-compose.yml").read_text())

    def node_names(self) -> list[str]:
        return sorted(p.name for p in (self.root / "nodes").iterdir())

    def config(self, node: str) -> dict:
        return tomllib.loads((self.root / "nodes" / node / "config.toml").read_text())

    def permissions(self, node: str) -> dict:
        return tomllib.loads((self.root / "nodes" / node / "permissions_config.toml").read_text())

    def key_text(self, node: str) -> str:
        return (self.root / "nodes" / node / "key").read_text().strip()
