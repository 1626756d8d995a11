"""Anomalies and clusters of a community: rows written as the oracle writes them, read back through the API."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from api_helpers import bearer
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dapp.api.dev_realm import KeycloakStandIn
from lec.db.enums import AnomalyReason, DeviceKind, ReadingSource
from lec.db.models import Anomaly, ClusterGroup, Community, Device, Role, User, UserCommunity, UserRole
from oracle.cluster import cluster_curves
from oracle.derived import save_clustering

_run = itertools.count()
MEMBERS = ("anna", "bruno", "carla", "dario")


@dataclass
class Place:
    community: int
    tokens: dict[str, str]
    users: dict[str, int]


@pytest.fixture
def place(keycloak: KeycloakStandIn, engine: Engine) -> Place:
    run = next(_run)
    realm_roles = {"admin": ["community-admin", "token-holder"], "auditor": ["auditor"]}
    realm_roles |= {who: ["token-holder"] for who in MEMBERS}
    usernames = {who: f"quality{run}-{who}" for who in realm_roles}
    subjects = {who: keycloak.add_user(usernames[who], "pw", roles) for who, roles in realm_roles.items()}
    with Session(engine) as s:
        community = Community(name="Quality LEC", chain_community_id=77)
        s.add(community)
        s.flush()
        users = {
            who: User(external_id=subject, name=who.title(), surname="Rossi", email=f"{who}@example.org")
            for who, subject in subjects.items()
        }
        s.add_all(users.values())
        s.flush()
        for i, who in enumerate(("admin", *MEMBERS)):
            s.add(
                UserCommunity(community_id=community.id, user_id=users[who].id, wallet=f"0x{i + 1:040x}", active=True)
            )
        role_id = s.exec(select(Role.id).where(Role.name == "community-admin")).one()
        s.add(UserRole(user_id=users["admin"].id, community_id=community.id, role_id=role_id))
        s.add(
            Device(
                pod=f"IT001E-ANNA{run}",
                community_id=community.id,
                user_id=users["anna"].id,
                kind=DeviceKind.CONSUMPTION_METER,
                name="Anna's meter",
            )
        )
        s.commit()
        place = Place(community.id, {}, {who: u.id for who, u in users.items() if u.id is not None})
    place.tokens = {who: keycloak.mint(usernames[who]) for who in realm_roles}
    return place


def _anomalies(engine: Engine, place: Place) -> None:
    """Three anomalies an hour apart; the newest has a device the platform does not know."""
    base = datetime(2026, 11, 20, 10, tzinfo=UTC)
    with Session(engine) as s:
        device = s.exec(select(Device).where(Device.community_id == place.community)).one()
        rows = [
            (AnomalyReason.OUT_OF_BOUNDS, device.id, None, "Energy above the meter's maximum."),
            (AnomalyReason.SIGN_VIOLATION, device.id, None, "A load reading cannot be negative."),
            (AnomalyReason.UNKNOWN_DEVICE, None, "IT001E-GHOST", "No device has this POD."),
        ]
        for hour, (reason, device_id, ref, sentence) in enumerate(rows):
            s.add(
                Anomaly(
                    detected_at=base + timedelta(hours=hour),
                    community_id=place.community,
                    device_id=device_id,
                    device_ref=ref or device.pod,
                    timestamp=base + timedelta(hours=hour, minutes=-15),
                    reason=reason,
                    message=sentence,
                    source=ReadingSource.API,
                    payload='{"owner": "Anna Rossi", "energy_wh": -5}',
                )
            )
        s.commit()


def test_anomalies_are_newest_first_filterable_and_carry_no_personal_data(
    client: TestClient, engine: Engine, place: Place
) -> None:
    _anomalies(engine, place)
    url = f"/api/v1/communities/{place.community}/anomalies"
    page = client.get(url, headers=bearer(place.tokens["admin"])).json()
    assert page["total"] == 3
    assert [a["reason"] for a in page["items"]] == ["unknown_device", "sign_violation", "out_of_bounds"]
    assert page["items"][0]["pod"] == "IT001E-GHOST"  # the id as received when the device is unknown
    assert page["items"][1]["pod"].startswith("IT001E-ANNA")
    assert page["items"][1]["message"] == "A load reading cannot be negative."
    assert "Anna" not in client.get(url, headers=bearer(place.tokens["auditor"])).text

    filtered = client.get(url, params={"reason": "out_of_bounds"}, headers=bearer(place.tokens["auditor"])).json()
    assert [a["reason"] for a in filtered["items"]] == ["out_of_bounds"] and filtered["total"] == 1
    second = client.get(url, params={"limit": 1, "offset": 1}, headers=bearer(place.tokens["admin"])).json()
    assert [a["reason"] for a in second["items"]] == ["sign_violation"] and second["total"] == 3

    assert client.get(url, headers=bearer(place.tokens["anna"])).status_code == 403
    bad = client.get(url, params={"reason": "gremlins"}, headers=bearer(place.tokens["admin"]))
    assert bad.status_code == 422


def _cluster(engine: Engine, place: Place, name: str, curves: np.ndarray, k: int):  # noqa: ANN202
    result = cluster_curves(curves, k)
    with Session(engine) as s:
        ids = [place.users[who] for who in MEMBERS]
        save_clustering(s, place.community, name, result, ids, {"metric": "euclidean", "k": k})
        s.commit()
    return result


def test_clusters_show_the_latest_run_and_each_member_only_their_own_assignment(
    client: TestClient, engine: Engine, place: Place
) -> None:
    url = f"/api/v1/communities/{place.community}/clusters"
    missing = client.get(url, headers=bearer(place.tokens["admin"]))
    assert missing.status_code == 404 and "lec oracle cluster" in missing.json()["detail"]

    rng = np.random.default_rng(7)
    shape = 200 + 150 * np.sin(np.linspace(0, 2 * np.pi, 96))
    curves = np.vstack([shape * f + rng.normal(0, 5, 96) for f in (1.0, 1.1, 3.0, 3.2)])
    _cluster(engine, place, "old run", curves[::-1], 1)
    result = _cluster(engine, place, "daily curves", curves, 2)

    body = client.get(url, headers=bearer(place.tokens["admin"])).json()
    assert body["name"] == "daily curves" and body["parameters"] == {"k": 2, "metric": "euclidean"}
    assert len(body["slots"]) == 96 and body["slots"][:2] == ["00:00", "00:15"]
    assert sorted(c["members"] for c in body["clusters"]) == sorted(int(n) for n in result.sizes)
    for j, cluster in enumerate(body["clusters"]):
        assert np.allclose(cluster["mean_curve"], result.mean_curves[j])
        assert np.allclose(cluster["std_curve"], result.std_curves[j])
        assert math.isclose(cluster["cv"], float(result.cv[j]), rel_tol=1e-9)
    by_user = {a["user_id"]: a["cluster_id"] for a in body["assignments"]}
    cluster_ids = [c["id"] for c in body["clusters"]]
    assert by_user == {place.users[w]: cluster_ids[int(label)] for w, label in zip(MEMBERS, result.labels, strict=True)}
    assert body["own_cluster_id"] is None  # the admin was not clustered
    assert client.get(url, headers=bearer(place.tokens["auditor"])).json()["assignments"] == body["assignments"]

    for who in MEMBERS:
        mine = client.get(url, headers=bearer(place.tokens[who])).json()
        assert mine["assignments"] is None
        assert mine["own_cluster_id"] == by_user[place.users[who]]
        assert mine["clusters"] == body["clusters"]

    with Session(engine) as s:
        assert len(s.exec(select(ClusterGroup).where(ClusterGroup.community_id == place.community)).all()) == 2
