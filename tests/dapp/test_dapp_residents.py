"""What residents found trying the dApp, as regression tests (AppTest on the demo's data, and pure functions):
the member's cluster caption agrees with the admin's dashboard (bug 4), the monthly target is kept (bug 5),
errors carry no server paths or settings (bug 3), every page opens in Italian, amounts read as hours; and who may
call the time bank's new routes (people, ratings, profiles, targets)."""

from __future__ import annotations

import pytest
import requests
from dapp_browser import PASSWORD
from hypothesis import given
from hypothesis import strategies as st
from test_dapp_pages import app_as, texts

from dapp.app import PAGE_SPECS
from dapp.i18n import t
from dapp.views import deals
from dapp.views.common import resident_sentence

ROLE_OF_PAGE = {
    "member.py": "alice",
    "timebank.py": "alice",
    "wallet.py": "alice",
    "account.py": "alice",
    "community_dashboard.py": "carla",
    "community_admin.py": "carla",
    "oracle_admin.py": "oscar",
    "token_admin.py": "tina",
    "auditor.py": "audrey",
    "incentive.py": "carla",
    "onboarding.py": "carla",
    "flexibility.py": "alice",
    "lab.py": "alice",
    "polls.py": "alice",
    "inbox.py": "alice",
    "voice.py": "alice",
}


# ---------------------------------------------------------------------------------------------- pure


def test_oracle_sentences_lose_server_paths_settings_and_commands() -> None:
    raw = (
        "/srv/lec/data/periods/1/2025-01-01/period.json does not exist: run `lec oracle run` for that period "
        "first. No community admin key: set LEC_API_COMMUNITY_ADMIN_PRIVATE_KEY."
    )
    shown = resident_sentence(raw)
    assert "/srv" not in shown and "period.json" not in shown and "LEC_" not in shown and "lec oracle" not in shown
    assert "does not exist" in shown  # the sentence itself stays
    assert resident_sentence("Hours must be positive, not 'x'.") == "Hours must be positive, not 'x'."


@given(st.integers(min_value=0, max_value=10**30))
def test_hours_have_two_to_four_decimals_and_round_to_the_nearest(units: int) -> None:
    shown = deals.hours(units)
    whole, decimals = shown.replace(",", "").split(".")
    assert 2 <= len(decimals) <= 4
    assert abs(float(f"{whole}.{decimals}") - units / 10**18) <= 0.00005 + units / 10**18 * 1e-12


def test_deals_are_named_by_their_listing_and_next_steps_are_words() -> None:
    me, other = "0x" + "a" * 40, "0x" + "b" * 40
    deal = {"id": 7, "provider": me, "payer": other, "state": deals.ACCEPTED, "side": deals.OFFER}
    deal["descriptionHash"] = bytes.fromhex("11" * 32)
    [named] = deals.with_titles([deal], [{"description_hash": "0x" + "11" * 32, "title": "Ironing", "description": ""}])
    assert named["title"] == "Ironing"
    [unnamed] = deals.with_titles([deal], [])
    assert unnamed["title"] == t("deals.untitled", id=7)
    assert deals.next_step(deal, me) == t("deals.next_accepted_provider")
    assert deals.next_step(deal, other) == t("deals.next_accepted_payer")
    assert deals.actions(deal, me) == ["complete", "dispute"] and deals.actions(deal, other) == ["confirm", "dispute"]


def test_the_basemap_is_off_by_default_and_only_a_tile_url_with_its_placeholders_is_taken() -> None:
    from pydantic import ValidationError

    from lec.settings import Settings

    assert Settings().dapp_map_tiles is None  # nothing fetched from a tile server unless an operator says so
    url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert Settings(dapp_map_tiles=url).dapp_map_tiles == url
    for bad in ("https://example.org/tiles.png", "file:///etc/{z}/{x}/{y}", "javascript:{z}{x}{y}"):
        with pytest.raises(ValidationError):
            Settings(dapp_map_tiles=bad)


def test_the_basemap_map_groups_devices_and_names_the_tile_server_only() -> None:
    import json
    from urllib.parse import unquote

    from dapp import charts

    devices = [
        {"latitude": 45.46421, "longitude": 9.19001, "kind": "battery", "pod": "IT001"},
        {"latitude": 45.46422, "longitude": 9.19002, "kind": "consumption_meter", "pod": "IT002"},  # same place
        {"latitude": 45.4700, "longitude": 9.2000, "kind": "battery", "pod": "IT003"},
        {"latitude": None, "longitude": None, "kind": "battery", "pod": "IT004"},  # no position: not drawn
    ]
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    deck = json.loads(charts.device_deck(devices, url, "© Example").to_json())
    style = json.loads(unquote(deck["mapStyle"].removeprefix("data:application/json,")))
    assert style["sources"]["basemap"]["tiles"] == [url] and style["sources"]["basemap"]["attribution"] == "© Example"
    points = {(p["kind"], p["count"]) for p in deck["layers"][0]["data"]}
    assert points == {("several", 2), ("battery", 1)}
    assert [p["label"] for p in deck["layers"][1]["data"] if p["count"] > 1] == ["2"]  # the count written on it
    assert charts.device_deck(devices[3:], url) is None
    legend = [name for _color, name in charts.kind_legend()]
    assert len(legend) == len(charts.DEVICE_KINDS) + 1  # every kind, and "several"


def test_every_picture_the_readme_and_the_guides_show_exists() -> None:
    """`make screenshots` writes docs/screenshots/; a page renamed without its picture left a broken image."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    missing = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+\.png)\)", doc.read_text()):
            if not (doc.parent / target).is_file():
                missing.append(f"{doc.relative_to(root)}: {target}")
    assert not missing, missing


# ---------------------------------------------------------------------------------------------- pages


@pytest.mark.services
@pytest.mark.parametrize("spec", PAGE_SPECS, ids=[p.file for p in PAGE_SPECS])
def test_every_page_opens_in_italian(demo_stack, realm, spec) -> None:
    at = app_as(realm, ROLE_OF_PAGE[spec.file], language="it").run()
    at.switch_page(f"views/{spec.file}").run()
    assert not at.exception, at.exception
    assert t(spec.key, "it") in [x.value for x in at.title]


@pytest.mark.services
def test_member_sees_the_cluster_the_dashboard_shows(demo_stack, realm) -> None:
    from stack import lec

    lec(
        demo_stack.env,
        "oracle", "cluster", "--community", "1", "--from", demo_stack.first_day.isoformat(),
        "--to", demo_stack.last_day.isoformat(), "-k", "2",
    )  # fmt: skip
    member = app_as(realm, "alice", fresh=True).run()
    member.switch_page("views/member.py").run()
    assert not member.exception
    body = texts(member)
    assert "You are in load-curve cluster" in body and "of 2" in body
    assert "once the API publishes clusters" not in body
    admin = app_as(realm, "carla", fresh=True).run()
    admin.switch_page("views/community_dashboard.py").run()
    admin.button_group(key="dash_level").set_value("details").run()
    assert not admin.exception
    shown = next(d.value for d in admin.dataframe if "Coefficient of variation" in d.value.columns)
    assert len(shown) == 2  # the same run, the same number of clusters


@pytest.mark.services
def test_the_monthly_target_is_kept_for_the_next_visit(demo_stack, realm) -> None:
    at = app_as(realm, "alice", fresh=True).run()
    at.switch_page("views/member.py").run()
    key = next(n.key for n in at.number_input if n.key and n.key.startswith("member_target"))
    at.number_input(key=key).set_value(25.0).run()
    assert not at.exception and not at.error
    again = app_as(realm, "alice", fresh=True).run()  # a new visit: a new session
    again.switch_page("views/member.py").run()
    assert again.number_input(key=key).value == 25.0


# ---------------------------------------------------------------------------------------------- routes


@pytest.mark.services
def test_who_may_use_the_time_bank_routes(demo_stack, realm) -> None:
    api = demo_stack.api_url

    def call(method: str, path: str, user: str | None, body: dict | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {realm.access_token(user, PASSWORD)}"} if user else {}
        return requests.request(method, f"{api}{path}", json=body, headers=headers, timeout=30)

    alice = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert call("GET", "/communities/1/people", None).status_code == 401
    people = call("GET", "/communities/1/people", "alice")
    assert people.status_code == 200 and alice in {p["wallet"] for p in people.json()}
    assert call("GET", "/communities/1/people", "audrey").status_code == 200  # the auditor picks by name
    assert call("GET", "/communities/1/people", "oscar").status_code == 403  # no role in the community
    # Targets are each member's own; an auditor has none to keep.
    assert call("PUT", "/communities/1/me/target", "alice", {"hours": "12.5"}).json() == {"hours": "12.5"}
    assert call("GET", "/communities/1/me/target", "alice").json() == {"hours": "12.5"}
    assert call("PUT", "/communities/1/me/target", "audrey", {"hours": "1"}).status_code == 403
    assert call("PUT", "/communities/1/me/target", "alice", {"hours": "-1"}).status_code == 422
    # Ratings: only sides of a settled deal; an auditor never rates; a deal that does not exist is a 404.
    assert call("POST", "/communities/1/deals/1/rating", "audrey", {"stars": 5}).status_code == 403
    assert call("POST", "/communities/1/deals/1/rating", "alice", {"stars": 6}).status_code == 422
    assert call("POST", "/communities/1/deals/999999/rating", "alice", {"stars": 5}).status_code == 404
    profile = call("GET", f"/communities/1/profiles/{alice}", "alice")
    assert profile.status_code == 200 and profile.json()["name"].startswith("Alice ")
    assert call("GET", "/communities/1/profiles/nonsense", "alice").status_code == 422


@pytest.mark.services
def test_leaving_the_last_community_takes_back_the_member_role(demo_stack, realm) -> None:
    """Identity bug: leaving one's last community kept the `token-holder` realm role in Keycloak."""
    import secrets

    from sqlmodel import Session

    from lec.db.models import User, UserCommunity
    from lec.db.session import get_engine

    username = f"lea{secrets.token_hex(3)}"
    subject = realm.add_user(username, PASSWORD, roles=["token-holder"], first_name="Lea")
    with Session(get_engine(demo_stack.env["DATABASE_URL"])) as session:
        user = User(external_id=subject, name="Lea", surname="Via", email=f"{username}@example.org")
        session.add(user)
        session.flush()
        # No wallet on chain yet: leaving needs no chain transaction, only the platform and Keycloak.
        session.add(UserCommunity(community_id=1, user_id=user.id or 0, wallet=None, active=True))
        session.commit()

    def roles() -> set[str]:
        return {r["name"] for r in realm.admin().get_realm_roles_of_user(subject)}

    assert "token-holder" in roles()
    token = realm.token(username, PASSWORD)["access_token"]
    reply = requests.delete(
        f"{demo_stack.api_url}/me/communities/1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert reply.status_code == 204, reply.text
    assert "token-holder" not in roles()
    # The pages follow: a new sign-in has no member pages any more.
    claims = realm.token(username, PASSWORD)["access_token"]
    import jwt

    assert "token-holder" not in jwt.decode(claims, options={"verify_signature": False})["realm_access"]["roles"]


# ---------------------------------------------------------------------------------------------- role pages


@pytest.mark.services
def test_oracle_admin_sees_the_period_runs_with_their_status_on_chain(demo_stack, demo_chain, realm) -> None:
    """The demo notarised its last two days; the earlier one was claimed in full by the oracle."""
    from web3 import Web3

    at = app_as(realm, "oscar").run()
    at.switch_page("views/oracle_admin.py").run()
    assert not at.exception, at.exception
    runs = next(d.value for d in at.dataframe if "Rewards root" in d.value.columns)
    by_day = {row["Day"]: row for _, row in runs.iterrows()}
    last, before = (demo_stack.last_day, demo_stack.last_day.fromordinal(demo_stack.last_day.toordinal() - 1))
    assert {last.strftime("%d/%m/%Y"), before.strftime("%d/%m/%Y")} <= set(by_day)
    claimed_in_full = by_day[before.strftime("%d/%m/%Y")]
    assert claimed_in_full["Status"] == "Published" and round(claimed_in_full["Claimed"]) == 100
    assert claimed_in_full["Community"] and claimed_in_full["Rewards root"].startswith("0x")
    w3 = Web3(Web3.HTTPProvider(demo_chain.url))
    receipt = w3.eth.get_transaction_receipt(claimed_in_full["Transaction"])  # the transaction shown is real
    assert receipt["status"] == 1
    assert any(bytes(log["data"]).hex() and claimed_in_full["Rewards root"][2:] in bytes(log["data"]).hex()
               for log in receipt["logs"])  # fmt: skip


def _accepted_deal(demo_chain, title: str) -> tuple[object, int]:
    """Alice offers `title` for one hour and Bob accepts it (his hour goes into escrow): a deal both may dispute."""
    from lec.chain.contracts import abi
    from lec.market.client import MarketClient

    w3 = demo_chain.w3
    registry = w3.eth.contract(address=demo_chain.deployments["contracts"]["Registry"], abi=abi("Registry"))
    market = MarketClient(w3, registry.functions.community(demo_chain.community["id"]).call()[2])
    alice, bob = demo_chain.account(1), demo_chain.account(2)

    def send(tx: dict) -> None:
        assert w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))["status"] == 1

    send(market.offer_tx(alice, 0, 10**18, title, "Fix a flat tyre"))
    deal_id = market.deal_count()
    token = w3.eth.contract(address=demo_chain.community["token"], abi=abi("CommunityToken"))
    send(token.functions.approve(market.contract.address, 10**18).build_transaction({"from": bob}))
    send(market.action_tx(bob, "accept", deal_id))
    return market, deal_id


@pytest.mark.services
def test_dispute_reasons_are_kept_for_the_community_admin_and_only_from_the_sides(
    demo_stack, demo_chain, realm
) -> None:
    api = demo_stack.api_url

    def call(method: str, path: str, user: str | None, body: dict | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {realm.access_token(user, PASSWORD)}"} if user else {}
        return requests.request(method, f"{api}{path}", json=body, headers=headers, timeout=30)

    market, deal_id = _accepted_deal(demo_chain, "Bike repair to dispute")
    path = f"/communities/1/deals/{deal_id}/dispute-reason"
    said = call("PUT", path, "alice", {"reason": "  Bob   was not at home\nwhen I came. "})
    assert said.status_code == 200, said.text
    assert said.json()["reason"] == "Bob was not at home when I came." and said.json()["name"].startswith("Alice ")
    # Bob writes twice: the second replaces the first (one reason per side and deal).
    assert call("PUT", path, "bob", {"reason": "The tyre is still flat"}).status_code == 200
    assert call("PUT", path, "bob", {"reason": "The tyre went flat again the next day"}).status_code == 200
    # Nobody writes in a side's name: not the admin (a member here, not a side), not an auditor or the oracle.
    assert call("PUT", path, "carla", {"reason": "I say so"}).status_code in (403, 409)  # not a side / no wallet
    assert call("PUT", path, "audrey", {"reason": "x"}).status_code == 403
    assert call("PUT", path, "oscar", {"reason": "x"}).status_code == 403
    assert call("PUT", path, None, {"reason": "x"}).status_code == 401
    assert call("PUT", path, "alice", {"reason": "   "}).status_code == 422
    assert call("PUT", path, "alice", {"reason": "x" * 1001}).status_code == 422
    assert call("PUT", "/communities/1/deals/999999/dispute-reason", "alice", {"reason": "x"}).status_code == 404
    # Only the community admin reads them.
    for user, code in ((None, 401), ("alice", 403), ("bob", 403), ("audrey", 403), ("oscar", 403)):
        assert call("GET", "/communities/1/disputes", user).status_code == code, user
    listed = [r for r in call("GET", "/communities/1/disputes", "carla").json() if r["deal_id"] == deal_id]
    assert sorted(r["reason"] for r in listed) == [
        "Bob was not at home when I came.",
        "The tyre went flat again the next day",
    ]
    # Bob disputes on chain: the admin's Disputes section shows both sides' words under the deal.
    w3, admin = demo_chain.w3, demo_chain.account(0)
    disputed = w3.eth.send_transaction(market.action_tx(demo_chain.account(2), "dispute", deal_id))
    assert w3.eth.wait_for_transaction_receipt(disputed)["status"] == 1
    page = app_as(realm, "carla").run()
    page.switch_page("views/community_admin.py").run()
    assert not page.exception, page.exception
    shown = texts(page)
    assert "Bob was not at home when I came" in shown and "The tyre went flat again the next day" in shown
    assert "The tyre is still flat" not in shown and "I say so" not in shown  # replaced; refused
    # Once the admin resolved the dispute on chain, no reason is written after the fact.
    resolved = market.contract.functions.resolve(deal_id, 5_000).transact({"from": admin})
    assert w3.eth.wait_for_transaction_receipt(resolved)["status"] == 1
    assert call("PUT", path, "alice", {"reason": "one more thing"}).status_code == 409


@pytest.mark.services
def test_token_admin_sells_hours_to_a_stakeholder_with_the_rate_and_a_receipt_used_once(
    demo_stack, demo_chain, realm
) -> None:
    from web3 import Web3

    from lec.chain.contracts import abi

    w3, admin, shop = demo_chain.w3, demo_chain.account(0), demo_chain.account(6)  # the demo's grocery shop
    token = w3.eth.contract(address=demo_chain.community["token"], abi=abi("CommunityToken"))
    reference = "CRO 0001 2026 test"
    sale = token.functions.sellToStakeholder(shop, 2_500, Web3.keccak(text=reference))
    assert w3.eth.wait_for_transaction_receipt(sale.transact({"from": admin}))["status"] == 1

    at = app_as(realm, "tina").run()
    at.switch_page("views/token_admin.py").run()
    assert not at.exception, at.exception
    assert any(m.value == "1 hour = 10.00 €" for m in at.metric)  # the seed's rate: 1 token = 10 €
    assert shop in at.selectbox(key="token_buyer").options
    assert demo_chain.account(1) not in at.selectbox(key="token_buyer").options  # Alice is a citizen
    sales = next(d.value for d in at.dataframe if "Receipt fingerprint" in d.value.columns)
    assert "25.00 €" in set(sales["Paid"]) and "2.50" in set(sales["Hours received"])
    at.selectbox(key="token_buyer").set_value(shop).run()
    at.number_input(key="token_paid").set_value(25.0).run()
    at.text_input(key="token_receipt").input(reference).run()  # the same receipt again: refused before signing
    assert "That payment receipt was already used for a sale." in texts(at)
    assert at.button(key="token_sale_send").disabled
    at.text_input(key="token_receipt").input("CRO 0002 2026 test").run()
    assert "For 25.00 € the stakeholder receives 2.50 hours" in texts(at)
    assert not at.button(key="token_sale_send").disabled
    at.button(key="token_sale_send").click().run()
    assert any("Connect your wallet first" in e.value for e in at.error)  # no wallet in AppTest: nothing sent


# ---------------------------------------------------------------------------------------------- dispute reasons


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["alice", "bob", "carla", "mallory"]),  # mallory: a member who is no side of any deal
            st.integers(min_value=1, max_value=3),  # deal 3 does not exist
            st.sampled_from(["accepted", "completed", "disputed", "resolved"]),
            st.text(alphabet="ab \n", min_size=0, max_size=6),
        ),
        max_size=25,
    )
)
def test_dispute_reasons_follow_a_model_one_per_side_and_deal_only_while_disputable(steps) -> None:
    """Against a model: a side of a deal that can still be disputed keeps exactly one reason (the latest, spaces
    folded); anyone else, a deal that does not exist or one already resolved is refused and changes nothing; two
    colluding members cannot write on a deal they are not sides of; deleting a person removes only theirs."""
    from types import SimpleNamespace

    from fastapi import HTTPException
    from sqlmodel import Session, SQLModel, create_engine, select

    from dapp.api.services import disputes
    from lec.db.models.market import DisputeReason
    from lec.market.policy import DealState

    wallets = {n: "0x" + c * 40 for n, c in zip(["alice", "bob", "carla", "mallory"], "abcd", strict=True)}
    users = {"alice": 1, "bob": 2, "carla": 3, "mallory": 4}
    sides = {1: ("alice", "bob"), 2: ("carla", "alice")}  # deal 2: carla provides, alice pays
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[DisputeReason.__table__])  # type: ignore[attr-defined]
    model: dict[tuple[int, str], str] = {}
    states = {"accepted": DealState.ACCEPTED, "completed": DealState.COMPLETED}
    states |= {"disputed": DealState.DISPUTED, "resolved": DealState.RESOLVED}
    original = (disputes.chain_deals, disputes.market_of)
    try:
        disputes.market_of = lambda access: 1
        with Session(engine) as session:
            for who, deal_id, state, reason in steps:
                deals_now = [
                    SimpleNamespace(id=d, provider=wallets[p], payer=wallets[q], state=states[state])
                    for d, (p, q) in sides.items()
                ]
                disputes.chain_deals = lambda settings, access, deals_now=deals_now: deals_now
                access = SimpleNamespace(
                    member=SimpleNamespace(wallet=wallets[who]), user=SimpleNamespace(id=users[who])
                )
                text = " ".join(reason.split())
                may = bool(text) and deal_id in sides and who in sides[deal_id] and state != "resolved"
                try:
                    disputes.give_reason(session, None, access, deal_id, reason)  # type: ignore[arg-type]
                    assert may
                    model[(deal_id, wallets[who])] = text
                except HTTPException as exc:
                    assert not may and exc.status_code in (403, 404, 409, 422)
            rows = session.exec(select(DisputeReason)).all()
            assert {(r.deal_id, r.wallet): r.reason for r in rows} == model
            removed = disputes.forget_reasons(session, users["alice"], [wallets["alice"]])
            session.commit()
            left = {(r.deal_id, r.wallet) for r in session.exec(select(DisputeReason)).all()}
            assert removed == sum(1 for _d, w in model if w == wallets["alice"])
            assert left == {k for k in model if k[1] != wallets["alice"]}
    finally:
        disputes.chain_deals, disputes.market_of = original


@pytest.mark.services
def test_a_member_disputes_only_with_a_reason_and_the_admin_reads_it(
    demo_stack, demo_chain, realm, monkeypatch
) -> None:
    from dapp.components import calls, wallet

    _market, deal_id = _accepted_deal(demo_chain, "Window cleaning to dispute")
    bob = demo_chain.account(2)  # Bob paid into escrow: he may dispute; his wallet stands connected
    monkeypatch.setattr(wallet, "parse_state", lambda raw: wallet.WalletState(True, [bob], 1981))
    at = app_as(realm, "bob", fresh=True).run()
    at.switch_page("views/timebank.py").run()
    at.selectbox(key="tb_deal").set_value(deal_id).run()
    assert not at.exception, at.exception
    at.button(key="tb_do_dispute").click().run()  # no reason written: nothing is sent, a sentence says why
    assert any("Write why you dispute the deal first" in e.value for e in at.error)
    assert "wallet_pending" not in at.session_state
    at.text_area(key=f"tb_dispute_reason_{deal_id}").input("The windows are still dirty").run()
    at.button(key="tb_do_dispute").click().run()
    pending = at.session_state["wallet_pending"]  # the dispute of this very deal, handed to the wallet
    assert pending["method"] == "eth_sendTransaction"
    assert pending["params"][0]["data"] == calls.encode_call("dispute(uint256)", deal_id)
    token = realm.access_token("carla", PASSWORD)
    listed = requests.get(
        f"{demo_stack.api_url}/communities/1/disputes", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    assert {(r["deal_id"], r["reason"], r["name"].startswith("Bob ")) for r in listed} >= {
        (deal_id, "The windows are still dirty", True)
    }
