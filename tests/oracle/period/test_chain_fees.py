"""The chain client on both kinds of network: free gas (Besu with zeroBaseFee) and a fee market."""

from __future__ import annotations

import pytest

from lec.chain.client import ChainClient, ChainError
from tests.support.anvil import KEYS

pytestmark = pytest.mark.services

PARAMS = '{"max_per_period":5,"par_ref_bps":20000,"rate":3}'


def _client(platform, monkeypatch) -> ChainClient:
    monkeypatch.setenv("LEC_DEPLOYMENTS_DIR", platform.deployments["dir"])
    return ChainClient.connect(platform.url, KEYS[0])


def test_free_gas_network_costs_nothing(platform, monkeypatch):
    client = _client(platform, monkeypatch)
    assert client._fees() == {"maxFeePerGas": 0, "maxPriorityFeePerGas": 0}
    before = platform.w3.eth.get_balance(client.account.address)
    model_id, tx = client.register_model("free", "no-peaks", PARAMS)
    assert tx is not None and platform.w3.eth.get_balance(client.account.address) == before
    assert client.register_model("free", "no-peaks", PARAMS) == (model_id, None)


def test_fee_market_network_pays_and_refusals_are_sentences(paid_platform, monkeypatch):
    client = _client(paid_platform, monkeypatch)
    fees = client._fees()
    assert fees["maxFeePerGas"] > 0
    before = paid_platform.w3.eth.get_balance(client.account.address)
    model_id, tx = client.register_model("paid", "no-peaks", PARAMS)
    assert tx is not None and paid_platform.w3.eth.get_balance(client.account.address) < before
    notarised = client.notarise(1, 20261125, "0x" + "00" * 32, "0x" + "00" * 32, "0x" + "11" * 32, model_id, 0, 0)
    assert client.latest_version(1, 20261125) == 1 and notarised.block_number > 0
    with pytest.raises(ChainError, match="NotaryPeriodExists"):
        client.notarise(1, 20261125, "0x" + "00" * 32, "0x" + "00" * 32, "0x" + "11" * 32, model_id, 0, 0)
    stranger = ChainClient.connect(paid_platform.url, KEYS[9])
    with pytest.raises(ChainError, match="NotaryUnauthorized"):
        stranger.notarise(1, 20261126, "0x" + "00" * 32, "0x" + "00" * 32, "0x" + "11" * 32, model_id, 0, 0)
