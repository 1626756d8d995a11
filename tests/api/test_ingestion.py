"""REST ingestion: the oracle's validation decides (same reasons), good readings are kept, days are aggregated."""

from __future__ import annotations

from api_helpers import bearer
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dapp.api.main import create_app
from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import Anomaly, Community, CounterReading, Device, Flow, Supplier, User, UserCommunity


def test_a_gateway_batch_keeps_good_readings_rejects_bad_ones_and_feeds_the_dashboard(keycloak, settings, engine):
    subject = keycloak.add_user("ingest-member", roles=["token-holder"])
    with Session(engine) as s:
        community = Community(name="Ingest LEC", chain_community_id=77)
        gateway = Supplier(name="lec-gateway-demo")
        load, production = (
            Flow(name="i-load", quantity=FlowQuantity.LOAD),
            Flow(name="i-pv", quantity=FlowQuantity.PRODUCTION),
        )
        user = User(external_id=subject, name="Ina", surname="Gest", email="ina@example.org")
        s.add_all([community, gateway, load, production, user])
        s.flush()
        s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet="0x" + "7" * 40, active=True))
        for pod, flow in (("POD-LOAD", load), ("POD-PV", production)):
            s.add(
                Device(
                    pod=pod,
                    community_id=community.id,
                    user_id=user.id,
                    supplier_id=gateway.id,
                    default_flow_id=flow.id,
                    kind=DeviceKind.CONSUMPTION_METER,
                    name=pod,
                )
            )
        s.commit()
        cid = community.id
    readings = [
        {"device": "POD-LOAD", "timestamp": "2026-11-20T10:00:00+01:00", "energy_wh": 300},
        {"device": "POD-LOAD", "timestamp": "2026-11-20T10:15:00+01:00", "energy_wh": 100},
        {"device": "POD-PV", "timestamp": "2026-11-20T10:00:00+01:00", "energy_wh": -200},
        {"device": "POD-PV", "timestamp": "2026-11-20T10:15:00+01:00", "energy_wh": -250},
        {"device": "POD-PV", "timestamp": "2026-11-20T10:30:00+01:00", "energy_wh": 50},  # production must be ≤ 0
        {"device": "POD-LOAD", "timestamp": "not a time", "energy_wh": 1},
    ]
    gateway_token = bearer(keycloak.client_token("lec-gateway-demo"))
    with TestClient(create_app(settings, engine)) as client:
        reply = client.post(f"/api/v1/communities/{cid}/readings", headers=gateway_token, json={"readings": readings})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["accepted"] == 4 and body["duplicates"] == 0
        assert [(r["index"], r["reason"]) for r in body["rejected"]] == [(4, "sign_violation"), (5, "wrong_type")]
        again = client.post(
            f"/api/v1/communities/{cid}/readings", headers=gateway_token, json={"readings": readings[:4]}
        )
        assert again.json()["accepted"] == 0 and again.json()["duplicates"] == 4  # re-sent readings are idempotent

        daily = client.get(
            f"/api/v1/communities/{cid}/me/daily?from=2026-11-20&to=2026-11-20",
            headers=bearer(keycloak.access_token("ingest-member")),
        )
        assert daily.status_code == 200, daily.text
        day = daily.json()["items"][0]
        assert day["day"] == 20261120
        assert (day["load_wh"], day["production_wh"]) == (400, 450)
        assert day["self_consumption_wh"] == 200 + 100  # per quarter hour: min(300, 200) + min(100, 250)
        assert (day["injection_wh"], day["withdrawal_wh"]) == (150, 100)
        assert daily.json()["self_sufficiency_pct"] == 75.0
    with Session(engine) as s:
        assert len(s.exec(select(CounterReading)).all()) == 4
        assert {a.reason.value for a in s.exec(select(Anomaly)).all()} == {"sign_violation", "wrong_type"}
