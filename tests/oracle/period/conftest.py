"""A real anvil chain (chain id 1981) with the platform deployed by web3, and a SQLite community."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from period_helpers import KEYS, free_port
from web3 import Web3

from lec.chain.contracts import abi, bytecode

ROOT = Path(__file__).resolve().parents[3]
ANVIL = ROOT / "tools" / "node_modules" / ".bin" / "anvil"


@dataclass
class Platform:
    url: str
    w3: Web3
    deployments: dict
    admin_key: str
    members: list[str]
    token: object


def _send(w3: Web3, key: str, fn_or_deploy) -> dict:
    account = Account.from_key(key)
    tx = fn_or_deploy.build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            # Free gas on the zero-fee chain; otherwise whatever the node asks.
            "gasPrice": w3.eth.gas_price if w3.eth.get_block("latest")["baseFeePerGas"] else 0,
            "chainId": 1981,
        }
    )
    tx.pop("maxFeePerGas", None)
    tx.pop("maxPriorityFeePerGas", None)
    signed = account.sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1
    return receipt


def _deploy(w3: Web3, key: str, name: str, *args) -> str:
    factory = w3.eth.contract(abi=abi(name), bytecode=bytecode(name))
    return _send(w3, key, factory.constructor(*args))["contractAddress"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[Platform]:
    """anvil with free gas (base fee 0, as the Besu network) and Registry, RewardModels, Notary, one community."""
    yield from _platform(tmp_path_factory, free_gas=True)


@pytest.fixture(scope="module")
def paid_platform(tmp_path_factory) -> Iterator[Platform]:
    """The same on an anvil that charges gas (base fee and tip), as a public network would."""
    yield from _platform(tmp_path_factory, free_gas=False)


def _platform(tmp_path_factory, free_gas: bool) -> Iterator[Platform]:
    if not ANVIL.exists():
        pytest.fail("anvil is missing: run `make setup` (npm tools in tools/node_modules).")
    port = free_port()
    fees = ["--base-fee", "0", "--gas-price", "0"] if free_gas else []
    proc = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--chain-id", "1981", *fees, "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(Web3.HTTPProvider(url))
    for _ in range(200):
        try:
            if w3.eth.chain_id == 1981:
                break
        except Exception:
            time.sleep(0.05)
    try:
        admin_key = KEYS[0]
        admin = Account.from_key(admin_key).address
        registry = _deploy(w3, admin_key, "Registry", admin)
        models = _deploy(w3, admin_key, "RewardModels", admin)
        notary = _deploy(w3, admin_key, "Notary", registry, models)
        reg = w3.eth.contract(address=registry, abi=abi("Registry"))
        _send(w3, admin_key, reg.functions.setCore(notary, models))
        _send(w3, admin_key, reg.functions.createCommunity("Test LEC", "TLEC", admin))
        token = w3.eth.contract(address=reg.functions.tokenOf(1).call(), abi=abi("CommunityToken"))
        members = [Account.from_key(k).address for k in KEYS[1:7]]
        for i, member in enumerate(members):
            _send(w3, admin_key, token.functions.addMember(member, 1, [1, 0, 1, 0, 2, 0][i]))
        deployments = {
            "chainId": 1981,
            "deployedAtBlock": 0,
            "contracts": {"Registry": registry, "Notary": notary, "RewardModels": models},
            "communities": [{"id": 1, "name": "Test LEC", "token": token.address, "treasury": token.address}],
        }
        folder = tmp_path_factory.mktemp("deployments")
        (folder / "1981.json").write_text(json.dumps(deployments))
        deployments["dir"] = str(folder)
        yield Platform(url, w3, deployments, admin_key, members, token)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
