"""`lec dapp` serves the app and keeps the demo sign-in on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner
from dapp_browser import wait_for

from lec.cli import lec
from tests.support.ports import free_port


def test_lec_dapp_refuses_the_demo_sign_in_off_loopback() -> None:
    result = CliRunner().invoke(lec, ["dapp", "--dev-identity", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "stays on this machine" in result.output


def test_lec_dapp_serves_the_app(tmp_path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("lec")), "dapp", "--port", str(port), "--dev-identity"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).ok, "lec dapp")
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).ok
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert f"dApp: http://localhost:{port}" in output
