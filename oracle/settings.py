"""Locations and endpoints shared by every oracle command, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_RPC_URL = "http://127.0.0.1:8545"


def data_dir() -> Path:
    """The folder for databases, period trees and salts (`LEC_DATA_DIR`, default `data/`)."""
    path = Path(os.environ.get("LEC_DATA_DIR", "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def rpc_url() -> str:
    """The JSON-RPC endpoint of the chain node (`LEC_RPC_URL`)."""
    return os.environ.get("LEC_RPC_URL", DEFAULT_RPC_URL)


def deployments_dir() -> Path:
    """The folder of `deployments/<chainId>.json` (`LEC_DEPLOYMENTS_DIR`, default `deployments/`)."""
    return Path(os.environ.get("LEC_DEPLOYMENTS_DIR", "deployments"))
