"""The incentive and onboarding routes: what each role may do, the figures the CLI gives, manifests refused with
their path, previews that write nothing, and the anomaly review."""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_helpers import bearer
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lec.community.importer import import_manifest
from lec.community.manifest import parse_manifest
from lec.db.enums import AnomalyReason, ReadingSource
from lec.db.models import Anomaly, Community, Role, User, UserCommunity, UserRole
from oracle.ingest.files import ingest_file
from oracle.ingest.store import load_catalogue
from tests.support.keycloak import KeycloakServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "community-manifest.json"
READINGS = ROOT / "docs" / "examples" / "readings-2026-05-04.csv"
_run = itertools.count()
DAY = {"from": "2026-05-04", "to": "2026-05-04"}


@dataclass
class Place:
    community: int
    other: int
    tokens: dict[str, str]


@pytest.fixture
def place(keycloak: KeycloakServer, engine: Engine, tmp_path: Path) -> Place:
    run = next(_run)
    realm_roles = {
        "admin": ["community-admin"],
        "other_admin": ["community-admin"],
        "auditor": ["auditor"],
        "platform": ["platform-admin"],
        "member": ["token-holder"],
        "gateway_like": ["meter-gateway"],
    }
    usernames = {who: f"onb{run}-{who.replace('_', '')}" for who in realm_roles}
    subjects = {who: keycloak.add_user(usernames[who], roles=roles) for who, roles in realm_roles.items()}
    with Session(engine) as s:
        import_manifest(s, parse_manifest(EXAMPLE.read_text()))
    csv = tmp_path / READINGS.name
    shutil.copy(READINGS, csv)
    ingest_file(csv, engine, move=False, catalogue=load_catalogue(engine))
    with Session(engine) as s:
        community = s.exec(select(Community).where(Community.chain_community_id == 1)).one()
        other = Community(name="Other LEC", chain_community_id=9)
        s.add(other)
        s.flush()
        users = {}
        for who in ("admin", "other_admin", "auditor", "platform", "gateway_like"):
            users[who] = User(external_id=subjects[who], name=who, surname="Test", email=f"{who}@example.org")
            s.add(users[who])
        # The member is the imported member of the first wallet, now bound to their Keycloak account.
        first = s.exec(select(UserCommunity).where(UserCommunity.community_id == community.id)).first()
        assert first is not None
        s.get(User, first.user_id).external_id = subjects["member"]  # type: ignore[union-attr]
        s.flush()
        role_id = s.exec(select(Role.id).where(Role.name == "community-admin")).one()
        s.add(UserRole(user_id=users["admin"].id, community_id=community.id, role_id=role_id))
        s.add(UserRole(user_id=users["other_admin"].id, community_id=other.id, role_id=role_id))
        s.commit()
        place = Place(community.id, other.id, {})  # type: ignore[arg-type]
    place.tokens = {who: keycloak.access_token(usernames[who]) for who in realm_roles}
    return place


def test_incentive_by_role_with_the_clis_figures(client: TestClient, place: Place) -> None:
    url = f"/api/v1/communities/{place.community}/incentive"
    for who in ("admin", "auditor", "platform"):
        answer = client.get(url, params=DAY, headers=bearer(place.tokens[who]))
        assert answer.status_code == 200, (who, answer.text)
    report = answer.json()
    assert (report["shared_kwh"], report["tip_eur"], report["valorisation_eur"], report["total_eur"]) == (
        23.392,
        2.89,
        0.24,
        3.13,
    )
    assert report["from"] == "2026-05-04" and len(report["hourly_shared_kwh"]) == 24
    assert sum(m["cents"] for m in report["members"]) <= report["total_cents"]
    assert any("No hourly zonal prices" in note for note in report["approximations"])
    assert [n["code"] for n in report["approximation_codes"]] == ["single_price", "valorisation_year"]
    for who in ("member", "other_admin", "gateway_like"):
        assert client.get(url, params=DAY, headers=bearer(place.tokens[who])).status_code == 403, who
    assert client.get(url, params=DAY).status_code == 401
    backwards = client.get(
        url, params={"from": "2026-05-05", "to": "2026-05-04"}, headers=bearer(place.tokens["admin"])
    )
    assert backwards.status_code == 422 and "before the start date" in backwards.json()["detail"]


def test_incentive_with_hourly_prices_and_a_bad_prices_file(client: TestClient, place: Place) -> None:
    url = f"/api/v1/communities/{place.community}/incentive"
    lines = ["datetime,zone,pzo_eur_mwh"] + [f"2026-05-04T{h:02d}:00:00+02:00,CSUD,{40 + h}" for h in range(24)]
    answer = client.post(url, json={**DAY, "prices_csv": "\n".join(lines)}, headers=bearer(place.tokens["admin"]))
    assert answer.status_code == 200, answer.text
    assert not any("zonal price" in note for note in answer.json()["approximations"])
    # Prices below 60 €/MWh reach the 120 €/MWh cap for ≤ 200 kW plants: a TIP at least as high as at 100 €/MWh.
    assert answer.json()["tip_eur"] >= 2.89
    bad = client.post(
        url,
        json={**DAY, "prices_csv": "datetime,zone,pzo_eur_mwh\nyesterday,CSUD,40"},
        headers=bearer(place.tokens["admin"]),
    )
    assert bad.status_code == 422 and "line 2" in bad.json()["detail"]
    member = client.post(url, json=DAY, headers=bearer(place.tokens["member"]))
    assert member.status_code == 403


def test_manifest_import_preview_and_who_may(client: TestClient, engine: Engine, place: Place) -> None:
    url = "/api/v1/onboarding/manifest"
    new = json.loads(EXAMPLE.read_text())
    new["community"].update(chain_id=2, name="Second LEC")
    for m in new["members"]:
        m["pod"] = "S" + m["pod"]
    for d in new["devices"]:
        d["id"] = "S" + d["id"]
    preview = client.post(url, params={"dry_run": True}, json=new, headers=bearer(place.tokens["platform"]))
    assert preview.status_code == 200, preview.text
    assert preview.json()["dry_run"] and preview.json()["created"]["member"] == 8
    with Session(engine) as s:
        assert s.exec(select(Community).where(Community.chain_community_id == 2)).first() is None
    # A community admin cannot create a community, nor touch another one.
    refused = client.post(url, json=new, headers=bearer(place.tokens["admin"]))
    assert refused.status_code == 404 and "platform admin" in refused.json()["detail"]
    own = json.loads(EXAMPLE.read_text())
    assert client.post(url, json=own, headers=bearer(place.tokens["other_admin"])).status_code == 403
    assert client.post(url, json=own, headers=bearer(place.tokens["member"])).status_code == 403
    assert client.post(url, json=own).status_code == 401
    again = client.post(url, json=own, headers=bearer(place.tokens["admin"]))
    assert again.status_code == 200 and again.json()["changed"] is False
    created = client.post(url, json=new, headers=bearer(place.tokens["platform"]))
    assert created.status_code == 200 and created.json()["changed"] is True
    broken = copy.deepcopy(own)
    broken["plants"][0]["kwp"] = 3
    answer = client.post(url, json=broken, headers=bearer(place.tokens["admin"]))
    assert answer.status_code == 422
    assert "plants[0].kwp: is not a field of the manifest" in answer.json()["detail"]


def test_anomaly_review_by_the_community_admin_only(client: TestClient, engine: Engine, place: Place) -> None:
    with Session(engine) as s:
        anomaly = Anomaly(
            community_id=place.community,
            device_ref="IT001E00000002",
            timestamp=datetime(2026, 5, 4, 10, tzinfo=UTC),
            reason=AnomalyReason.SILENT_DEVICE,
            message="The meter sent nothing on 2026-05-04.",
            source=ReadingSource.FILE,
        )
        elsewhere = Anomaly(
            community_id=place.other,
            device_ref="X",
            reason=AnomalyReason.MISSING_READINGS,
            message="Gap.",
            source=ReadingSource.FILE,
        )
        s.add_all([anomaly, elsewhere])
        s.commit()
        ids = (anomaly.id, elsewhere.id)
    url = f"/api/v1/communities/{place.community}/anomalies/{ids[0]}"
    for who in ("auditor", "member", "other_admin"):
        assert client.patch(url, json={"status": "reviewed"}, headers=bearer(place.tokens[who])).status_code == 403
    done = client.patch(url, json={"status": "reviewed"}, headers=bearer(place.tokens["admin"]))
    assert done.status_code == 200 and done.json()["status"] == "reviewed" and done.json()["reviewed_by"]
    listed = client.get(f"/api/v1/communities/{place.community}/anomalies", headers=bearer(place.tokens["auditor"]))
    assert [a["status"] for a in listed.json()["items"]] == ["reviewed"]
    other = f"/api/v1/communities/{place.community}/anomalies/{ids[1]}"
    assert client.patch(other, json={"status": "reviewed"}, headers=bearer(place.tokens["admin"])).status_code == 404
    bad = client.patch(url, json={"status": "ignored"}, headers=bearer(place.tokens["admin"]))
    assert bad.status_code == 422


def test_second_level_signals_and_monthly_ranking(client: TestClient, engine: Engine, place: Place) -> None:
    from lec.db.models import CounterReading, Device, WeatherData

    with Session(engine) as s:
        meter = s.exec(select(Device).where(Device.pod == "IT001E00000003B")).one()
        station = s.exec(select(Device).where(Device.pod == "WS-0001")).one()
        for minute, (volts, soc) in enumerate(((229.0, 40.0), (233.0, 60.0))):
            s.add(
                CounterReading(
                    device_id=meter.id,
                    flow_id=meter.default_flow_id,
                    community_id=place.community,
                    timestamp=datetime(2026, 5, 5, 10, 15 * minute, tzinfo=UTC),
                    voltage_v=volts,
                    charge_status=soc,
                    tsi=0,
                )
            )
        s.add(
            WeatherData(
                device_id=station.id,
                flow_id=station.default_flow_id,
                community_id=place.community,
                timestamp=datetime(2026, 5, 4, 10, tzinfo=UTC),
                temperature_c=21.5,
                tsi=0,
            )
        )
        s.commit()
    url = f"/api/v1/communities/{place.community}/details"
    answer = client.get(url, params={"month": "2026-05"}, headers=bearer(place.tokens["admin"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    battery = next(d for d in body["devices"] if d["pod"] == "IT001E00000003B")
    assert battery["voltage_v"] == {"samples": 2, "mean": 231.0, "min": 229.0, "max": 233.0}
    assert battery["charge_status"]["mean"] == 50.0 and battery["current_a"]["samples"] == 0
    assert body["weather"] == [
        {"pod": "WS-0001", "temperature_c": {"samples": 1, "mean": 21.5, "min": 21.5, "max": 21.5}}
    ]
    ranking = body["ranking"]
    assert [r["rank"] for r in ranking] == list(range(1, 9))
    shares = [r["self_sufficiency_pct"] for r in ranking]
    assert shares == sorted(shares, reverse=True) and shares[0] > 0
    assert client.get(url, params={"month": "2026-05"}, headers=bearer(place.tokens["auditor"])).status_code == 200
    for who in ("member", "other_admin"):
        assert client.get(url, params={"month": "2026-05"}, headers=bearer(place.tokens[who])).status_code == 403
    assert client.get(url, params={"month": "May"}, headers=bearer(place.tokens["admin"])).status_code == 422
