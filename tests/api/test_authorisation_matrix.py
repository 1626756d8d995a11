"""Every route × every role × own/foreign community → the expected status (401, 403, or let through)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from api_helpers import bearer
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dapp.api.main import create_app
from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import Community, Device, Flow, Role, Supplier, User, UserCommunity, UserRole
from lec.db.models.market import Listing
from lec.market.policy import Side

ROLES = ("anonymous", "holder", "c_admin", "auditor", "platform", "oracle", "outsider", "gateway")
ALLOWED_CHAIN_DOWN = {502, 503, 409}  # routes that reach the chain answer these when no node is running


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str | None]
    own: int
    foreign: int


@pytest.fixture(scope="module")
def world(keycloak, tmp_path_factory) -> World:
    from api_helpers import make_settings

    from lec.db.session import get_engine, init_db

    url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'api.db'}"

    engine = init_db(get_engine(url))
    realm_roles = {
        "holder": ["token-holder"],
        "c_admin": ["community-admin", "token-holder"],
        "auditor": ["auditor"],
        "platform": ["platform-admin"],
        "oracle": ["oracle-admin"],
        "outsider": ["token-holder"],
    }
    subjects = {r: keycloak.add_user(f"matrix-{r}", "pw", roles) for r, roles in realm_roles.items()}
    with Session(engine) as s:
        a, b = Community(name="Own LEC", chain_community_id=901), Community(name="Foreign LEC", chain_community_id=902)
        s.add_all([a, b])
        s.flush()
        users = {}
        for role, subject in subjects.items():
            users[role] = User(external_id=subject, name=role, surname="Test", email=f"{role}@example.org")
            s.add(users[role])
        s.flush()
        for i, role in enumerate(("holder", "c_admin")):
            s.add(UserCommunity(community_id=a.id, user_id=users[role].id, wallet=f"0x{i + 1:040x}", active=True))
        for role, name in (("c_admin", "community-admin"), ("oracle", "oracle-admin")):
            role_id = s.exec(select(Role.id).where(Role.name == name)).one()
            s.add(UserRole(user_id=users[role].id, community_id=a.id, role_id=role_id))
        gateway = Supplier(name="lec-gateway-demo")
        flow = Flow(name="matrix-load", quantity=FlowQuantity.LOAD)
        s.add_all([gateway, flow])
        s.flush()
        for community, pod in ((a, "IT001E-OWN"), (b, "IT001E-FOREIGN")):
            s.add(
                Device(
                    pod=pod,
                    community_id=community.id,
                    user_id=users["holder"].id if community is a else None,
                    supplier_id=gateway.id,
                    default_flow_id=flow.id,
                    kind=DeviceKind.CONSUMPTION_METER,
                    name=pod,
                )
            )
        for community in (a, b):
            s.add(
                Listing(
                    chain_community_id=community.chain_community_id,
                    category=0,
                    side=Side.OFFER,
                    title="Holder's listing",
                    description="Owned by the holder's wallet",
                    price_centihours=100,
                    owner=f"0x{1:040x}",
                    description_hash="0x" + "00" * 32,
                )
            )
        s.commit()
        own, foreign = a.id, b.id
    tokens: dict[str, str | None] = {r: keycloak.mint(f"matrix-{r}") for r in realm_roles}
    tokens["anonymous"] = None
    tokens["gateway"] = keycloak.mint("service-account-lec-gateway-demo", client_id="lec-gateway-demo")

    settings = make_settings(keycloak, url, rpc_url="http://127.0.0.1:9")  # nothing listens on port 9
    with TestClient(create_app(settings, engine)) as client:
        yield World(client, tokens, own, foreign)


_pods = itertools.count()


def _reading(pod: str) -> dict:
    return {"readings": [{"device": pod, "timestamp": "2026-11-20T10:00:00Z", "energy_wh": 120.5}]}


# (method, path, body, roles allowed in their own community, roles allowed in a foreign one)
EVERYONE = set(ROLES) - {"anonymous"}
PERSONS = EVERYONE - {"gateway"}
ROUTES = [
    ("GET", "/api/v1/me", None, EVERYONE, EVERYONE),
    ("GET", "/api/v1/communities", None, EVERYONE, EVERYONE),
    ("GET", "/api/v1/communities/{c}", None, {"holder", "c_admin", "auditor", "platform"}, {"auditor", "platform"}),
    ("GET", "/api/v1/communities/{c}/members", None, {"c_admin", "platform"}, {"platform"}),
    ("GET", "/api/v1/communities/{c}/registrations", None, {"c_admin", "platform"}, {"platform"}),
    ("GET", "/api/v1/communities/{c}/devices", None, {"holder", "c_admin", "platform"}, {"platform"}),
    (
        "POST",
        "/api/v1/communities/{c}/devices",
        lambda: {"pod": f"POD-M{next(_pods)}", "name": "meter", "kind": "consumption_meter"},
        {"c_admin", "platform"},
        {"platform"},
    ),
    ("GET", "/api/v1/communities/{c}/me/daily?from=2026-01-01&to=2026-12-31", None, {"holder", "c_admin"}, set()),
    (
        "GET",
        "/api/v1/communities/{c}/kpis?from=2026-01-01&to=2026-12-31",
        None,
        {"holder", "c_admin", "auditor", "platform"},
        {"auditor", "platform"},
    ),
    (
        "POST",
        "/api/v1/communities/{c}/kpis/refresh",
        lambda: {"start": "2026-11-20", "end": "2026-11-20"},
        {"c_admin", "oracle", "platform"},
        {"platform"},
    ),
    (
        "POST",
        "/api/v1/communities/{c}/readings",
        lambda: _reading("IT001E-OWN"),
        {"gateway", "c_admin", "platform"},
        {"platform"},
    ),
    (
        "GET",
        "/api/v1/communities/{c}/periods",
        None,
        {"holder", "c_admin", "auditor", "platform"},
        {"auditor", "platform"},
    ),
    (
        "GET",
        "/api/v1/communities/{c}/token-policy",
        None,
        {"holder", "c_admin", "auditor", "platform"},
        {"auditor", "platform"},
    ),
    ("GET", "/api/v1/reward-models", None, EVERYONE, EVERYONE),
    (
        "POST",
        "/api/v1/reward-models",
        lambda: {"name": "sc", "kind": "self_consumption", "params": {"a": 1, "b": 1, "c": 1}},
        {"oracle"},
        {"oracle"},
    ),
    ("POST", "/api/v1/verify", lambda: {"bundle": {"format": "nope"}}, EVERYONE, EVERYONE),
    ("PATCH", "/api/v1/me", lambda: {"city": "Roma"}, PERSONS - {"anonymous"}, PERSONS),
    ("GET", "/api/v1/communities/{c}/registrations?status=pending", None, {"c_admin", "platform"}, {"platform"}),
    (
        "GET",
        "/api/v1/communities/{c}/listings?q=bike&category=0&side=offer&max_hours=2",
        None,
        {"holder", "c_admin", "auditor", "platform"},
        {"auditor", "platform"},
    ),
    (
        "POST",
        "/api/v1/communities/{c}/listings",
        lambda: {"category": 0, "side": "offer", "title": "Bike repair", "description": "Flat tyres", "hours": "1"},
        {"holder", "c_admin"},
        set(),
    ),
    # Listing 1 belongs to the holder (see `world`): its owner and the admins may close it, nobody else.
    ("POST", "/api/v1/communities/{c}/listings/1/close", None, {"holder", "c_admin", "platform"}, {"platform"}),
    (
        "GET",
        "/api/v1/communities/{c}/deals/1",
        None,
        {"holder", "c_admin", "auditor", "platform"},
        {"auditor", "platform"},
    ),
    (
        "GET",
        "/api/v1/communities/{c}/anomalies?reason=out_of_bounds",
        None,
        {"c_admin", "auditor", "platform"},
        {"auditor", "platform"},
    ),
    (
        "GET",
        "/api/v1/communities/{c}/clusters",
        None,
        {"holder", "c_admin", "auditor", "platform"},
        {"auditor", "platform"},
    ),
]


@pytest.mark.parametrize("where", ["own", "foreign"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1].split('?')[0]}")
def test_matrix(world: World, route, role: str, where: str) -> None:
    method, path, body, allowed_own, allowed_foreign = route
    community = world.own if where == "own" else world.foreign
    if "{c}" not in path and where == "foreign":
        pytest.skip("not community-scoped")
    token = world.tokens[role]
    headers = bearer(token) if token else {}
    reply = world.client.request(method, path.format(c=community), headers=headers, json=body() if body else None)
    allowed = allowed_own if where == "own" else allowed_foreign
    if role == "anonymous":
        assert reply.status_code == 401, reply.text
    elif role in allowed:
        assert reply.status_code not in (401, 403), reply.text
        assert reply.status_code < 500 or reply.status_code in ALLOWED_CHAIN_DOWN, reply.text
    else:
        assert reply.status_code == 403, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    if reply.status_code >= 400:
        assert isinstance(reply.json()["detail"], str)


def test_a_gateway_cannot_send_readings_of_a_device_it_does_not_serve(world: World) -> None:
    reply = world.client.post(
        f"/api/v1/communities/{world.own}/readings",
        headers=bearer(world.tokens["gateway"]),
        json=_reading("IT001E-NOT-MINE"),
    )
    assert reply.status_code == 403
    assert "own devices" in reply.json()["detail"]


def test_a_member_gets_only_their_own_bundle(world: World) -> None:
    reply = world.client.get(
        f"/api/v1/communities/{world.own}/periods/20261120/bundle?account=0x{2:040x}",
        headers=bearer(world.tokens["holder"]),
    )
    assert reply.status_code == 403
    reply = world.client.get(
        f"/api/v1/communities/{world.own}/periods/20261120/bundle?account=0x{2:040x}",
        headers=bearer(world.tokens["auditor"]),
    )
    assert reply.status_code == 404  # allowed, but that period was never run
