"""Every route × every kind of caller × own/foreign community → 401, 403, or let through.

Adding a route to the API? Add ONE `route(...)` line to `ROUTES` below: its method and path (as FastAPI lists
it), the callers let through in their own community and in a foreign one, and a body if it takes one (the callers
are described in tests/api/authz_matrix.py). `test_every_route_is_in_the_matrix` fails until you do.
"""

from __future__ import annotations

import itertools

import pytest
from api_helpers import bearer, make_settings
from authz_matrix import (
    DOWNSTREAM,
    EVERYONE,
    PEOPLE,
    REALM_ROLES,
    Cell,
    Route,
    World,
    _enrol,
    build_world,
    cells,
    route,
)
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dapp.api.main import create_app
from lec.db.models import Community, Role, User, UserCommunity, UserRole

_seq = itertools.count()

API = "/api/v1"
C = f"{API}/communities/{{community_id}}"
DAYS = "from=2026-01-01&to=2026-12-31"
READERS = {"holder", "c_admin", "auditor", "platform"}  # CommunityReader: members, their admin, auditors, platform
ADMINS = {"c_admin", "platform"}  # CommunityAdmin
OVERSEERS = {"c_admin", "auditor", "platform"}  # the community admin, auditors and platform admins
MEMBERS_OWN = {"holder", "c_admin"}  # active members of the community (a token-holder's membership)


def _reading(world: World) -> dict:
    return {"readings": [{"device": "IT001E-OWN", "timestamp": "2026-11-20T10:00:00Z", "energy_wh": 120.5}]}


ROUTES: list[Route] = [
    # ---- outside the API: no token needed ----
    route("GET", "/health", (), public=True),
    route("GET", "/ready", (), public=True),
    route("GET", "/openapi.json", (), public=True),
    route("GET", "/docs", (), public=True),
    route("GET", "/docs/oauth2-redirect", (), public=True),
    route("GET", "/redoc", (), public=True),
    # ---- identity: the caller's own account ----
    route("GET", f"{API}/me", EVERYONE),
    route("PATCH", f"{API}/me", PEOPLE, body=lambda w: {"city": "Roma"}),
    route("DELETE", f"{API}/me", PEOPLE, fresh=True),
    route("POST", f"{API}/me/logout", PEOPLE, body=lambda w: {"refresh_token": "not-a-token"}),
    route(
        "POST",
        f"{API}/registrations",
        (),
        public=True,
        body=lambda w: {"community_id": 1, "email": "not-an-address", "password": "x", "name": "A", "surname": "B"},
    ),
    route("POST", f"{API}/me/registrations", PEOPLE, body=lambda w: {"community_id": w.communities["foreign"]}),
    route(
        "POST",
        f"{API}/me/wallet-challenges",
        PEOPLE,
        body=lambda w: {"community_id": w.communities["own"], "address": f"0x{next(_seq) + 5000:040x}"},
    ),
    route(
        "POST",
        f"{API}/me/wallets",
        PEOPLE,
        body=lambda w: {"message": "not a SIWE message", "signature": "0x" + "00" * 65},
    ),
    # Leaving needs only an account: the chain call (none here) comes first, so nothing changes.
    route("DELETE", f"{API}/me/communities/{{community_id}}", PEOPLE, PEOPLE),
    # ---- communities ----
    route("GET", f"{API}/communities", EVERYONE),
    route("GET", C, READERS, {"auditor", "platform"}),
    route("GET", f"{C}/members", ADMINS, {"platform"}),
    route("GET", f"{C}/registrations", ADMINS, {"platform"}, query="status=pending"),
    route("POST", f"{C}/registrations/{{registration_id}}/approve", ADMINS, {"platform"}),
    route("POST", f"{C}/registrations/{{registration_id}}/reject", ADMINS, {"platform"}),
    route("GET", f"{C}/devices", {"holder", "c_admin", "platform"}, {"platform"}),
    route(
        "POST",
        f"{C}/devices",
        ADMINS,
        {"platform"},
        body=lambda w: {"pod": f"POD-M{next(_seq)}", "name": "meter", "kind": "consumption_meter"},
    ),
    # ---- dashboards ----
    route("GET", f"{C}/me/daily", {"holder", "c_admin"}, query=DAYS),
    route("GET", f"{C}/members/{{user_id}}/daily", ADMINS, {"platform"}, query=DAYS),
    route("GET", f"{C}/kpis", READERS, {"auditor", "platform"}, query=DAYS),
    route(
        "POST",
        f"{C}/kpis/refresh",
        {"c_admin", "oracle", "platform"},
        {"platform"},
        body=lambda w: {"start": "2026-11-20", "end": "2026-11-20"},
    ),
    # ---- ingestion ----
    route("POST", f"{C}/readings", {"gateway", "c_admin", "platform"}, {"platform"}, body=_reading),
    # ---- periods and verification ----
    route("GET", f"{C}/periods", READERS, {"auditor", "platform"}),
    # The holder's own bundle: the holder, the admins and auditors may fetch it (the period was never run: 404).
    route("GET", f"{C}/periods/{{period_id}}/bundle", READERS, {"auditor", "platform"}, query=f"account=0x{1:040x}"),
    route("POST", f"{API}/verify", EVERYONE, body=lambda w: {"bundle": {"format": "nope"}}),
    # ---- token policy and reward models ----
    route("GET", f"{C}/token-policy", READERS | {"t_admin"}, {"auditor", "platform"}),
    route("GET", f"{API}/reward-models", EVERYONE),
    route(
        "POST",
        f"{API}/reward-models",
        {"oracle"},
        body=lambda w: {"name": "sc", "kind": "self_consumption", "params": {"a": 1, "b": 1, "c": 1}},
    ),
    # ---- market ----
    route("GET", f"{C}/listings", READERS, {"auditor", "platform"}, query="q=bike&category=0&side=offer&max_hours=2"),
    route(
        "POST",
        f"{C}/listings",
        {"holder", "c_admin"},
        body=lambda w: {"category": 0, "side": "offer", "title": "Bike", "description": "Flat tyres", "hours": "1"},
    ),
    # Each community's listing belongs to the holder's wallet: its owner and the admins may close it.
    route(
        "POST",
        f"{C}/listings/{{listing_id}}/close",
        {"holder", "c_admin", "platform"},
        {"platform"},
        params={"listing_id": lambda w, where: w.ids["listings"][where]},
    ),
    route("GET", f"{C}/deals/{{deal_id}}", READERS, {"auditor", "platform"}),
    # ---- data quality ----
    route(
        "GET",
        f"{C}/anomalies",
        {"c_admin", "auditor", "platform"},
        {"auditor", "platform"},
        query="reason=out_of_bounds",
    ),
    route("GET", f"{C}/clusters", READERS, {"auditor", "platform"}),
    # ---- the time bank's social side (issue 16): names, ratings, profiles, the monthly target ----
    route("GET", f"{C}/people", READERS, {"auditor", "platform"}),
    route(
        "POST",
        f"{C}/deals/{{deal_id}}/rating",
        MEMBERS_OWN,
        body=lambda w: {"stars": 5, "comment": "Puntuale"},
    ),
    route("GET", f"{C}/profiles/{{wallet}}", MEMBERS_OWN, params={"wallet": f"0x{1:040x}"}),
    route("GET", f"{C}/me/target", MEMBERS_OWN),
    route("PUT", f"{C}/me/target", MEMBERS_OWN, body=lambda w: {"hours": "3.5"}),
    # ---- dispute reasons (issue 16): a side writes, the community admin reads ----
    route("PUT", f"{C}/deals/{{deal_id}}/dispute-reason", MEMBERS_OWN, body=lambda w: {"reason": "Non è venuto"}),
    route("GET", f"{C}/disputes", {"c_admin"}),
    # ---- onboarding, incentive, the admin's second level (issue 19) ----
    route(
        "POST",
        f"{API}/onboarding/manifest",
        {"c_admin", "platform"},
        query="dry_run=true",
        body=lambda w: {
            "community": {"chain_id": 901, "name": "Own LEC", "zone": "NORD", "region": "north"},
            "members": [],
            "devices": [],
            "plants": [],
        },
    ),
    route(
        "PATCH",
        f"{C}/anomalies/{{anomaly_id}}",
        ADMINS,
        {"platform"},
        params={"anomaly_id": 999_999},
        body=lambda w: {"status": "reviewed"},
    ),
    route("GET", f"{C}/incentive", OVERSEERS, {"auditor", "platform"}, query="from=2026-11-20&to=2026-11-20"),
    route("POST", f"{C}/incentive", OVERSEERS, {"auditor", "platform"}, body=lambda w: {}),
    route("GET", f"{C}/details", OVERSEERS, {"auditor", "platform"}, query="month=2026-11"),
    # ---- flexibility (issue 13): members declare, buyers (any community's) and the admin read the offer ----
    route("GET", f"{C}/flexibility/declarations", MEMBERS_OWN),
    route("POST", f"{C}/flexibility/declarations", MEMBERS_OWN, body=lambda w: {}),
    route(
        "DELETE",
        f"{C}/flexibility/declarations/{{declaration_id}}",
        MEMBERS_OWN,
        params={"declaration_id": 999_999},
    ),
    route("GET", f"{C}/flexibility/dispatches", MEMBERS_OWN),
    route("GET", f"{C}/flexibility/events", ADMINS | {"buyer"}, {"platform", "buyer"}),
    route("POST", f"{C}/flexibility/events", {"buyer"}, {"buyer"}, body=lambda w: {}),
    route(
        "POST",
        f"{C}/flexibility/events/{{event_id}}/opt-out",
        MEMBERS_OWN,
        params={"event_id": 999_999},
    ),
    route("GET", f"{C}/flexibility/forecast", ADMINS | {"buyer"}, {"platform", "buyer"}),
    route("GET", f"{C}/flexibility/offer", ADMINS | {"buyer"}, {"platform", "buyer"}),
    route("GET", f"{C}/flexibility/price", ADMINS | {"buyer"}, {"platform", "buyer"}),
    route("PUT", f"{C}/flexibility/price", ADMINS, {"platform"}, body=lambda w: {}),
    # ---- the living lab (issue 14): polls and projects ----
    route("GET", f"{C}/polls", READERS, {"auditor", "platform"}),
    route("POST", f"{C}/polls", ADMINS, {"platform"}, body=lambda w: {}),
    route("GET", f"{C}/polls/{{poll_id}}", READERS, {"auditor", "platform"}, params={"poll_id": 999_999}),
    route("POST", f"{C}/polls/{{poll_id}}/open", ADMINS, {"platform"}, params={"poll_id": 999_999}),
    route(
        "GET",
        f"{C}/polls/{{poll_id}}/ballot-request",
        MEMBERS_OWN,
        params={"poll_id": 999_999},
        query="choice=0",
    ),
    route("POST", f"{C}/polls/{{poll_id}}/ballots", MEMBERS_OWN, params={"poll_id": 999_999}, body=lambda w: {}),
    route("POST", f"{C}/polls/{{poll_id}}/close", ADMINS, {"platform"}, params={"poll_id": 999_999}),
    route("GET", f"{C}/polls/{{poll_id}}/bundle", READERS, {"auditor", "platform"}, params={"poll_id": 999_999}),
    route("GET", f"{C}/polls/{{poll_id}}/receipt", MEMBERS_OWN, params={"poll_id": 999_999}),
    route("GET", f"{C}/projects", READERS, {"auditor", "platform"}),
    route("POST", f"{C}/projects", MEMBERS_OWN, body=lambda w: {}),
    route("GET", f"{C}/projects-statistics", READERS, {"auditor", "platform"}),
    route(
        "GET",
        f"{C}/projects/{{project_id}}/comments",
        READERS,
        {"auditor", "platform"},
        params={"project_id": 999_999},
    ),
    route(
        "POST", f"{C}/projects/{{project_id}}/comments", MEMBERS_OWN, params={"project_id": 999_999}, body=lambda w: {}
    ),
    route(
        "POST",
        f"{C}/projects/{{project_id}}/decision",
        ADMINS,
        {"platform"},
        params={"project_id": 999_999},
        body=lambda w: {},
    ),
    route("POST", f"{C}/projects/{{project_id}}/participants", MEMBERS_OWN, params={"project_id": 999_999}),
    route("DELETE", f"{C}/projects/{{project_id}}/participants", MEMBERS_OWN, params={"project_id": 999_999}),
    route("PUT", f"{C}/projects/{{project_id}}/rating", MEMBERS_OWN, params={"project_id": 999_999}, body=lambda w: {}),
    # ---- the living lab (issue 14): messages and feedback ----
    route("POST", f"{C}/messages", ADMINS, {"platform"}, body=lambda w: {}),
    route("GET", f"{C}/messages", ADMINS, {"platform"}),
    route("GET", f"{C}/inbox", MEMBERS_OWN),
    route("POST", f"{C}/inbox/{{message_id}}/read", MEMBERS_OWN, params={"message_id": 999_999}),
    route("DELETE", f"{C}/inbox/{{message_id}}/read", MEMBERS_OWN, params={"message_id": 999_999}),
    route("POST", f"{C}/feedback", MEMBERS_OWN, body=lambda w: {}),
    route("GET", f"{C}/feedback/mine", MEMBERS_OWN),
    route("GET", f"{C}/feedback/summary", ADMINS, {"platform"}),
    # ---- the living lab, round 3: mail preferences, outside voices, objectives ----
    route("GET", f"{C}/inbox/preferences", MEMBERS_OWN),
    route("PUT", f"{C}/inbox/preferences", MEMBERS_OWN, body=lambda w: {}),
    route("POST", f"{C}/voices/feeds", ADMINS, {"platform"}, body=lambda w: {}),
    route("GET", f"{C}/voices/feeds", ADMINS, {"platform"}),
    route("DELETE", f"{C}/voices/feeds/{{feed_id}}", ADMINS, {"platform"}, params={"feed_id": 999_999}),
    route("POST", f"{C}/voices/feeds/{{feed_id}}/fetch", ADMINS, {"platform"}, params={"feed_id": 999_999}),
    route("GET", f"{C}/objectives", MEMBERS_OWN),
    route("PUT", f"{C}/objectives", ADMINS, {"platform"}, body=lambda w: {}),
    route("GET", f"{C}/objectives/clusters", MEMBERS_OWN),
    route(
        "PUT",
        f"{C}/objectives/clusters/{{cluster_id}}",
        ADMINS,
        {"platform"},
        params={"cluster_id": 999_999},
        body=lambda w: {},
    ),
]


@pytest.fixture(scope="module")
def world(keycloak, tmp_path_factory):
    from lec.db.session import get_engine, init_db

    url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'api.db'}"
    engine = init_db(get_engine(url))
    settings = make_settings(keycloak, url, rpc_url="http://127.0.0.1:9")  # nothing listens on port 9
    with TestClient(create_app(settings, engine)) as client:
        yield build_world(keycloak, engine, client)


def served_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves: its own routes (the documentation pages), and the routers'
    routes as its OpenAPI document lists them (FastAPI ≥ 0.165 keeps included routers as lazy entries of
    `app.routes`, so the schema is the public way to enumerate them; no route of the API hides from it: see
    `test_no_route_is_left_out_of_the_schema`)."""
    served = set()
    for r in app.routes:
        served |= {(m, r.path) for m in (getattr(r, "methods", None) or set()) - {"HEAD"}}
    for path, operations in app.openapi()["paths"].items():
        served |= {(m.upper(), path) for m in operations}
    return served


def test_every_route_is_in_the_matrix(world: World) -> None:
    """A route missing here is a route nobody checked: add its `route(...)` line to ROUTES."""
    served = served_routes(world.client.app)
    assert len([p for _, p in served if p.startswith(API)]) > 30  # the routers' routes were found
    declared = [r.key for r in ROUTES]
    assert len(declared) == len(set(declared)), "a route is declared twice"
    assert served - set(declared) == set(), "routes missing from the matrix"
    assert set(declared) - served == set(), "the matrix names routes the API does not have"


def test_no_route_is_left_out_of_the_schema() -> None:
    """`include_in_schema=False` would hide a route from `served_routes`: none may use it."""
    from pathlib import Path

    api = Path(__file__).resolve().parents[2] / "dapp" / "api"
    assert [p for p in api.rglob("*.py") if "include_in_schema" in p.read_text()] == []


@pytest.mark.parametrize("cell", list(cells(ROUTES)), ids=lambda c: c.id)
def test_matrix(world: World, cell: Cell) -> None:
    reply = world.request(cell)
    expected = (
        "let through" if cell.route.allows(cell.role, cell.where) else ("401" if cell.role == "anonymous" else "403")
    )
    if expected == "401":
        assert reply.status_code == 401, reply.text
    elif expected == "403":
        assert reply.status_code == 403, reply.text
        assert isinstance(reply.json()["detail"], str)
    else:
        assert reply.status_code not in (401, 403), reply.text
        assert reply.status_code < 500 or reply.status_code in DOWNSTREAM, reply.text
    if cell.route.path.startswith(API) and reply.content:
        assert reply.headers["content-type"].startswith("application/json")


def test_a_gateway_cannot_send_readings_of_a_device_it_does_not_serve(world: World) -> None:
    reply = world.client.post(
        f"{API}/communities/{world.communities['own']}/readings",
        headers=bearer(world.token("gateway")),
        json={"readings": [{"device": "IT001E-NOT-MINE", "timestamp": "2026-11-20T10:00:00Z", "energy_wh": 1.0}]},
    )
    assert reply.status_code == 403
    assert "own devices" in reply.json()["detail"]


def test_a_member_gets_only_their_own_bundle(world: World) -> None:
    own = world.communities["own"]
    other = f"0x{2:040x}"
    reply = world.client.get(
        f"{API}/communities/{own}/periods/20261120/bundle?account={other}", headers=bearer(world.token("holder"))
    )
    assert reply.status_code == 403
    reply = world.client.get(
        f"{API}/communities/{own}/periods/20261120/bundle?account={other}", headers=bearer(world.token("auditor"))
    )
    assert reply.status_code == 404  # allowed, but that period was never run


def test_roles_and_memberships_of_a_community_with_a_higher_id_give_nothing_in_a_lower_one(world: World) -> None:
    """Found by `make mutation` (deps.toml): `UserRole.community_id == community_id` → `>=` in `load_access` let
    a role held in any community with a higher id count in every lower one, and the matrix's foreign community
    happens to have the higher id. Here a community admin and a member of a *newer* community call the *own*
    (older) one's routes: refused; in their own community they are let through."""
    with Session(world.engine) as s:
        newer = Community(name="Newer LEC", chain_community_id=903)
        s.add(newer)
        s.flush()
        assert newer.id is not None and newer.id > world.communities["own"]
        tokens = {}
        for role in ("c_admin", "holder"):
            username = f"matrix-newer-{role}"
            subject = world.keycloak.add_user(username, roles=REALM_ROLES[role])
            _enrol(s, role, subject, newer, wallet_index=2000 + len(tokens))
            tokens[role] = username
        s.commit()
        newer_id = newer.id
    own = world.communities["own"]
    admin, holder = (bearer(world.keycloak.access_token(tokens[r])) for r in ("c_admin", "holder"))
    for community, expected in ((own, 403), (newer_id, 200)):
        base = f"{API}/communities/{community}"
        assert world.client.get(f"{base}/members", headers=admin).status_code == expected
        assert world.client.get(f"{base}/registrations?status=pending", headers=admin).status_code == expected
        assert world.client.get(base, headers=holder).status_code == expected
        assert world.client.get(f"{base}/me/daily?{DAYS}", headers=holder).status_code == expected


@pytest.mark.parametrize("held", ["community-admin", "oracle-admin", "token-admin"])
def test_a_community_role_gives_its_own_routes_and_no_other_roles(world: World, held: str) -> None:
    """Found by `make mutation` (deps.toml): the join `UserRole.role_id == Role.id` → `<=` gave whoever holds one
    community role every role with a higher id too, which counts as soon as the token carries those realm roles.
    A person with all three realm roles who holds only `held` in the own community gets only `held`'s routes."""
    username = f"matrix-holds-{held}"
    subject = world.keycloak.add_user(username, roles=["community-admin", "oracle-admin", "token-admin"])
    with Session(world.engine) as s:
        user = User(external_id=subject, name=held, surname="Test", email=f"{subject}@example.org")
        s.add(user)
        s.flush()
        role_id = s.exec(select(Role.id).where(Role.name == held)).one()
        s.add(UserRole(user_id=user.id, community_id=world.communities["own"], role_id=role_id))
        s.commit()
    headers = bearer(world.keycloak.access_token(username))
    base = f"{API}/communities/{world.communities['own']}"
    calls = {
        "community-admin": lambda: world.client.get(f"{base}/members", headers=headers),
        "oracle-admin": lambda: world.client.post(
            f"{base}/kpis/refresh", headers=headers, json={"start": "2026-11-20", "end": "2026-11-20"}
        ),
        "token-admin": lambda: world.client.get(f"{base}/token-policy", headers=headers),
    }
    allowed = {"community-admin": {"community-admin"}, "oracle-admin": {"community-admin", "oracle-admin"}}
    allowed["token-admin"] = {"community-admin", "token-admin"}  # CommunityReader, and the token admin
    for route_of, call in calls.items():
        status = call().status_code
        if held in allowed[route_of]:
            assert status not in (401, 403) and (status < 500 or status in DOWNSTREAM), (route_of, status)
        else:
            assert status == 403, (route_of, status)


def test_another_persons_roles_and_a_revoked_token_holder_role_give_nothing(world: World) -> None:
    """Found by `make mutation` (deps.toml): `UserRole.user_id == user.id` → `>=` let a person count the community
    roles of every person registered after them (a community-admin by realm role, admin of no community, became
    admin of a newer admin's community); `if not principal.has_role(TOKEN_HOLDER)` → `if not not …` in
    `active_holder_id` let a member whose token-holder role was revoked in Keycloak (the central revocation) still
    read their dashboard."""
    with Session(world.engine) as s:
        community = Community(name="Revocation LEC", chain_community_id=904)
        s.add(community)
        s.flush()
        people = {}
        for name, realm_roles in (("early", ["community-admin"]), ("admin", ["community-admin", "token-holder"])):
            subject = world.keycloak.add_user(f"matrix-{name}", roles=realm_roles)
            people[name] = User(external_id=subject, name=name, surname="Test", email=f"{subject}@example.org")
            s.add(people[name])
            s.flush()
        subject = world.keycloak.add_user("matrix-revoked", roles=[])  # a member; token-holder revoked
        people["revoked"] = User(external_id=subject, name="revoked", surname="Test", email=f"{subject}@example.org")
        s.add(people["revoked"])
        s.flush()
        assert people["early"].id < people["admin"].id
        admin_role = s.exec(select(Role.id).where(Role.name == "community-admin")).one()
        s.add(UserRole(user_id=people["admin"].id, community_id=community.id, role_id=admin_role))
        for i, name in enumerate(("admin", "revoked")):
            s.add(
                UserCommunity(
                    community_id=community.id, user_id=people[name].id, wallet=f"0x{3000 + i:040x}", active=True
                )
            )
        s.commit()
        base = f"{API}/communities/{community.id}"
    early, admin, revoked = (bearer(world.keycloak.access_token(f"matrix-{n}")) for n in ("early", "admin", "revoked"))
    assert world.client.get(f"{base}/members", headers=admin).status_code == 200
    assert world.client.get(f"{base}/members", headers=early).status_code == 403
    assert world.client.get(f"{base}/me/daily?{DAYS}", headers=admin).status_code == 200
    assert world.client.get(f"{base}/me/daily?{DAYS}", headers=revoked).status_code == 403
    assert world.client.get(base, headers=revoked).status_code == 403


def test_a_person_edits_their_own_registry_row_and_no_one_elses(world: World) -> None:
    """Found by `make mutation` (deps.toml): `User.external_id == principal.subject` → `!=` (and `>=`) in
    `current_user` handed every route of the caller's own account (`PATCH /me`, `DELETE /me`, wallets, joining
    and leaving) another person's row. The matrix saw only status codes; here the rows are read back, for all
    seven people of the world (with `>=` only subjects that happen to grow with the row ids would hide it)."""
    people = sorted(REALM_ROLES)
    for role in people:
        reply = world.client.patch(f"{API}/me", headers=bearer(world.token(role)), json={"city": f"Città-{role}"})
        assert reply.status_code == 200, reply.text
    with Session(world.engine) as s:
        cities = {u.external_id: u.city for u in s.exec(select(User)).all()}
    assert {role: cities[world.subjects[role]] for role in people} == {role: f"Città-{role}" for role in people}
    assert sorted(c for c in cities.values() if c and c.startswith("Città-")) == [f"Città-{r}" for r in people]
