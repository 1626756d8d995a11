"""The scripts' side of the chain: the admin account, zero-fee transactions, the deployments file, the community's
token, and sending a transaction that prints what changed or explains, in one sentence, why the chain refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from ape import accounts, chain, project
from ape.exceptions import ContractLogicError

from lec.chain.reverts import SENTENCES, sentence
from lec.settings import deployments_dir, get_settings

LOCAL_CHAIN_IDS = {1337, 31337, 1981}


def tx_kwargs() -> dict[str, Any]:
    """Fee fields for a transaction: zero on a network that charges nothing (anvil --gas-price 0, Besu
    with `min-gas-price=0` and `zeroBaseFee`), where ape would otherwise still pay a 1 gwei tip."""
    # eth_gasPrice may report a floor (anvil answers 1 gwei even with --gas-price 0): the base fee of the
    # latest block is what tells a free network.
    if chain.provider.web3.eth.get_block("latest").get("baseFeePerGas", 1) == 0:
        return {"max_fee": 0, "max_priority_fee": 0}
    return {}


def deployer():
    """The account that deploys and administers: `LEC_DEPLOYER` names an ape keystore alias (its
    passphrase in `APE_ACCOUNTS_<alias>_PASSPHRASE`); on a local chain the first test account is used."""
    alias = get_settings().deployer
    if alias:
        account = accounts.load(alias)
        account.set_autosign(True)
        return account
    if chain.chain_id not in LOCAL_CHAIN_IDS:
        raise click.ClickException(
            f"Chain {chain.chain_id} is not a local chain: set LEC_DEPLOYER to the alias of an ape account "
            "(`ape accounts import <alias>`) and its passphrase in APE_ACCOUNTS_<alias>_PASSPHRASE."
        )
    return accounts.test_accounts[0]


def deployments_path(chain_id: int | None = None) -> Path:
    """`deployments/<chainId>.json`, the one file every client reads."""
    return deployments_dir() / f"{chain.chain_id if chain_id is None else chain_id}.json"


def load_deployments() -> dict[str, Any] | None:
    """The deployments file of the connected chain, or None when the platform is not deployed there."""
    path = deployments_path()
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    registry = data.get("contracts", {}).get("Registry")
    if not registry or chain.provider.web3.eth.get_code(registry) in (b"", None):
        return None  # the file belongs to a chain state that no longer exists (e.g. a fresh anvil)
    return data


def save_deployments(data: dict[str, Any]) -> Path:
    path = deployments_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    return path


def require_deployments() -> dict[str, Any]:
    data = load_deployments()
    if data is None:
        raise click.ClickException(
            f"The platform is not deployed on chain {chain.chain_id}: run `ape run deploy` first."
        )
    return data


def community_entries(registry) -> list[dict[str, Any]]:
    """The communities as the deployments file lists them, read from the Registry."""
    entries = []
    for community_id in range(1, registry.communityCount() + 1):
        c = registry.community(community_id)
        entries.append(
            {
                "id": community_id,
                "name": c.name,
                "token": c.token,
                "treasury": c.token,
                "marketplace": None if int(c.marketplace, 16) == 0 else c.marketplace,
                "admin": c.admin,
            }
        )
    return entries


def token_of(community_id: int):
    """The community's token (and treasury), or a sentence saying there is no such community."""
    data = require_deployments()
    registry = project.Registry.at(data["contracts"]["Registry"])
    token = registry.tokenOf(community_id)
    if int(token, 16) == 0:
        raise click.ClickException(f"There is no community {community_id} on this chain.")
    return project.CommunityToken.at(token)


def explain(error: ContractLogicError) -> str:
    """A sentence for a reverted transaction (from `lec.chain.reverts`, the one table), naming the custom error."""
    name = type(error).__name__
    detail = str(error) or name
    return f"{sentence(name)} ({detail})" if name in SENTENCES else f"The transaction was refused: {detail}"


def send(call, *args):
    """Sends a transaction as the admin account, prints its hash and events, or explains the refusal."""
    try:
        receipt = call(*args, sender=deployer(), **tx_kwargs())
    except ContractLogicError as exc:
        raise click.ClickException(explain(exc)) from exc
    click.echo(f"tx {receipt.txn_hash}  block {receipt.block_number}  gas {receipt.gas_used}")
    for event in receipt.events:
        arguments = ", ".join(f"{k}={_show(v)}" for k, v in event.event_arguments.items())
        click.echo(f"  {event.event_name}({arguments})")
    return receipt


def _show(value) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)
