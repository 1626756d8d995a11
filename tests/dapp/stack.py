"""The demo, assembled from the team's real parts for the dApp's tests and screenshots: the chain (deployed and
seeded by the ape scripts), a simulated community in the oracle's database, one period run, notarised and
claimed by the oracle, and the API served by uvicorn against the test run's real Keycloak."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from tests.support.anvil import KEYS
from tests.support.keycloak import KeycloakServer
from tests.support.tools import ROOT

DEMO_DAYS = 7
MODEL_PARAMS = '{"a":1000000000000000,"b":500000000000000,"c":500000000000000,"max_per_period":1000000000000000000000}'


@dataclass(frozen=True)
class Stack:
    api_url: str
    env: dict[str, str]
    first_day: date
    last_day: date
    settings: dict[str, str]  # the platform's environment variables for in-process code (pages, API)


def lec(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/lec"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(f"lec {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def bind_demo_users(
    database_url: str, realm: KeycloakServer, users: dict[str, tuple[tuple[str, ...], int | None]]
) -> None:
    """The demo's own binding of realm users to the simulated community (dapp.api.demo_identity), for the
    test realm's users."""
    from dapp.api.demo_identity import bind_demo_users as bind

    subjects = {}
    for name in users:
        user = realm.user(name)
        assert user is not None, f"{name} is not a user of the realm"
        subjects[name] = user["id"]
    bind(database_url, subjects, users)


def start_api(env: dict[str, str], realm: KeycloakServer, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """The API in this process (a uvicorn thread), validating tokens against the realm server's keys."""
    from dapp.api.main import create_app
    from lec.settings import Settings

    settings = Settings(
        keycloak_url=realm.url,
        client_secret=SecretStr(realm.client_secret("lec-api")),
        database_url=env["DATABASE_URL"],
        rpc_url=env["LEC_RPC_URL"],
        deployments_dir=Path(env["LEC_DEPLOYMENTS_DIR"]),
        port=port,
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="lec-api", daemon=True)
    thread.start()
    return server, thread


def build_data(env: dict[str, str]) -> tuple[date, date]:
    """Simulates a week of the demo community; the day before the last is run, notarised and every reward claimed
    by the oracle; the last day is notarised only, so members have a reward to claim themselves."""
    last = date.today() - timedelta(days=1)
    first = last - timedelta(days=DEMO_DAYS - 1)
    lec(env, "community", "import", str(ROOT / "docs/examples/community-manifest.json"))  # as `make demo`
    lec(env, "oracle", "simulate", "--members", "8", "--days", str(DEMO_DAYS), "--start", first.isoformat())
    # The demo's demand-response event (as `make demo-oracle`), on a day no period below is run for.
    lec(env, "flex", "demo-event", "--community", "1", "--day", first.isoformat())
    lec(
        env, "oracle", "register-model", "--name", "lec-default", "--kind", "self-consumption", "--params", MODEL_PARAMS
    )
    lec(env, "oracle", "run", "--community", "1", "--period", (last - timedelta(days=1)).isoformat(), "--claim")
    lec(env, "oracle", "run", "--community", "1", "--period", last.isoformat(), "--publish")
    return first, last


def stack_env(base: dict[str, str], data_dir: Path) -> dict[str, str]:
    env = dict(base)
    env.update(
        LEC_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'lec.db'}",
        LEC_ORACLE_PRIVATE_KEY=KEYS[0],  # anvil's first account: the demo's deployer and oracle admin
    )
    os.makedirs(data_dir, exist_ok=True)
    return env
