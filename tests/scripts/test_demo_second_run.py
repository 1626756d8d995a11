"""`make demo` a second time succeeds and changes nothing it already did: the demo's data steps (deploy, seed,
`make demo-oracle` — import of the manifest, simulated readings, the days run, notarised and claimed, the
clustering) then the identity binding and the living lab's demo (`lec demo-lab`: a project, a poll closed with
its tally notarised, messages (one scheduled), feedback, outside voices from a shipped
feed file, objectives), twice over, on a real anvil."""

from __future__ import annotations

import subprocess
import uuid

import pytest
import sqlalchemy as sa
from web3 import Web3

from tests.support.tools import ROOT, tool_env

pytestmark = pytest.mark.services

TABLES = (
    "communities",
    "users",
    "user_communities",
    "user_roles",
    "devices",
    "device_flows",
    "flows",
    "flow_communities",
    "member_points",
    "plants",
    "counterreading",
    "weatherdata",
    "anomalies",
    "leaf_salts",
    "cluster_groups",
    "clusters",
    "cluster_users",
    "lab_projects",
    "lab_project_members",
    "lab_polls",
    "lab_poll_voters",
    "lab_ballots",
    "lab_messages",
    "lab_inbox",
    "lab_feedback",
    "lab_feeds",
    "lab_voices",
    "lab_objectives",
    "lab_cluster_objectives",
)


def _make_demo_oracle(env: dict[str, str]) -> subprocess.CompletedProcess:
    # `-o seed`: the module's fixture already deployed and seeded (the demo's first two steps), and the
    # `seed` target would recompile the contracts.
    return subprocess.run(
        ["make", "-o", "seed", "demo-oracle", "DEMO_DAYS=1", "DEMO_START=2026-05-04"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _bind(env: dict[str, str], subjects: dict[str, str]) -> None:
    """The demo's identity step (`lec demo-identity` without Keycloak): the simulated users of the demo wallets
    are renamed to their Keycloak subjects — what made the second `make demo` fail before."""
    code = f"from dapp.api.demo_identity import bind_demo_users; bind_demo_users(None, {subjects!r})"
    subprocess.run([str(ROOT / ".venv/bin/python"), "-c", code], cwd=ROOT, env=env, check=True, timeout=120)


def _lab(env: dict[str, str]) -> str:
    """The demo's living-lab step (`make demo-lab`)."""
    done = subprocess.run(
        [str(ROOT / ".venv/bin/lec"), "demo-lab"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _state(db_url: str, anvil_url: str) -> dict:
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        rows = {t: c.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one() for t in TABLES}  # noqa: S608
    engine.dispose()
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    rows["transactions"] = sum(w3.eth.get_transaction_count(a) for a in w3.eth.accounts[:10])
    return rows


def test_demo_data_steps_run_twice_and_the_second_changes_nothing(ape_run, anvil_url, tmp_path):
    ape_run("deploy")
    ape_run("seed")
    db_url = f"sqlite:///{ape_run.data / 'lec.db'}"
    env = tool_env(
        LEC_DEPLOYMENTS_DIR=str(ape_run.deployments),
        LEC_DATA_DIR=str(ape_run.data),
        LEC_RPC_URL=anvil_url,
        DATABASE_URL=db_url,
    )
    from dapp.api.demo_identity import DEMO_USERS

    subjects = {name: str(uuid.uuid4()) for name in DEMO_USERS}
    first = _make_demo_oracle(env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Community 1 (Demo LEC) imported." in first.stdout
    _bind(env, subjects)
    assert "Living lab demo: " in _lab(env)
    after_first = _state(db_url, anvil_url)
    assert after_first["counterreading"] > 0 and after_first["member_points"] == 8
    assert after_first["lab_ballots"] == 6 and after_first["lab_project_members"] == 4
    assert after_first["lab_feedback"] == 6
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        state, tx_hash, counts = c.exec_driver_sql("SELECT state, tx_hash, counts FROM lab_polls").one()
    engine.dispose()
    assert state == "closed" and tx_hash and counts == "[3, 1, 2]"
    # the scheduled newsletter waits for next month; the shipped feed file gives 3 voices (the 4th names no keyword);
    # this month's self-sufficiency objective and the largest group's target curve (8 members in 3 groups: ≥ 3)
    assert after_first["lab_messages"] == 3 and after_first["lab_feeds"] == 1 and after_first["lab_voices"] == 3
    assert after_first["lab_objectives"] == 1 and after_first["lab_cluster_objectives"] == 1
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        waiting = c.exec_driver_sql("SELECT subject FROM lab_messages WHERE sent_at IS NULL").all()
        fetched = c.exec_driver_sql("SELECT fetched_at, error FROM lab_feeds").one()
    engine.dispose()
    assert waiting == [("Newsletter di inizio mese",)]
    assert fetched[0] is not None and fetched[1] is None

    second = _make_demo_oracle(env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already up to date: nothing changed" in second.stdout
    _bind(env, subjects)
    assert "already up to date: nothing changed" in _lab(env)
    assert _state(db_url, anvil_url) == after_first
