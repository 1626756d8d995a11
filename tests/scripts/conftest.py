"""A real anvil at chain id 1981 with zero gas price, and a runner for `ape run <script>` against it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.support.anvil import anvil
from tests.support.tools import ROOT, tool_env


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    with anvil() as url:
        yield url


@pytest.fixture(scope="module")
def ape_run(anvil_url, tmp_path_factory):
    """Runs `ape run <args>` against the module's anvil with a private deployments folder."""
    deployments = tmp_path_factory.mktemp("deployments")
    data = tmp_path_factory.mktemp("data")  # the seed writes the demo's listings into SQLite here, never into data/
    env = tool_env(LEC_DEPLOYMENTS_DIR=str(deployments), LEC_DATA_DIR=str(data), LEC_RPC_URL=anvil_url)
    env.pop("DATABASE_URL", None)

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
