"""Helpers shared by the API tests (imported by module name: `from conftest import …` can load another
folder's conftest when the whole suite runs)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth_account import Account
from pydantic import SecretStr
from web3 import Web3

from lec.settings import Settings
from tests.support.anvil import anvil
from tests.support.keycloak import KeycloakServer
from tests.support.platform import deploy_platform


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unverified_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def unverified_header(token: str) -> dict:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))


def make_settings(keycloak: KeycloakServer, database_url: str, realm: str = "lec", **overrides: object) -> Settings:
    """The API's settings against the test run's Keycloak (the `lec-api` client's secret read from the realm)."""
    values: dict[str, object] = {
        "keycloak_url": keycloak.url,
        "keycloak_realm": realm,
        "client_secret": SecretStr(keycloak.client_secret("lec-api", realm)),
        "database_url": database_url,
        "jwks_refetch_interval_seconds": 0.0,
        # Tests send far more requests a minute than a person: the rate limits are tested on their own
        # (test_hardening_limits.py), with these set.
        **{f"rate_limit_{name}": "" for name in ("caller", "anonymous", "registrations", "wallet_challenges")},
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def validator_with_fake_clocks(keycloak: KeycloakServer, database_url: str, realm: str = "lec", **overrides: object):
    """The API's token validator for `realm`, with its monotonic and wall clocks replaced by lists the test moves:
    the cache's and the key set's bounds are about time, and a test must not wait for them."""
    from dapp.api.main import build_validator

    validator = build_validator(make_settings(keycloak, database_url, realm=realm, **overrides))
    mono, wall = [1000.0], [time.time()]
    validator._clock, validator._wall_clock = (lambda: mono[0]), (lambda: wall[0])
    return validator, mono, wall


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
