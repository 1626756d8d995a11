"""The flexibility routes against the real Keycloak: members declare, a buyer's client-credentials token reads the
k-anonymous offer (no personal data) and sends events, the community admin watches; who may call what."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dapp.api.main import create_app
from dapp.api.services.accounts import _erase_personal_rows
from lec.db.models import Community, Role, User, UserCommunity, UserRole
from lec.db.models.flex import FlexDeclaration, FlexDispatch
from lec.db.session import get_engine, init_db
from lec.flex.declarations import LoadKind
from tests.api.api_helpers import bearer, make_settings
from tests.support.keycloak import KeycloakServer

BUYER_CLIENT = "lec-flex-buyer-demo"
ROME_TZ = ZoneInfo("Europe/Rome")
SHIFTABLE = {"kind": "shiftable", "power_w": 10_000, "notice_minutes": 0}


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    community: int
    other: int
    engine: object
    quiet_members: list[int]  # user ids of members declared in the database only (no Keycloak account)
    private: list[str]  # strings that must never reach a buyer: names, e-mails, wallets, subjects


def wallet(i: int) -> str:
    return f"0x{0xA11CE000 + i:040x}"


@pytest.fixture(scope="module")
def api(keycloak_server: KeycloakServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    keycloak = keycloak_server
    folder: Path = tmp_path_factory.mktemp("flex-api")
    db_url = f"sqlite:///{folder / 'api.db'}"
    engine = init_db(get_engine(db_url))
    private: list[str] = []
    quiet: list[int] = []
    with Session(engine) as s:
        community, other = Community(name="Flex LEC"), Community(name="Other LEC")
        s.add_all([community, other])
        s.flush()
        people = {"anna": ["token-holder"], "admin": ["community-admin", "token-holder"], "otto": ["token-holder"]}
        for n, (name, roles) in enumerate(people.items()):
            subject = keycloak.add_user(f"flex-{name}", roles=roles)
            user = User(external_id=subject, name=f"Name{name}", surname="Rossi", email=f"{name}@flex.example")
            s.add(user)
            s.flush()
            home = other if name == "otto" else community
            s.add(UserCommunity(community_id=home.id, user_id=user.id, wallet=wallet(n), active=True))
            if name == "admin":
                role_id = s.exec(select(Role.id).where(Role.name == "community-admin")).one()
                s.add(UserRole(user_id=user.id, community_id=community.id, role_id=role_id))
            private += [subject, user.name, user.email, wallet(n), wallet(n).lower()]
        for i in range(3):  # three more members of Flex LEC who declared earlier
            user = User(external_id=f"quiet-{i}", name=f"Quiet{i}", surname="Bianchi", email=f"q{i}@flex.example")
            s.add(user)
            s.flush()
            s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet=wallet(10 + i), active=True))
            s.add(
                FlexDeclaration(
                    community_id=community.id, user_id=user.id, kind=LoadKind.STORAGE, power_w=5_000, notice_minutes=0
                )
            )
            quiet.append(user.id)
            private += [user.external_id, user.name, user.email, wallet(10 + i), wallet(10 + i).lower()]
        s.commit()
        ids = community.id, other.id
    tokens = {name: keycloak.access_token(f"flex-{name}") for name in ("anna", "admin", "otto")}
    tokens["buyer"] = keycloak.client_token(BUYER_CLIENT)
    with TestClient(create_app(make_settings(keycloak, db_url), engine)) as client:
        yield Api(client, tokens, ids[0], ids[1], engine, quiet, private)
    engine.dispose()


def _url(api: Api, tail: str, community: int | None = None) -> str:
    return f"/api/v1/communities/{community or api.community}/flexibility/{tail}"


def call(api: Api, method: str, who: str | None, tail: str, community: int | None = None, **kw: object):  # noqa: ANN201
    headers = bearer(api.tokens[who]) if who else {}
    return api.client.request(method, _url(api, tail, community), headers=headers, **kw)


def _event(start: datetime, kw: int, event_id: str) -> dict:
    return {
        "event_id": event_id,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "request_w": kw * 1000,
    }


def _next_quarter(hours: int) -> datetime:
    now = datetime.now(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + timedelta(hours=hours)


def test_a_member_declares_lists_and_deletes_and_bad_input_gets_a_sentence(api: Api) -> None:
    made = call(
        api,
        "POST",
        "anna",
        "declarations",
        json={"kind": "modulable", "power_w": 7400, "setpoint_w": 1400, "start_minute": 1080, "end_minute": 1260},
    )
    assert made.status_code == 201, made.text
    assert (made.json()["down_w"], made.json()["up_w"]) == (6000, 0)
    listed = call(api, "GET", "anna", "declarations").json()
    assert [d["id"] for d in listed] == [made.json()["id"]]  # only her own, not the quiet members'
    wrong = call(api, "POST", "anna", "declarations", json={**SHIFTABLE, "setpoint_w": 100})
    assert wrong.status_code == 422 and "only to a modulable load" in wrong.json()["detail"]
    quarter = call(api, "POST", "anna", "declarations", json={**SHIFTABLE, "start_minute": 7})
    assert quarter.status_code == 422 and "start_minute" in quarter.json()["detail"]
    # Someone else's declaration is not hers to delete; her own is.
    theirs = call(api, "DELETE", "admin", f"declarations/{made.json()['id']}")
    assert theirs.status_code == 404
    assert call(api, "DELETE", "anna", f"declarations/{made.json()['id']}").status_code == 204
    assert call(api, "GET", "anna", "declarations").json() == []


@pytest.mark.parametrize(
    ("who", "method", "tail", "community", "expected"),
    [
        (None, "GET", "declarations", None, 401),
        ("buyer", "POST", "declarations", None, 403),  # a buyer is no member
        ("otto", "POST", "declarations", None, 403),  # a member of another community
        ("otto", "GET", "offer", None, 403),
        ("anna", "GET", "offer", None, 403),  # a member does not read the buyers' offer
        ("anna", "POST", "events", None, 403),
        ("admin", "POST", "events", None, 403),  # events come from buyers only
        ("anna", "GET", "events", None, 403),
        (None, "GET", "offer", None, 401),
        ("buyer", "GET", "offer", 999_999, 404),
        ("buyer", "GET", "dispatches", None, 403),
    ],
)
def test_who_may_not_call(
    api: Api, who: str | None, method: str, tail: str, community: int | None, expected: int
) -> None:
    body = _event(_next_quarter(2), 1, "nope") if tail == "events" else SHIFTABLE if method == "POST" else None
    reply = call(api, method, who, tail, community, json=body)
    assert reply.status_code == expected, reply.text


def test_the_offer_is_k_anonymous_and_carries_no_personal_data(api: Api) -> None:
    # Three quiet members and Anna: four, below k = 5: every slot withheld.
    anna = call(api, "POST", "anna", "declarations", json=SHIFTABLE)
    assert anna.status_code == 201
    offer = call(api, "GET", "buyer", "offer", params={"hours": 2})
    assert offer.status_code == 200, offer.text
    assert offer.json()["k"] == 5 and len(offer.json()["slots"]) == 8
    assert all(s["withheld"] and s["down_w"] == 0 and s["devices"] == 0 for s in offer.json()["slots"])
    admin = call(api, "POST", "admin", "declarations", json=SHIFTABLE)  # the admin is a member too: five
    assert admin.status_code == 201
    offer = call(api, "GET", "buyer", "offer", params={"hours": 2})
    slots = offer.json()["slots"]
    assert [(s["down_w"], s["up_w"], s["devices"], s["withheld"]) for s in slots] == [(35_000, 35_000, 5, False)] * 8
    text = offer.text.lower()
    leaked = [p for p in api.private if p.lower() in text]
    assert leaked == []
    assert call(api, "GET", "admin", "offer").status_code == 200
    too_far = call(api, "GET", "buyer", "offer", params={"hours": 1000})
    assert too_far.status_code == 422
    for d in (anna, admin):
        who = "anna" if d is anna else "admin"
        assert call(api, "DELETE", who, f"declarations/{d.json()['id']}").status_code == 204


def test_a_buyer_sends_an_event_over_rest_and_members_see_and_opt_out(api: Api) -> None:
    made = [call(api, "POST", who, "declarations", json=SHIFTABLE) for who in ("anna", "admin")]
    start = _next_quarter(3)
    sent = call(api, "POST", "buyer", "events", json=_event(start, 14, "dso-7"))
    assert sent.status_code == 201, sent.text
    event = sent.json()
    assert (event["decision"], event["committed_w"], event["participants"], event["source"]) == (
        "opted-in",
        14_000,
        5,
        "rest",
    )
    again = call(api, "POST", "buyer", "events", json=_event(start, 14, "dso-7"))
    assert again.status_code == 201 and again.json()["id"] == event["id"]
    changed = call(api, "POST", "buyer", "events", json=_event(start, 20, "dso-7"))
    assert changed.status_code == 409
    too_much = call(api, "POST", "buyer", "events", json=_event(start, 100, "dso-8")).json()
    assert too_much["decision"] == "opted-out" and too_much["participants"] == 0
    past = call(api, "POST", "buyer", "events", json=_event(_next_quarter(-1), 5, "dso-9"))
    assert past.status_code == 422 and "in the past" in past.json()["detail"]
    odd = {**_event(start, 5, "dso-10"), "start": (start + timedelta(minutes=7)).isoformat()}
    assert "quarter hour" in call(api, "POST", "buyer", "events", json=odd).json()["detail"]
    backwards = {**_event(start, 5, "dso-11"), "end": start.isoformat()}
    assert "end after it starts" in call(api, "POST", "buyer", "events", json=backwards).json()["detail"]
    # 14 kW over 10 + 10 + 3 × 5 kW: 4000 each to Anna and the admin, 2000 to each storage.
    mine = call(api, "GET", "anna", "dispatches").json()
    assert [(d["event_id"], d["share_w"]) for d in mine] == [(event["id"], 4000)]
    listed = call(api, "GET", "admin", "events").json()
    assert {e["event_id"] for e in listed} == {"dso-7", "dso-8"}
    assert {e["event_id"] for e in call(api, "GET", "buyer", "events").json()} == {"dso-7", "dso-8"}
    out = call(api, "POST", "anna", f"events/{event['id']}/opt-out")
    assert out.status_code == 200 and out.json()["opted_out_at"] is not None
    assert call(api, "POST", "otto", f"events/{event['id']}/opt-out", community=api.other).status_code == 404
    for who, d in zip(("anna", "admin"), made, strict=True):
        call(api, "DELETE", who, f"declarations/{d.json()['id']}")
    assert json.dumps(listed).lower().count("@") == 0


def test_the_right_to_be_forgotten_erases_declarations_and_dispatches(api: Api) -> None:
    with Session(api.engine) as s:  # type: ignore[call-overload]
        user = s.get(User, api.quiet_members[0])
        _erase_personal_rows(s, user)
        s.commit()
        assert s.exec(select(FlexDeclaration).where(FlexDeclaration.user_id == api.quiet_members[0])).all() == []
        assert s.exec(select(FlexDispatch).where(FlexDispatch.user_id == api.quiet_members[0])).all() == []
        assert s.exec(select(FlexDeclaration).where(FlexDeclaration.user_id == api.quiet_members[1])).all() != []


# ---- the dApp page, in Streamlit's AppTest against this API served by uvicorn ------------------------------------


@pytest.fixture(scope="module")
def served(api: Api, keycloak_server: KeycloakServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import threading
    import time

    import requests
    import uvicorn

    from tests.support.ports import free_port

    port = free_port()
    db_url = str(api.engine.url)  # type: ignore[attr-defined]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(make_settings(keycloak_server, db_url), api.engine),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/api/v1"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEC_API_URL", url)
        yield url
    server.should_exit = True
    thread.join(10)


def _page_as(api: Api, who: str, language: str = "it"):  # noqa: ANN202
    import jwt
    from streamlit.testing.v1 import AppTest

    from dapp.views.common import identity_from_claims

    token = api.tokens[who]
    at = AppTest.from_file("../../dapp/app.py", default_timeout=60)
    at.session_state["identity"] = identity_from_claims(
        jwt.decode(token, options={"verify_signature": False}), token, source="demo"
    )
    at.session_state["language"] = language
    at.run()
    return at.switch_page("views/flexibility.py").run()


def _texts(at) -> str:  # noqa: ANN001
    return "\n".join(str(e.value) for e in (*at.title, *at.subheader, *at.caption, *at.info, *at.success, *at.error))


def test_the_page_lets_a_member_declare_and_shows_the_admin_events_and_offer(api: Api, served: str) -> None:
    at = _page_as(api, "anna")
    assert not at.exception, at.exception
    assert at.title[0].value == "Flessibilità"
    assert "I miei carichi flessibili" in _texts(at) and "Eventi della comunità" not in _texts(at)
    at.number_input[0].set_value(3.5)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    assert "Carico dichiarato." in _texts(at) or at.dataframe, _texts(at)
    mine = call(api, "GET", "anna", "declarations").json()
    assert [(d["kind"], d["power_w"], d["start_minute"], d["end_minute"]) for d in mine][-1] == (
        "shiftable",
        3500,
        18 * 60,
        21 * 60,
    )
    admin = _page_as(api, "admin", language="en")
    assert not admin.exception, admin.exception
    text = _texts(admin)
    assert "Community events" in text and "Aggregated offer (next 48 hours)" in text
    assert "dso-7" not in text  # the buyer's own event id is not on the admin's page; its client id is
    for d in mine:
        call(api, "DELETE", "anna", f"declarations/{d['id']}")


def test_the_buyer_reads_a_day_ahead_forecast_of_the_community_totals(api: Api) -> None:
    from lec.calendar import local_day_grid
    from lec.db.models import CounterReading

    day = datetime.now(ROME_TZ).date() + timedelta(days=1)
    grid = local_day_grid(day - timedelta(days=36), 36)
    with Session(api.engine) as s:  # type: ignore[call-overload]
        other = s.get(Community, api.other)
        other.latitude, other.longitude = 41.9, 12.5
        s.add(other)
        for t in grid:
            hour = t.tz_convert("Europe/Rome").hour
            load = 200 + 100 * (17 <= hour < 21)  # an evening peak every day
            sun = max(0, 6 - abs(hour - 13)) * 60  # production around noon
            s.add(
                CounterReading(
                    device_id=90,
                    flow_id=1,
                    community_id=api.other,
                    timestamp=t.to_pydatetime(),
                    energy_wh=float(load),
                    tsi=0,
                )
            )
            if sun:
                s.add(
                    CounterReading(
                        device_id=91,
                        flow_id=2,
                        community_id=api.other,
                        timestamp=t.to_pydatetime(),
                        energy_wh=-float(sun),
                        tsi=0,
                    )
                )
        s.commit()
    reply = call(api, "GET", "buyer", "forecast", community=api.other, params={"day": day.isoformat()})
    assert reply.status_code == 200, reply.text
    slots = reply.json()["slots"]
    assert len(slots) in (92, 96, 100)
    local = {datetime.fromisoformat(s["start"]).astimezone(ROME_TZ).hour: s for s in slots}
    assert abs(local[18]["load_wh"] - 300) <= 15 and abs(local[3]["load_wh"] - 200) <= 15
    assert local[13]["production_wh"] > 0 and local[1]["production_wh"] == 0
    assert call(api, "GET", "otto", "forecast", community=api.other).status_code == 403  # a member: not a buyer
    empty = call(api, "GET", "buyer", "forecast", params={"day": "2020-01-01"})
    assert empty.status_code == 422 and "no readings" in empty.json()["detail"]


def test_the_admin_sets_a_price_and_the_buyer_sees_it_on_the_api_and_the_page(api: Api, served: str) -> None:
    assert call(api, "GET", "buyer", "price").json()["price_cents_per_kwh"] is None
    assert call(api, "GET", "buyer", "offer", params={"hours": 1}).json()["price_cents_per_kwh"] is None
    for who, expected in (("anna", 403), ("buyer", 403), ("otto", 403), (None, 401)):
        refused = call(api, "PUT", who, "price", json={"price_cents_per_kwh": 1})
        assert refused.status_code == expected, (who, refused.text)
    assert call(api, "GET", "anna", "price").status_code == 403  # the price is for buyers and the admin
    negative = call(api, "PUT", "admin", "price", json={"price_cents_per_kwh": -5})
    assert negative.status_code == 422 and "price_cents_per_kwh" in negative.json()["detail"]
    assert call(api, "PUT", "admin", "price", json={"price_cents_per_kwh": 1, "x": 2}).status_code == 422
    set_ = call(api, "PUT", "admin", "price", json={"price_cents_per_kwh": 25})
    assert set_.status_code == 200 and set_.json()["price_cents_per_kwh"] == 25
    assert call(api, "GET", "buyer", "offer", params={"hours": 1}).json()["price_cents_per_kwh"] == 25
    assert call(api, "GET", "buyer", "price", community=api.other).status_code == 200  # each community its own
    assert call(api, "GET", "buyer", "price", community=api.other).json()["price_cents_per_kwh"] is None

    page = _page_as(api, "buyer", language="en")
    assert not page.exception, page.exception
    assert [m.value for m in page.metric] == ["€0.25 per kWh delivered"]
    assert "Aggregated offer (next 48 hours)" in _texts(page) and "Community events" not in _texts(page)
    admin = _page_as(api, "admin")
    assert not admin.exception, admin.exception
    assert [m.value for m in admin.metric] == ["0,25 € per kWh fornito"]
    admin.number_input(key="flex_price_value").set_value(0.4)
    next(b for b in admin.button if b.label == "Salva il prezzo").click().run()
    assert not admin.exception, admin.exception
    assert call(api, "GET", "buyer", "price").json()["price_cents_per_kwh"] == 40


def test_the_demo_buyer_reads_offer_and_price_with_its_client_credentials(
    api: Api, served: str, keycloak_server: KeycloakServer, tmp_path: Path
) -> None:
    """`lec flex buyer-offer`, the last step of `make demo-api`: the demo identity file's buyer secret, a token from
    Keycloak, the offer from the API — and a sentence, not a stack trace, when the file has no buyer."""
    from oracle.flex.demo import buyer_offer

    identity = {"keycloak_url": keycloak_server.url, "realm": "lec", "flex_buyer_client_id": BUYER_CLIENT}
    without = tmp_path / "old-identity.json"
    without.write_text(json.dumps(identity))
    with pytest.raises(ValueError, match="has no flexibility buyer"):
        buyer_offer(without, served, api.community)
    path = tmp_path / "dev-identity.json"
    path.write_text(json.dumps({**identity, "flex_buyer_client_secret": keycloak_server.client_secret(BUYER_CLIENT)}))
    said = buyer_offer(path, served, api.community)
    assert said.startswith(f"The buyer {BUYER_CLIENT} read community {api.community}'s offer: ")
    assert "of 192 quarter hours published (k = 5)" in said and said.endswith("€ per kWh.")
