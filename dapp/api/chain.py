"""The API's chain side, on the oracle's web3 client: membership writes with the community admin's key, views.

The key comes from `LEC_API_COMMUNITY_ADMIN_PRIVATE_KEY` or an encrypted keystore
(`LEC_API_COMMUNITY_ADMIN_KEYSTORE` + `LEC_API_COMMUNITY_ADMIN_KEYSTORE_PASSWORD`); it is never in the code.
"""

from __future__ import annotations

import json
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3

from lec.chain.client import ChainClient, ChainError, TxResult, _struct
from lec.chain.contracts import DeploymentError
from lec.market.client import MarketClient
from lec.settings import Settings

KIND = {"citizen": 1, "stakeholder": 2}
PROFILE = {"consumer": 0, "prosumer": 1, "prostormer": 2}


class NoAdminKey(ChainError):
    """The API holds no community admin key: the admin adds members from their own wallet instead."""


def admin_account(settings: Settings) -> LocalAccount:
    if settings.community_admin_private_key is not None:
        return Account.from_key(settings.community_admin_private_key.get_secret_value())
    if settings.community_admin_keystore is not None:
        if settings.community_admin_keystore_password is None:
            raise ChainError("Set LEC_API_COMMUNITY_ADMIN_KEYSTORE_PASSWORD to unlock the community admin's keystore.")
        keystore = json.loads(settings.community_admin_keystore.read_text())
        key = Account.decrypt(keystore, settings.community_admin_keystore_password.get_secret_value())
        return Account.from_key(key)
    raise NoAdminKey(
        "No community admin key: set LEC_API_COMMUNITY_ADMIN_PRIVATE_KEY or LEC_API_COMMUNITY_ADMIN_KEYSTORE "
        "to the account holding community-admin on the community's token."
    )


def connect(settings: Settings, signing: bool = False) -> ChainClient:
    w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 15}))
    # Fail fast inside a request: the oracle's client retries reads for a while, fine for a batch job only.
    if not w3.is_connected():
        raise ChainError(f"The chain node at {settings.rpc_url} does not answer: start it or set LEC_RPC_URL.")
    try:
        return ChainClient(w3, admin_account(settings) if signing else None)
    except DeploymentError as exc:
        raise ChainError(str(exc)) from exc


def add_member(settings: Settings, chain_community_id: int, wallet: str, kind: str, profile: str) -> str | None:
    """Make `wallet` an active member (the contract mints the welcome bonus); None if it already was one — as when
    the community admin signed `addMember` in their own wallet, so the platform needs no key of theirs."""
    account = to_checksum_address(wallet)
    if connect(settings).token(chain_community_id).functions.isMember(account).call():
        return None
    client = connect(settings, signing=True)
    token = client.token(chain_community_id)
    result: TxResult = client.send(token.functions.addMember(account, KIND[kind], PROFILE[profile]))
    return result.tx_hash


def remove_member(settings: Settings, chain_community_id: int, wallet: str) -> str | None:
    """Deactivate `wallet` (its balance returns to the treasury); None if it was not an active member."""
    client = connect(settings, signing=True)
    token = client.token(chain_community_id)
    account = to_checksum_address(wallet)
    if not token.functions.isMember(account).call():
        return None
    return client.send(token.functions.removeMember(account)).tx_hash


def token_policy(settings: Settings, chain_community_id: int) -> dict[str, Any]:
    client = connect(settings)
    token = client.token(chain_community_id)
    f = token.functions
    categories = []
    for category in range(8):
        entry = _struct("categoryPolicy", token.abi, tuple(f.categoryPolicy(category).call()))
        categories.append(
            {"category": category, **{k: int(v) if not isinstance(v, bool) else v for k, v in entry.items()}}
        )
    return {
        "token": token.address,
        "symbol": f.symbol().call(),
        "decimals": f.decimals().call(),
        "fee_bps": int(f.feeBps().call()),
        "welcome_bonus": {"citizen": str(f.welcomeBonus(1).call()), "stakeholder": str(f.welcomeBonus(2).call())},
        "exchange_rate": str(f.exchangeRate().call()),
        "treasury_balance": str(f.treasuryBalance().call()),
        "paused": bool(f.paused().call()),
        "categories": categories,
    }


def reward_models(settings: Settings) -> list[dict[str, Any]]:
    client = connect(settings)
    count = int(client.models.functions.modelCount().call())
    out = []
    for model_id in range(1, count + 1):
        m = client.model(model_id)
        out.append(
            {
                "id": m.model_id,
                "name": m.name,
                "kind": m.kind,
                "version": m.version,
                "params": m.params,
                "params_hash": m.params_hash,
            }
        )
    return out


def marketplace(settings: Settings, chain_community_id: int) -> MarketClient | None:
    """The community's Marketplace contract (from the Registry), or None when it has none yet."""
    client = connect(settings)
    entry = client.registry.functions.community(chain_community_id).call()
    address = entry[2]  # (name, token, marketplace, admin, createdAt)
    return None if int(address, 16) == 0 else MarketClient(client.w3, address)
