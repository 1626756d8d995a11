"""One invalid reward model, refused with the same sentence by each of the four ways to register one.

`lec oracle register-model`, the API's `POST /reward-models`, the dApp's reward-models page and
`ape run admin model-register` all call `oracle.rewards.models.validate_model` before anything is sent. The
model below is well-formed JSON of integers (so it passes the API's schema and the CLI's choice of kinds) but
its two weights do not sum to 10 000: `lec oracle run` would refuse it, so registering it must fail too.
Each path runs against a real anvil where the oracle's key could register it, and the chain stays untouched.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr
from streamlit.testing.v1 import AppTest

from lec.chain.contracts import abi
from lec.settings import Settings
from oracle.commands import register_model_command
from oracle.rewards.models import RewardModelError, validate_model
from tests.support.tools import ROOT, tool_env

pytestmark = pytest.mark.services

NAME, KIND = "lec-weights", "combined"
PARAMS = {
    "a": 1000,
    "b": 500,
    "c": 250,
    "rate": 10,
    "par_ref_bps": 20_000,
    "w_sc_bps": 5_000,
    "w_peak_bps": 4_000,
    "max_per_period": 10**6,
}


@pytest.fixture(scope="module")
def refusal() -> str:
    with pytest.raises(RewardModelError) as refused:
        validate_model(NAME, KIND, json.dumps(PARAMS))
    return str(refused.value)


@pytest.fixture
def chain_env(platform, monkeypatch, tmp_path):
    """The environment of every path: the test chain, its deployments, the oracle's key, a fresh database."""
    monkeypatch.setenv("LEC_RPC_URL", platform.url)
    monkeypatch.setenv("LEC_DEPLOYMENTS_DIR", platform.deployments["dir"])
    monkeypatch.setenv("LEC_ORACLE_PRIVATE_KEY", platform.admin_key)
    monkeypatch.setenv("LEC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    models = platform.w3.eth.contract(
        address=platform.deployments["contracts"]["RewardModels"], abi=abi("RewardModels")
    )
    admin = platform.w3.eth.account.from_key(platform.admin_key).address
    nonce = platform.w3.eth.get_transaction_count(admin)
    yield platform
    assert models.functions.latestModelId(NAME).call() == 0, "the invalid model was registered"
    assert platform.w3.eth.get_transaction_count(admin) == nonce, "a transaction was sent"


def test_the_command_line_refuses(chain_env, refusal):
    result = CliRunner().invoke(
        register_model_command, ["--name", NAME, "--kind", KIND, "--params", json.dumps(PARAMS)]
    )
    assert result.exit_code != 0
    assert refusal in result.output


def test_the_api_refuses(chain_env, refusal, tmp_path):
    from dapp.api.deps import get_principal
    from dapp.api.main import create_app
    from dapp.api.security import Principal

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        rpc_url=chain_env.url,
        oracle_private_key=SecretStr(chain_env.admin_key),
    )
    app = create_app(settings)
    # Who may register is the authorisation matrix's business (tests/api); here the caller is an oracle admin.
    app.dependency_overrides[get_principal] = lambda: Principal(
        subject="oscar", username="oscar", roles=frozenset({"oracle-admin"}), client_id="lec-dapp"
    )
    with TestClient(app) as client:
        reply = client.post(
            "/api/v1/reward-models",
            json={"name": NAME, "kind": KIND, "params": PARAMS},
            headers={"Authorization": "Bearer x"},
        )
    assert reply.status_code == 422
    assert reply.json()["detail"] == refusal


def test_the_dapp_page_refuses(chain_env, refusal):
    from dapp.views import common

    common.chain.clear()  # a Chain cached by an earlier test may point at another node
    at = AppTest.from_file("../../../dapp/app.py", default_timeout=60)
    at.session_state["identity"] = common.identity_from_claims(
        {"preferred_username": "oscar", "realm_access": {"roles": ["oracle-admin"]}}, None, source="demo"
    )
    at.run()
    at.switch_page("views/oracle_admin.py").run()
    at.text_input(key="oracle_name").input(NAME).run()
    at.selectbox(key="oracle_kind").select(KIND).run()
    at.text_area(key="oracle_params").input(json.dumps(PARAMS)).run()
    assert not at.exception
    assert refusal in [e.value for e in at.error]
    assert at.button(key="oracle_register").disabled  # the only way to the wallet's signature


def test_the_ape_script_refuses(chain_env, refusal):
    env = tool_env()
    result = subprocess.run(
        ["ape", "run", "admin", "model-register", NAME, KIND, json.dumps(PARAMS), "--network", chain_env.url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert refusal in result.stdout + result.stderr
