"""The ape network entry for Besu (besu-network/ape-network.yaml), against anvil at chain id 1981 with free
gas: `ethereum:besu:node` reaches the URL in LEC_RPC_URL and the scripts' transactions there cost nothing.

The deploy, seed and admin scripts themselves are checked for zero-fee transactions in tests/scripts/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from besu_helpers import ROOT

from tests.support.anvil import anvil, rpc

PROBE = """
import json
from ape import chain, networks
with networks.parse_network_choice("ethereum:besu:node") as provider:
    from scripts._lec.chain import deployer, tx_kwargs
    sender = deployer()
    receipt = sender.transfer(sender, 0, **tx_kwargs())
    print(json.dumps({"chainId": chain.chain_id, "uri": provider.uri, "tx": receipt.txn_hash}))
"""


@pytest.fixture(scope="module")
def anvil_url():
    with anvil() as url:
        yield url


@pytest.mark.services
def test_besu_network_entry_reaches_lec_rpc_url_and_sends_free_transactions(anvil_url, tmp_path):
    entry = yaml.safe_load((ROOT / "besu-network/ape-network.yaml").read_text())
    (tmp_path / "ape-config.yaml").write_text(yaml.safe_dump({"name": "besu-probe", **entry}))
    env = {
        **os.environ,
        "LEC_RPC_URL": anvil_url,
        "APE_DATA_FOLDER": str(ROOT / ".ape"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("LEC_DEPLOYER", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["chainId"] == 1981 and out["uri"] == anvil_url
    receipt = rpc(anvil_url, "eth_getTransactionReceipt", out["tx"])
    assert int(receipt["status"], 16) == 1
    assert int(receipt["effectiveGasPrice"], 16) == 0
