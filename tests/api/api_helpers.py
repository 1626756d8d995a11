"""Helpers shared by the API tests (imported by module name: `from conftest import …` can load another
folder's conftest when the whole suite runs)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth_account import Account
from pydantic import SecretStr
from web3 import Web3

from dapp.api.dev_realm import KeycloakStandIn
from lec.settings import Settings
from tests.support.anvil import anvil
from tests.support.platform import deploy_platform


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
        # Tests send far more requests a minute than a person: the rate limits are tested on their own
        # (test_hardening_limits.py), with these set.
        **{f"rate_limit_{name}": "" for name in ("caller", "anonymous", "registrations", "wallet_challenges")},
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# ---- a real chain for the routes that read or write it ---------------------------------------------------

ADMIN = Account.create()  # platform and community admin of the test chain; a fresh key per test run


@contextmanager
def platform_on_anvil(deployments: Path, community: str = "Flow LEC") -> Iterator[tuple[str, Web3, str]]:
    """anvil at chain id 1981 with free gas, Registry/RewardModels/Notary and one community run by ADMIN; the
    deployments file written in `deployments`. Yields (RPC URL, web3, deployments folder); stops anvil after."""
    with anvil() as url:
        w3 = Web3(Web3.HTTPProvider(url))
        w3.provider.make_request("anvil_setBalance", [ADMIN.address, hex(10**20)])  # type: ignore[arg-type]
        symbol = "".join(w[0] for w in community.split()).upper() + "X"
        (deployments / "1981.json").write_text(json.dumps(deploy_platform(w3, ADMIN, community, symbol)))
        yield url, w3, str(deployments)
