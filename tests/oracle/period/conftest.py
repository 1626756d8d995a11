"""A real anvil chain (chain id 1981) with the platform deployed by web3, and a SQLite community."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_account import Account
from web3 import Web3

from lec.chain.contracts import abi
from tests.support.anvil import FREE_GAS, KEYS, anvil
from tests.support.platform import deploy_platform, send


@dataclass
class Platform:
    url: str
    w3: Web3
    deployments: dict
    admin_key: str
    members: list[str]
    token: object


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[Platform]:
    """anvil with free gas (base fee 0, as the Besu network) and Registry, RewardModels, Notary, one community."""
    yield from _platform(tmp_path_factory, free_gas=True)


@pytest.fixture(scope="module")
def paid_platform(tmp_path_factory) -> Iterator[Platform]:
    """The same on an anvil that charges gas (base fee and tip), as a public network would."""
    yield from _platform(tmp_path_factory, free_gas=False)


def _platform(tmp_path_factory, free_gas: bool) -> Iterator[Platform]:
    with anvil(fees=FREE_GAS if free_gas else ()) as url:
        w3 = Web3(Web3.HTTPProvider(url))
        admin = Account.from_key(KEYS[0])
        deployments = deploy_platform(w3, admin, "Test LEC", "TLEC")
        token = w3.eth.contract(address=deployments["communities"][0]["token"], abi=abi("CommunityToken"))
        members = [Account.from_key(k).address for k in KEYS[1:7]]
        for i, member in enumerate(members):
            send(w3, token.functions.addMember(member, 1, [1, 0, 1, 0, 2, 0][i]), admin)
        folder = tmp_path_factory.mktemp("deployments")
        (folder / "1981.json").write_text(json.dumps(deployments))
        deployments["dir"] = str(folder)
        yield Platform(url, w3, deployments, KEYS[0], members, token)
