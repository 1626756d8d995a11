"""Where the oracle finds the contracts: ABIs from ape's build output, addresses from the deployments file."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from lec.settings import deployments_dir, get_settings

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DeploymentError(RuntimeError):
    """The contracts' ABIs or addresses cannot be found."""


def build_file() -> Path:
    """ape's build manifest (`LEC_BUILD_FILE`, default `.build/__local__.json` of the project)."""
    return get_settings().build_file or _PROJECT_ROOT / ".build" / "__local__.json"


@lru_cache(maxsize=4)
def _manifest(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise DeploymentError(f"No contract build at {path}: run `ape compile` first.") from exc


def abi(name: str) -> list[dict[str, Any]]:
    """The ABI of contract ``name`` from ape's build output."""
    types = _manifest(str(build_file())).get("contractTypes", {})
    if name not in types:
        raise DeploymentError(f"Contract {name} is not in {build_file()}: run `ape compile` again.")
    return types[name]["abi"]


def bytecode(name: str) -> str:
    """The deployment bytecode of contract ``name`` (tests and benchmarks deploy with web3)."""
    return _manifest(str(build_file()))["contractTypes"][name]["deploymentBytecode"]["bytecode"]


def load_deployments(chain_id: int) -> dict[str, Any]:
    """``deployments/<chainId>.json``: contract addresses and communities of one chain."""
    path = deployments_dir() / f"{chain_id}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DeploymentError(
            f"No deployments file {path} for chain {chain_id}: run `ape run deploy` for this network first."
        ) from exc
