"""The living lab's API tests' shared place: two communities, four members, the admin (also a member), a member of
the other community, the other community's admin and an auditor, each a real Keycloak user with a token; the
fixture `make_lab_env` in conftest.py builds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dapp.api.main import create_app
from lec.calendar import ROME
from lec.db.models import Community, CounterReading, Device, Role, User, UserCommunity, UserRole
from lec.db.session import get_engine, init_db
from tests.api.api_helpers import bearer, make_settings
from tests.support.keycloak import KeycloakServer

MEMBERS = ("anna", "bruno", "carla", "dario")


@dataclass
class Env:
    client: TestClient
    tokens: dict[str, str]
    community: int
    other: int
    engine: Any
    users: dict[str, int]

    def call(self, method: str, who: str, path: str, community: int | None = None, **kwargs):  # noqa: ANN201
        cid = self.community if community is None else community
        return self.client.request(
            method, f"/api/v1/communities/{cid}{path}", headers=bearer(self.tokens[who]), **kwargs
        )


@contextmanager
def lab_env(
    keycloak: KeycloakServer, folder: Path, prefix: str, names: tuple[str, str], **settings: Any
) -> Iterator[Env]:
    """The place, its Keycloak users named `{prefix}-{who}`, its communities named `names`; `settings` override
    the API's Settings."""
    db_url = f"sqlite:///{folder / 'api.db'}"
    engine = init_db(get_engine(db_url))
    people = {name: (["token-holder"], "lab", False) for name in MEMBERS}
    people |= {
        "admin": (["community-admin", "token-holder"], "lab", True),
        "dora": (["token-holder"], "other", False),
        "other-admin": (["community-admin"], None, True),
        "auditor": (["auditor"], None, False),
    }
    users = {}
    with Session(engine) as s:
        lab, other = Community(name=names[0]), Community(name=names[1])
        s.add_all([lab, other])
        s.flush()
        role_id = s.exec(select(Role.id).where(Role.name == "community-admin")).one()
        for i, (name, (roles, member_of, admin)) in enumerate(people.items()):
            subject = keycloak.add_user(f"{prefix}-{name}", roles=roles)
            user = User(external_id=subject, name=name, surname="Test", email=f"{prefix}-{name}@example.org")
            s.add(user)
            s.flush()
            assert user.id is not None
            users[name] = user.id
            community = lab if member_of == "lab" or name == "admin" else other
            if member_of:
                s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet=f"0x{i + 1:040x}", active=True))
            if admin:
                s.add(UserRole(user_id=user.id, community_id=lab.id if name == "admin" else other.id, role_id=role_id))
        s.commit()
        assert lab.id is not None and other.id is not None
        ids = lab.id, other.id
    tokens = {name: keycloak.access_token(f"{prefix}-{name}") for name in people}
    app_settings = make_settings(keycloak, db_url).model_copy(update=settings)
    with TestClient(create_app(app_settings, engine)) as client:
        yield Env(client, tokens, ids[0], ids[1], engine, users)


def day_readings(s: Session, device: Device, flow_id: int, day: date, sun_wh: float, other_wh: float) -> None:
    """One local day of a load meter's quarter hours: `sun_wh` in the local hours 10–15, `other_wh` the rest (92,
    96 or 100 quarter hours: DST days included)."""
    t = datetime(day.year, day.month, day.day, tzinfo=ROME).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ROME).astimezone(UTC)
    while t < end:
        wh = sun_wh if 10 <= t.astimezone(ROME).hour < 16 else other_wh
        s.add(CounterReading(device_id=device.id, flow_id=flow_id, community_id=device.community_id, timestamp=t,
                             energy_wh=wh, tsi=0))  # fmt: skip
        t += timedelta(minutes=15)
