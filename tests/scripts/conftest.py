"""A real anvil at chain id 1981 with zero gas price, and a runner for `ape run <script>` against it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from script_helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    anvil = shutil.which("anvil") or str(ROOT / "tools/node_modules/.bin/anvil")
    port = free_port()
    proc = subprocess.Popen(
        [anvil, "--port", str(port), "--chain-id", "1981", "--base-fee", "0", "--gas-price", "0", "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def ape_run(anvil_url, tmp_path_factory):
    """Runs `ape run <args>` against the module's anvil with a private deployments folder."""
    deployments = tmp_path_factory.mktemp("deployments")
    data = tmp_path_factory.mktemp("data")  # the seed writes the demo's listings into SQLite here, never into data/
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        LEC_DEPLOYMENTS_DIR=str(deployments),
        LEC_DATA_DIR=str(data),
        LEC_RPC_URL=anvil_url,
        APE_DATA_FOLDER=str(ROOT / ".ape"),
        SOLCX_BINARY_PATH=str(ROOT / ".solcx"),
    )
    env["PATH"] = f"{ROOT / '.venv/bin'}:{ROOT / 'tools/node_modules/.bin'}:{env['PATH']}"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["ape", "run", *args, "--network", anvil_url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"ape run {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    run.deployments = deployments  # type: ignore[attr-defined]
    run.data = data  # type: ignore[attr-defined]
    return run
