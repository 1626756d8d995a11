"""A real anvil for the tests that need a chain, its well-known test keys, and raw JSON-RPC calls."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from eth_account import Account

from tests.support.ports import free_port
from tests.support.tools import ROOT

CHAIN_ID = 1981  # the report's private chain, as the Besu network
FREE_GAS = ("--base-fee", "0", "--gas-price", "0")
MNEMONIC = "test test test test test test test test test test test junk"  # anvil's public test mnemonic
Account.enable_unaudited_hdwallet_features()
# The private keys of anvil's ten funded accounts: public knowledge, for local chains only.
KEYS = [Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key.to_0x_hex() for i in range(10)]


def rpc(url: str, method: str, *params: Any) -> Any:
    """The `result` of one JSON-RPC call."""
    reply = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10)
    return reply.json()["result"]


@contextmanager
def anvil(chain_id: int = CHAIN_ID, fees: tuple[str, ...] = FREE_GAS) -> Iterator[str]:
    """anvil on a free loopback port (by default chain 1981 with free gas, as the Besu network; `fees=()` for
    anvil's own base fee and tip); yields its URL once it answers and stops it afterwards."""
    binary = shutil.which("anvil") or str(ROOT / "tools/node_modules/.bin/anvil")
    if not shutil.which(binary):
        raise RuntimeError("anvil is missing: run `make setup` (npm tools in tools/node_modules).")
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
                rpc(url, "eth_chainId")
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"anvil did not answer at {url}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
