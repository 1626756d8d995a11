"""A real anvil for the tests that need a chain (imported by module name: this folder is on sys.path through
tests/conftest.py, and `from conftest import …` can load another folder's conftest)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
FREE_GAS = ("--base-fee", "0", "--gas-price", "0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def anvil(chain_id: int = 1981, fees: tuple[str, ...] = FREE_GAS) -> Iterator[str]:
    """anvil on a free loopback port (by default chain 1981 with free gas, as the Besu network); yields its URL
    once it answers and stops it afterwards."""
    binary = shutil.which("anvil") or str(ROOT / "tools/node_modules/.bin/anvil")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--chain-id", str(chain_id), *fees, "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"anvil did not answer at {url}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
