"""Marketplace routes: listings searched, paginated, created strictly as the caller, closed by owner or admin; deals
read from a real Marketplace contract on anvil, with the listing whose text hashes to the deal's description."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from api_helpers import ADMIN, bearer, make_settings, platform_on_anvil
from eth_account import Account
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from web3 import Web3

from dapp.api.dev_realm import KeycloakStandIn
from dapp.api.main import create_app
from lec.chain.contracts import abi, bytecode
from lec.db.models import Community, Role, User, UserCommunity, UserRole
from lec.db.session import get_engine, init_db
from lec.market.hashing import description_hash
from tests.support.platform import send

ANNA, BRUNO = Account.create(), Account.create()  # two citizens of the community
ZERO = "0x" + "00" * 20


@dataclass
class Market:
    client: TestClient  # an API that reaches the chain
    offline: TestClient  # the same database, with no chain node behind it
    tokens: dict[str, str]
    community: int  # the API's id of the deployed community
    undeployed: int  # a community with no chain id
    w3: Web3
    marketplace: object


def _chain_setup(w3: Web3, registry_address: str) -> object:
    """The community's marketplace, registered, with category 0 enabled and Anna and Bruno as citizens."""
    registry = w3.eth.contract(address=registry_address, abi=abi("Registry"))
    token = w3.eth.contract(address=registry.functions.tokenOf(1).call(), abi=abi("CommunityToken"))
    factory = w3.eth.contract(abi=abi("Marketplace"), bytecode=bytecode("Marketplace"))
    market = send(w3, factory.constructor(token.address), ADMIN)["contractAddress"]
    send(w3, registry.functions.setMarketplace(1, market), ADMIN)
    send(
        w3, registry.functions.acceptMarketplace(1, market), ADMIN
    )  # the platform admin is the community's governor here
    send(w3, token.functions.setCategoryPolicy(0, 100, 0, 0, True), ADMIN)
    for member in (ANNA, BRUNO):
        send(w3, token.functions.addMember(member.address, 1, 0), ADMIN)
    return w3.eth.contract(address=market, abi=abi("Marketplace"))


@pytest.fixture(scope="module")
def market(keycloak: KeycloakStandIn, tmp_path_factory) -> Iterator[Market]:
    folder = tmp_path_factory.mktemp("market")
    with platform_on_anvil(folder, "Market LEC") as (url, w3, deployments):
        registry = json.loads((folder / "1981.json").read_text())["contracts"]["Registry"]
        marketplace = _chain_setup(w3, registry)
        db_url = f"sqlite:///{folder / 'api.db'}"
        engine = init_db(get_engine(db_url))
        people = {
            "anna": (["token-holder"], ANNA.address),
            "bruno": (["token-holder"], BRUNO.address),
            "admin": (["community-admin", "token-holder"], ADMIN.address),
            "auditor": (["auditor"], None),
        }
        with Session(engine) as s:
            community = Community(name="Market LEC", chain_community_id=1)
            undeployed = Community(name="Paper LEC")
            s.add_all([community, undeployed])
            s.flush()
            for name, (roles, wallet) in people.items():
                subject = keycloak.add_user(f"market-{name}", "pw", roles)
                user = User(external_id=subject, name=name, surname="Test", email=f"{name}@example.org")
                s.add(user)
                s.flush()
                for c in (community, undeployed) if wallet else ():
                    s.add(UserCommunity(community_id=c.id, user_id=user.id, wallet=wallet, active=True))
                if "community-admin" in roles:
                    role_id = s.exec(select(Role.id).where(Role.name == "community-admin")).one()
                    s.add(UserRole(user_id=user.id, community_id=community.id, role_id=role_id))
            s.commit()
            ids = community.id, undeployed.id
        tokens = {name: keycloak.mint(f"market-{name}") for name in people}
        online = make_settings(keycloak, db_url, rpc_url=url, deployments_dir=deployments)
        offline = make_settings(keycloak, db_url, rpc_url="http://127.0.0.1:9")  # nothing listens on port 9
        mp = pytest.MonkeyPatch()
        mp.setenv("LEC_DEPLOYMENTS_DIR", deployments)
        try:
            with TestClient(create_app(online, engine)) as client, TestClient(create_app(offline, engine)) as down:
                yield Market(client, down, tokens, ids[0], ids[1], w3, marketplace)
        finally:
            mp.undo()


def _post(m: Market, who: str, **body: object):  # noqa: ANN202
    listing = {"category": 0, "side": "offer", "title": "Bike repair", "description": "Flat tyres", "hours": "1"}
    return m.client.post(
        f"/api/v1/communities/{m.community}/listings", headers=bearer(m.tokens[who]), json={**listing, **body}
    )


def _search(m: Market, who: str = "anna", **params: object) -> dict:
    reply = m.client.get(f"/api/v1/communities/{m.community}/listings", headers=bearer(m.tokens[who]), params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _titles(page: dict) -> list[str]:
    return [item["title"] for item in page["items"]]


@pytest.fixture(scope="module")
def posted(market: Market) -> dict[str, dict]:
    """A few listings of Anna, Bruno and the admin, oldest first."""
    specs = {
        "maths": ("anna", {"title": "Maths tutoring", "description": "Secondary school algebra", "hours": "2"}),
        "drill": ("bruno", {"side": "request", "title": "Drill", "description": "For Saturday", "hours": "0.5"}),
        "italian": (
            "anna",
            {"category": 1, "title": "Italian lessons", "description": "Beginners, school hall", "hours": "3"},
        ),
        "flowers": ("admin", {"category": 5, "side": "task", "title": "Flower bed", "description": "Weed the square"}),
        "bike": ("bruno", {"title": "Bike repair", "description": "Flat tyres and brakes", "hours": "1.25"}),
    }
    out = {}
    for key, (who, body) in specs.items():
        reply = _post(market, who, **body)
        assert reply.status_code == 201, reply.text
        out[key] = reply.json()
    return out


def test_a_listing_is_owned_by_the_caller_and_carries_the_on_chain_hash(market: Market, posted) -> None:
    maths = posted["maths"]
    assert maths["owner"] == ANNA.address and maths["community_id"] == market.community
    assert maths["description_hash"] == "0x" + description_hash("Maths tutoring", "Secondary school algebra").hex()
    assert (maths["hours"], maths["price_units"]) == ("2", str(2 * 10**18))
    assert posted["bike"]["hours"] == "1.25" and posted["bike"]["price_units"] == str(125 * 10**16)
    assert posted["flowers"]["side"] == "task" and posted["flowers"]["owner"] == ADMIN.address


def test_search_filters_combine(market: Market, posted) -> None:
    everything = ["Bike repair", "Flower bed", "Italian lessons", "Drill", "Maths tutoring"]
    assert _titles(_search(market)) == everything  # newest first
    assert _titles(_search(market, "auditor")) == everything
    assert _titles(_search(market, q="SCHOOL")) == ["Italian lessons", "Maths tutoring"]
    assert _titles(_search(market, q="school algebra")) == ["Maths tutoring"]
    assert _titles(_search(market, category=1)) == ["Italian lessons"]
    assert _titles(_search(market, side="request")) == ["Drill"]
    assert _titles(_search(market, side="task")) == ["Flower bed"]
    assert _titles(_search(market, max_hours="1.25")) == ["Bike repair", "Flower bed", "Drill"]
    assert _titles(_search(market, owner=BRUNO.address.lower())) == ["Bike repair", "Drill"]
    assert _titles(_search(market, owner=BRUNO.address, side="offer", max_hours="1")) == []
    assert _titles(_search(market, q="nothing like this")) == []


def test_pages_follow_each_other_without_gaps(market: Market, posted) -> None:
    seen, offset = [], 0
    while offset is not None:
        page = _search(market, limit=2, offset=offset)
        assert len(page["items"]) <= 2 and page["limit"] == 2 and page["offset"] == offset
        seen += _titles(page)
        offset = page["next_offset"]
    assert seen == _titles(_search(market))
    assert _search(market, limit=5)["next_offset"] is None


@pytest.mark.parametrize(
    "params",
    [{"category": 8}, {"side": "gift"}, {"max_hours": "1.234"}, {"max_hours": "-1"}, {"owner": "bruno"}, {"limit": 0}],
)
def test_bad_search_parameters_are_refused_with_a_sentence(market: Market, params: dict) -> None:
    reply = market.client.get(
        f"/api/v1/communities/{market.community}/listings", headers=bearer(market.tokens["anna"]), params=params
    )
    assert reply.status_code == 422
    assert reply.json()["detail"].endswith(".") or "retry" in reply.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"category": "0"},  # a string where a number is expected
        {"category": True},  # a boolean where a number is expected
        {"category": 0.5},  # a fraction (0.0 is an integer to JSON Schema, and so to the API)
        {"hours": 1.5},  # a number where exact text is expected
        {"hours": "1.005"},  # finer than a hundredth of an hour
        {"hours": "0"},
        {"side": "OFFER"},
        {"owner": BRUNO.address},  # the owner is the caller, never the body
        {"title": ""},
    ],
)
def test_create_is_strict_and_stores_nothing_it_refuses(market: Market, posted, body: dict) -> None:
    before = _search(market, limit=200)["items"]
    reply = _post(market, "anna", **body)
    assert reply.status_code == 422, reply.text
    assert isinstance(reply.json()["detail"], str)
    assert _search(market, limit=200)["items"] == before


def test_tasks_are_for_the_community_admin_and_categories_must_fit_the_side(market: Market) -> None:
    reply = _post(market, "anna", category=5, side="task")
    assert reply.status_code == 403 and "community admin" in reply.json()["detail"]
    reply = _post(market, "admin", category=5, side="offer")
    assert reply.status_code == 422 and "community tasks" in reply.json()["detail"]
    reply = _post(market, "auditor")
    assert reply.status_code == 403  # auditors read, never post


def test_only_the_owner_or_the_admin_closes_a_listing(market: Market) -> None:
    anna_listing = _post(market, "anna", title="Lawn mowing", description="Small gardens").json()
    bruno_listing = _post(market, "bruno", title="Cake baking", description="Birthday cakes").json()

    def close(who: str, listing_id: int):  # noqa: ANN202
        return market.client.post(
            f"/api/v1/communities/{market.community}/listings/{listing_id}/close", headers=bearer(market.tokens[who])
        )

    refused = close("bruno", anna_listing["id"])
    assert refused.status_code == 403 and "not yours" in refused.json()["detail"]
    assert close("auditor", anna_listing["id"]).status_code == 403
    assert "Lawn mowing" in _titles(_search(market, q="lawn"))

    closed = close("anna", anna_listing["id"])
    assert closed.status_code == 200 and closed.json()["active"] is False
    assert _titles(_search(market, q="lawn")) == []
    assert close("anna", anna_listing["id"]).json()["active"] is False  # closing twice changes nothing

    assert close("admin", bruno_listing["id"]).json()["active"] is False
    assert close("anna", 999_999).status_code == 404


def test_listings_of_another_community_are_not_reachable_through_this_one(market: Market) -> None:
    headers = bearer(market.tokens["anna"])
    reply = market.client.get(f"/api/v1/communities/{market.undeployed}/listings", headers=headers)
    assert reply.status_code == 409 and "not deployed" in reply.json()["detail"]
    mine = _post(market, "anna", title="Only here", description="Community one").json()
    reply = market.client.post(f"/api/v1/communities/{market.undeployed}/listings/{mine['id']}/close", headers=headers)
    assert reply.status_code in (404, 409)
    assert "Only here" in _titles(_search(market, q="only here"))


def test_a_deal_is_read_from_the_chain_with_its_listing(market: Market) -> None:
    listing = _post(market, "anna", title="Guitar lessons", description="Thursdays", hours="1.5").json()
    fn = market.marketplace.functions.offer(
        0, 15 * 10**17, bytes.fromhex(listing["description_hash"][2:]), ZERO, ZERO, 0
    )
    market.w3.provider.make_request("anvil_setBalance", [ANNA.address, hex(10**18)])  # type: ignore[arg-type]
    send(market.w3, fn, ANNA)
    deal_id = market.marketplace.functions.dealCount().call()

    for who in ("bruno", "auditor"):
        reply = market.client.get(
            f"/api/v1/communities/{market.community}/deals/{deal_id}", headers=bearer(market.tokens[who])
        )
        assert reply.status_code == 200, reply.text
        deal = reply.json()
        assert (deal["id"], deal["state"], deal["side"], deal["category"]) == (deal_id, "open", "offer", 0)
        assert (deal["provider"], deal["payer"], deal["hours"]) == (ANNA.address, None, "1.5")
        assert deal["description_hash"] == listing["description_hash"]
        assert deal["listing"]["id"] == listing["id"] and deal["listing"]["title"] == "Guitar lessons"

    missing = market.client.get(
        f"/api/v1/communities/{market.community}/deals/{deal_id + 50}", headers=bearer(market.tokens["anna"])
    )
    assert missing.status_code == 404 and f"no deal {deal_id + 50}" in missing.json()["detail"]


def test_a_deal_without_a_chain_node_is_a_503_that_says_so(market: Market) -> None:
    reply = market.offline.get(f"/api/v1/communities/{market.community}/deals/1", headers=bearer(market.tokens["anna"]))
    assert reply.status_code == 503
    assert "does not answer" in reply.json()["detail"]
    # Listings are off chain: they stay searchable while the node is down.
    reply = market.offline.get(
        f"/api/v1/communities/{market.community}/listings", headers=bearer(market.tokens["anna"])
    )
    assert reply.status_code == 200 and reply.json()["items"]
