"""Helpers shared by the API tests (imported by module name: `from conftest import …` can load another
folder's conftest when the whole suite runs)."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from local_chain import free_port  # noqa: F401  (re-exported for this folder's tests)
from pydantic import SecretStr
from web3 import Web3

from dapp.api.dev_realm import KeycloakStandIn
from lec.chain.contracts import abi, bytecode
from lec.settings import Settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unverified_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


API_SECRET = "test-api-client-secret"  # a test-only value for the stand-in's lec-api client


def make_settings(keycloak: KeycloakStandIn, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "keycloak_url": keycloak.url,
        "keycloak_realm": "lec",
        "client_secret": SecretStr(API_SECRET),
        "database_url": database_url,
        "jwks_refetch_interval_seconds": 0.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# ---- a real chain for the routes that read or write it ---------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "tools" / "node_modules" / ".bin" / "anvil"
ADMIN = Account.create()  # platform and community admin of the test chain; a fresh key per test run


def send(w3: Web3, fn: Any, account: LocalAccount = ADMIN) -> dict:
    """Sends a contract call or deployment signed by `account` on the free-gas chain; fails on a revert."""
    tx = fn.build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            "gasPrice": 0,
            "chainId": 1981,
        }
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1
    return receipt


def deploy(w3: Web3, name: str, *args: object) -> str:
    factory = w3.eth.contract(abi=abi(name), bytecode=bytecode(name))
    return send(w3, factory.constructor(*args))["contractAddress"]


@contextmanager
def platform_on_anvil(deployments: Path, community: str = "Flow LEC") -> Iterator[tuple[str, Web3, str]]:
    """anvil at chain id 1981 with free gas, Registry/RewardModels/Notary and one community run by ADMIN; the
    deployments file written in `deployments`. Yields (RPC URL, web3, deployments folder); stops anvil after."""
    if not ANVIL.exists():
        pytest.fail("anvil is missing: run `make setup`.")
    port = free_port()
    proc = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--chain-id", "1981", "--base-fee", "0", "--gas-price", "0", "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(Web3.HTTPProvider(url))
    try:
        for _ in range(400):
            if w3.is_connected():
                break
            time.sleep(0.025)
        w3.provider.make_request("anvil_setBalance", [ADMIN.address, hex(10**20)])  # type: ignore[arg-type]
        registry = deploy(w3, "Registry", ADMIN.address)
        models = deploy(w3, "RewardModels", ADMIN.address)
        notary = deploy(w3, "Notary", registry, models)
        reg = w3.eth.contract(address=registry, abi=abi("Registry"))
        send(w3, reg.functions.setCore(notary, models))
        symbol = "".join(w[0] for w in community.split()).upper() + "X"
        send(w3, reg.functions.createCommunity(community, symbol, ADMIN.address))
        token = reg.functions.tokenOf(1).call()
        (deployments / "1981.json").write_text(
            json.dumps(
                {
                    "chainId": 1981,
                    "contracts": {"Registry": registry, "Notary": notary, "RewardModels": models},
                    "communities": [{"id": 1, "name": community, "token": token, "treasury": token}],
                }
            )
        )
        yield url, w3, str(deployments)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
