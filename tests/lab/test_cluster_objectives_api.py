"""A cluster's target curve through the API with the real Keycloak: only the community's admin sets it (a member,
the auditor, another community's admin are refused; another community's cluster is not found); members read their
own cluster's objective with its progress, a member of another cluster or community does not; a cluster below k is
refused with a sentence; a bad curve is refused with one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlmodel import Session

from dapp.api.services import lab_objectives
from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import Cluster, ClusterGroup, ClusterUser, Device, Flow
from tests.lab.lab_helpers import Env, day_readings

TARGET = [2.0] * 10 + [10.0] * 6 + [2.5] * 8  # 60 % in the PV hours
OCT = "2026-10"


@pytest.fixture(scope="module")
def env(make_lab_env) -> Iterator[tuple[Env, dict[str, int]]]:
    with make_lab_env("curve", ("Curve API LEC", "Other curve LEC")) as place, Session(place.engine) as s:
        flow = Flow(name="curve-api-load", quantity=FlowQuantity.LOAD)
        groups = [ClusterGroup(name="load", description="", community_id=c) for c in (place.community, place.other)]
        s.add_all([flow, *groups])
        s.flush()
        evening = Cluster(group_id=groups[0].id, community_id=place.community, description="Famiglie serali")
        alone = Cluster(group_id=groups[0].id, community_id=place.community, description="Ufficio")
        foreign = Cluster(group_id=groups[1].id, community_id=place.other, description="Altrove")
        s.add_all([evening, alone, foreign])
        s.flush()
        for who, cluster in (("anna", evening), ("bruno", evening), ("carla", evening), ("dario", alone)):
            s.add(ClusterUser(cluster_id=cluster.id, user_id=place.users[who]))
            meter = Device(pod=f"IT-CURVE-API-{who}", community_id=place.community, user_id=place.users[who],
                           kind=DeviceKind.CONSUMPTION_METER, name=who, default_flow_id=flow.id)  # fmt: skip
            s.add(meter)
            s.flush()
            assert flow.id is not None
            for day in (date(2026, 10, 24), date(2026, 10, 25)):
                day_readings(s, meter, flow.id, day, 30.0, 10.0)
        s.add(ClusterUser(cluster_id=foreign.id, user_id=place.users["dora"]))
        s.commit()
        ids = {"evening": evening.id, "alone": alone.id, "foreign": foreign.id}
        yield place, ids  # type: ignore[misc]


@pytest.fixture(autouse=True)
def october(monkeypatch) -> None:
    monkeypatch.setattr(lab_objectives, "today", lambda now=None: date(2026, 10, 26))


def _put(env: Env, who: str, cluster: int, community: int | None = None, **body):  # noqa: ANN202
    body = {"month": OCT, "target_curve": TARGET, **body}
    return env.call("PUT", who, f"/objectives/clusters/{cluster}", community=community, json=body)


def test_only_the_communitys_admin_sets_a_clusters_curve(env):
    place, ids = env
    for who in ("anna", "auditor", "other-admin", "dora"):
        assert _put(place, who, ids["evening"]).status_code == 403, who
    assert _put(place, "admin", ids["evening"], community=place.other).status_code == 403  # not admin there
    # the other community's admin passes the guard there; its cluster of one is then refused (k)
    assert _put(place, "other-admin", ids["foreign"], community=place.other).status_code == 409
    missing = _put(place, "admin", ids["foreign"])  # another community's cluster, through this one
    assert missing.status_code == 404 and "no cluster" in missing.json()["detail"]
    done = _put(place, "admin", ids["evening"])
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["kind"], body["cluster"], body["members"], body["shown"]) == (
        "cluster_curve",
        "Famiglie serali",
        3,
        True,
    )
    # 6 sun hours × 4 × 30 Wh against 18 × 4 × 10 Wh: half of the day in the PV hours, the target wants 60 %
    assert (body["achieved_pct"], body["target_pct"], body["status"]) == (50.0, 60.0, "behind")
    assert len(body["gaps"]) == 24 and body["gaps"][10] == -1.67 and body["days_with_data"] == 2


def test_a_cluster_below_k_and_a_bad_curve_are_refused_with_a_sentence(env):
    place, ids = env
    small = _put(place, "admin", ids["alone"])
    assert small.status_code == 409 and "fewer than 3 active members" in small.json()["detail"]
    short = _put(place, "admin", ids["evening"], target_curve=TARGET[:23])
    assert short.status_code == 422
    uneven = _put(place, "admin", ids["evening"], target_curve=[1.0] * 24)
    assert uneven.status_code == 422 and "add up to 100" in uneven.json()["detail"]
    past = _put(place, "admin", ids["evening"], month="2026-09")
    assert past.status_code == 422 and "is over" in past.json()["detail"]


def test_members_read_their_own_clusters_objective_only(env):
    place, ids = env
    assert _put(place, "admin", ids["evening"]).status_code == 200
    path = "/objectives/clusters"
    mine = place.call("GET", "anna", path)
    assert mine.status_code == 200 and [o["cluster_id"] for o in mine.json()] == [ids["evening"]]
    assert mine.json()[0]["achieved_pct"] == 50.0
    assert place.call("GET", "dario", path).json() == []  # his cluster has no objective, the others are not his
    assert [o["cluster_id"] for o in place.call("GET", "admin", path).json()] == [ids["evening"]]
    for who in ("auditor", "dora", "other-admin"):
        assert place.call("GET", who, path).status_code == 403, who
    assert place.call("GET", "dora", path, community=place.other).json() == []  # her own community: nothing set
