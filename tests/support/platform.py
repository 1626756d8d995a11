"""The platform's contracts deployed with plain web3 (the way the oracle and the API reach the chain, no ape):
Registry, RewardModels and Notary wired together, and one community run by the admin."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from lec.chain.contracts import abi, bytecode
from tests.support.anvil import CHAIN_ID


def send(w3: Web3, fn: Any, account: LocalAccount) -> dict:
    """Sends a contract call or deployment signed by `account` and returns its receipt; fails on a revert.

    Free gas where the chain's base fee is 0 (anvil --base-fee 0, Besu); otherwise the price the node asks."""
    tx = fn.build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            "gasPrice": w3.eth.gas_price if w3.eth.get_block("latest")["baseFeePerGas"] else 0,
            "chainId": CHAIN_ID,
        }
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1
    return receipt


def deploy(w3: Web3, account: LocalAccount, name: str, *args: object) -> str:
    """Deploys contract `name` (ape's build output) and returns its address."""
    factory = w3.eth.contract(abi=abi(name), bytecode=bytecode(name))
    return send(w3, factory.constructor(*args), account)["contractAddress"]


def deploy_platform(w3: Web3, admin: LocalAccount, community: str, symbol: str) -> dict[str, Any]:
    """Registry, RewardModels and Notary with `admin` as platform admin, and community 1 with `admin` as its admin.

    Returns what `deployments/1981.json` holds for it."""
    registry = deploy(w3, admin, "Registry", admin.address)
    models = deploy(w3, admin, "RewardModels", admin.address)
    notary = deploy(w3, admin, "Notary", registry, models)
    reg = w3.eth.contract(address=registry, abi=abi("Registry"))
    send(w3, reg.functions.setCore(notary, models), admin)
    send(w3, reg.functions.createCommunity(community, symbol, admin.address), admin)
    token = reg.functions.tokenOf(1).call()
    return {
        "chainId": CHAIN_ID,
        "deployedAtBlock": 0,
        "contracts": {"Registry": registry, "Notary": notary, "RewardModels": models},
        "communities": [{"id": 1, "name": community, "token": token, "treasury": token}],
    }
