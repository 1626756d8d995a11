"""The demo's dev identity: its users are bound to the simulated demo community, so that signing in as a demo
member shows that member's data, and the dashboards' read model is filled for the simulated days."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from api_helpers import bearer
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from dapp.api.dev_identity import DEV_USERS
from dapp.api.main import create_app
from lec.db.models import MemberDailyKpi, User, UserCommunity
from lec.db.session import get_engine, init_db
from lec.settings import Settings
from oracle.simulate.community import anvil_address, simulate

START = date(2026, 5, 4)


def test_demo_users_see_their_own_simulated_data(tmp_path: Path, monkeypatch) -> None:
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    (deployments / "1981.json").write_text(json.dumps({"chainId": 1981, "communities": [{"id": 1, "name": "Demo"}]}))
    url = f"sqlite:///{tmp_path / 'lec.db'}"
    engine = init_db(get_engine(url))
    simulate(engine, 8, 2, START, seed=3, deployments=deployments)
    monkeypatch.setenv("LEC_DATA_DIR", str(tmp_path))
    settings = Settings(_env_file=None, dev_identity=True, database_url=url, host="127.0.0.1")  # type: ignore[call-arg]
    app = create_app(settings, engine)
    credentials = json.loads((tmp_path / "dev-identity.json").read_text())
    assert set(credentials["users"]) == set(DEV_USERS)

    with Session(engine) as session:
        alice = session.exec(select(User).where(User.external_id == credentials["users"]["alice"]["subject"])).one()
        wallet = session.exec(select(UserCommunity.wallet).where(UserCommunity.user_id == alice.id)).one()
        assert wallet == anvil_address(1)
        assert session.exec(select(func.count()).select_from(MemberDailyKpi)).one() == 2 * 8

    with TestClient(app) as client:
        token = _password_token(client, credentials, "alice")
        me = client.get("/api/v1/me", headers=bearer(token)).json()
        assert [m["wallet"] for m in me["memberships"]] == [anvil_address(1)]
        daily = client.get(
            "/api/v1/communities/1/me/daily",
            params={"from": START.isoformat(), "to": "2026-05-05"},
            headers=bearer(token),
        )
        assert daily.status_code == 200, daily.text
        assert len(daily.json()["items"]) == 2 and daily.json()["items"][0]["load_wh"] > 0
        carla = _password_token(client, credentials, "carla")
        members = client.get("/api/v1/communities/1/members", headers=bearer(carla))
        assert members.status_code == 200 and members.json()["total"] == 8
        # The roles the docs promise work on their own routes (403 before the demo users had user_roles rows).
        oscar = _password_token(client, credentials, "oscar")
        refresh = client.post(
            "/api/v1/communities/1/kpis/refresh",
            headers=bearer(oscar),
            json={"start": "2026-05-04", "end": "2026-05-05"},
        )
        assert refresh.status_code == 200, refresh.text
        tina = _password_token(client, credentials, "tina")
        policy = client.get("/api/v1/communities/1/token-policy", headers=bearer(tina))
        assert policy.status_code != 403, policy.text  # no chain in this test: 502, past the access check


def _password_token(client: TestClient, credentials: dict, username: str) -> str:
    import requests

    reply = requests.post(
        f"{credentials['keycloak_url']}/realms/{credentials['realm']}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": credentials["dapp_client_id"],
            "username": username,
            "password": credentials["users"][username]["password"],
        },
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()["access_token"]
