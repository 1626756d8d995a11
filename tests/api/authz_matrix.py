"""The machinery of the authorisation matrix (tests/api/test_authorisation_matrix.py).

One `Route` per route of the API says which callers it lets through; `cells` turns the declarations into every
(route, caller, community) combination that means something: a route without `{community_id}` is called once per
caller, a community-scoped one twice (the caller's own community, and a foreign one). Nothing is skipped.

The callers (`ROLES`) are set up once per module in `build_world`:

    anonymous  no token
    holder     token-holder, active member of the own community (wallet 0x…01), owns a device and listing 1
    c_admin    community-admin + token-holder, member and community admin of the own community
    t_admin    token-admin, with that community role in the own community
    auditor    auditor (a realm role valid for every community)
    platform   platform-admin
    oracle     oracle-admin, with that community role in the own community
    outsider   token-holder of no community
    gateway    the client-credentials token of the meter gateway `lec-gateway-demo` (a machine)
    buyer      the client-credentials token of `lec-flex-buyer-demo`, realm role flexibility-buyer (a DSO's or
               aggregator's machine)

Every person has a row in `users`. The API is started with no chain (its RPC URL points at a closed port), so a
let-through call that reaches the chain answers 502/503; routes that would change an account for good
(`DELETE /me`) declare `fresh=True` and are called with a new caller of the same kind each time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import Community, Device, Flow, Role, Supplier, User, UserCommunity, UserRole
from lec.db.models.market import Listing
from lec.market.policy import Side

ROLES = (
    "anonymous",
    "holder",
    "c_admin",
    "t_admin",
    "auditor",
    "platform",
    "oracle",
    "outsider",
    "gateway",
    "buyer",
)
MACHINES = frozenset({"gateway", "buyer"})
PEOPLE = frozenset(ROLES) - {"anonymous"} - MACHINES
EVERYONE = PEOPLE | MACHINES  # every authenticated caller

# Realm roles of each caller, and the community roles it holds in the own community (user_roles rows).
REALM_ROLES: dict[str, list[str]] = {
    "holder": ["token-holder"],
    "c_admin": ["community-admin", "token-holder"],
    "t_admin": ["token-admin"],
    "auditor": ["auditor"],
    "platform": ["platform-admin"],
    "oracle": ["oracle-admin"],
    "outsider": ["token-holder"],
}
COMMUNITY_ROLES = {"c_admin": "community-admin", "oracle": "oracle-admin", "t_admin": "token-admin"}
MEMBERS = ("holder", "c_admin")  # active members of the own community, with a wallet
GATEWAY = "lec-gateway-demo"
CLIENTS = {"gateway": GATEWAY, "buyer": "lec-flex-buyer-demo"}
# A let-through call that needs the chain (there is none) or Keycloak's admin side may answer these.
DOWNSTREAM = frozenset({502, 503})

_fresh = itertools.count(1)


@dataclass(frozen=True)
class Route:
    """One route's entry in the matrix.

    `path` is the route's template exactly as FastAPI lists it (`/api/v1/communities/{community_id}/…`); its
    other placeholders are filled from `World.ids` (or `params`, which may depend on the community: a callable
    taking `(world, where)`); `query` is appended as is. `allowed_own` are the callers let through in their own
    community (or anywhere, for a route that is not community-scoped), `allowed_foreign` those let through in a
    community they have no role in. `body` builds the JSON body (called once per request). `public` routes need
    no token. `fresh` routes change the caller for good: each cell uses a new caller of the same kind.
    """

    method: str
    path: str
    allowed_own: frozenset[str]
    allowed_foreign: frozenset[str] = frozenset()
    body: Callable[[World], Any] | None = None
    query: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    public: bool = False
    fresh: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def scoped(self) -> bool:
        return "{community_id}" in self.path

    def allows(self, role: str, where: str) -> bool:
        if self.public:
            return True
        if role == "anonymous":
            return False
        return role in (self.allowed_foreign if where == "foreign" else self.allowed_own)


def route(method: str, path: str, own, foreign=(), **kw: Any) -> Route:
    """Shorthand: `route("GET", "/api/v1/…", {"holder", …}, {"platform"}, query="…")`."""
    return Route(method, path, frozenset(own), frozenset(foreign), **kw)


@dataclass(frozen=True)
class Cell:
    route: Route
    role: str
    where: str  # "own", "foreign" or "any" (a route that is not community-scoped)

    @property
    def id(self) -> str:
        return f"{self.route.method} {self.route.path.removeprefix('/api/v1')} · {self.role} · {self.where}"


def cells(routes: list[Route]) -> Iterator[Cell]:
    for r in routes:
        for role in ROLES:
            for where in ("own", "foreign") if r.scoped else ("any",):
                yield Cell(r, role, where)


@dataclass
class World:
    client: TestClient
    engine: Engine
    keycloak: Any
    communities: dict[str, int]  # "own"/"foreign" → community id
    ids: dict[str, Any]  # values of the path placeholders other than community_id
    subjects: dict[str, str]  # role → Keycloak subject
    tokens: dict[str, str | None] = field(default_factory=dict)

    def token(self, role: str, fresh: bool = False) -> str | None:
        if role == "anonymous":
            return None
        if role in CLIENTS:
            if role not in self.tokens:  # Keycloak's client tokens are not cached by the helper
                self.tokens[role] = self.keycloak.client_token(CLIENTS[role])
            return self.tokens[role]
        if not fresh:
            return self.keycloak.access_token(f"matrix-{role}")
        username = f"matrix-{role}-fresh{next(_fresh)}"
        subject = self.keycloak.add_user(username, roles=REALM_ROLES[role])
        with Session(self.engine) as s:
            own = s.get(Community, self.communities["own"])
            assert own is not None
            _enrol(s, role, subject, own, wallet_index=1000 + next(_fresh))
            s.commit()
        return self.keycloak.access_token(username)

    def request(self, cell: Cell):
        r = cell.route
        values: dict[str, Any] = {}
        for name in _placeholders(r.path):
            if name == "community_id":
                values[name] = self.communities["foreign" if cell.where == "foreign" else "own"]
            elif name in r.params:
                v = r.params[name]
                values[name] = v(self, cell.where) if callable(v) else v
            else:
                values[name] = self.ids[name]
        url = r.path.format(**values) + (f"?{r.query}" if r.query else "")
        token = self.token(cell.role, fresh=r.fresh)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(r.method, url, headers=headers, json=r.body(self) if r.body else None)


def _placeholders(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _enrol(s: Session, role: str, subject: str, own: Community, wallet_index: int) -> User:
    user = User(external_id=subject, name=role, surname="Test", email=f"{subject}@example.org")
    s.add(user)
    s.flush()
    if role in MEMBERS:
        s.add(UserCommunity(community_id=own.id, user_id=user.id, wallet=f"0x{wallet_index:040x}", active=True))
    if role in COMMUNITY_ROLES:
        role_id = s.exec(select(Role.id).where(Role.name == COMMUNITY_ROLES[role])).one()
        s.add(UserRole(user_id=user.id, community_id=own.id, role_id=role_id))
    return user


def build_world(keycloak, engine: Engine, client: TestClient) -> World:
    """The two communities, the callers, a device per community (the holder's in the own one) and a listing per
    community owned by the holder's wallet."""
    subjects = {r: keycloak.add_user(f"matrix-{r}", roles=roles) for r, roles in REALM_ROLES.items()}
    with Session(engine) as s:
        own, foreign = (
            Community(name="Own LEC", chain_community_id=901),
            Community(name="Foreign LEC", chain_community_id=902),
        )
        s.add_all([own, foreign])
        s.flush()
        users = {
            role: _enrol(s, role, subject, own, wallet_index=i + 1)
            for i, (role, subject) in enumerate(subjects.items())
        }
        gateway = Supplier(name=GATEWAY)
        flow = Flow(name="matrix-load", quantity=FlowQuantity.LOAD)
        s.add_all([gateway, flow])
        s.flush()
        for community, pod in ((own, "IT001E-OWN"), (foreign, "IT001E-FOREIGN")):
            s.add(
                Device(
                    pod=pod,
                    community_id=community.id,
                    user_id=users["holder"].id if community is own else None,
                    supplier_id=gateway.id,
                    default_flow_id=flow.id,
                    kind=DeviceKind.CONSUMPTION_METER,
                    name=pod,
                )
            )
        listings = {}
        for where, community in (("own", own), ("foreign", foreign)):
            listings[where] = Listing(
                chain_community_id=community.chain_community_id,
                category=0,
                side=Side.OFFER,
                title="Holder's listing",
                description="Owned by the holder's wallet",
                price_centihours=100,
                owner=f"0x{1:040x}",
                description_hash="0x" + "00" * 32,
            )
            s.add(listings[where])
        s.commit()
        communities = {"own": own.id, "foreign": foreign.id}
        ids = {
            "user_id": users["holder"].id,  # a member of the own community
            "registration_id": 999_999,  # none: a let-through call answers 404, never changes anything
            "listing_id": listings["own"].id,
            "listings": {where: listing.id for where, listing in listings.items()},
            "deal_id": 1,
            "period_id": 20261120,
            "holder_wallet": f"0x{1:040x}",
        }
    return World(client, engine, keycloak, communities, ids, subjects)
