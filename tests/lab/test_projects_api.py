"""Neighbourhood projects through the API with the real Keycloak: the admin defines, members suggest, join, leave,
comment and rate; who may do what (member / admin / auditor, own and other community); the statistics with groups
below k hidden; the right to be forgotten."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from dapp.api.services import lab as lab_service
from lec.db.models import LabProjectComment, LabProjectMember
from tests.lab.lab_helpers import Env


@pytest.fixture(scope="module")
def env(make_lab_env) -> Iterator[Env]:
    with make_lab_env("proj", ("Projects LEC", "Other LEC")) as place:
        yield place


PROJECT = {"title": "Shared cargo bike", "description": "A cargo bike for the street", "kind": "sharing", "capacity": 3}


def _create(env: Env, who: str = "admin", **body) -> dict:
    reply = env.call("POST", who, "/projects", json={**PROJECT, **body})
    assert reply.status_code == 201, reply.text
    return reply.json()


def _decide(env: Env, pid: int, state: str, who: str = "admin", **body):  # noqa: ANN202
    return env.call("POST", who, f"/projects/{pid}/decision", json={"state": state, **body})


def test_admin_defines_open_projects_and_members_suggest(env: Env):
    assert _create(env)["state"] == "open"
    suggestion = _create(env, "anna", title="Repair café", kind="co-design")
    assert suggestion["state"] == "suggested" and suggestion["suggested_by_me"]
    seen_by = {who: [p["id"] for p in env.call("GET", who, "/projects").json()] for who in ("anna", "bruno", "admin")}
    assert suggestion["id"] in seen_by["anna"] and suggestion["id"] in seen_by["admin"]
    assert suggestion["id"] not in seen_by["bruno"]  # a suggestion is not public until accepted
    declined = _decide(env, suggestion["id"], "declined")
    assert declined.status_code == 409 and "reason" in declined.json()["detail"]
    merged = _decide(env, suggestion["id"], "declined", reason="Merged into the cargo bike project")
    assert merged.json()["state"] == "declined" and merged.json()["decision_reason"].startswith("Merged")


@pytest.mark.parametrize("who", ["anna", "auditor", "other-admin", "dora"])
def test_only_the_community_admin_decides(env: Env, who: str):
    project = _create(env)
    assert _decide(env, project["id"], "active", who).status_code == 403


@pytest.mark.parametrize("who", ["auditor", "other-admin", "dora"])
def test_people_outside_the_community_neither_suggest_nor_join(env: Env, who: str):
    project = _create(env)
    assert env.call("POST", who, "/projects", json=PROJECT).status_code == 403
    assert env.call("POST", who, f"/projects/{project['id']}/participants").status_code == 403


def test_outsiders_do_not_read_and_other_communities_do_not_reach(env: Env):
    project = _create(env)
    assert env.call("GET", "dora", "/projects").status_code == 403
    assert env.call("GET", "auditor", "/projects").status_code == 200
    reply = env.call(
        "POST", "other-admin", f"/projects/{project['id']}/decision", community=env.other, json={"state": "active"}
    )
    assert reply.status_code == 404


def test_join_leave_capacity_comment_and_rating(env: Env):
    project = _create(env, capacity=2)
    pid = project["id"]
    assert env.call("POST", "anna", f"/projects/{pid}/participants").json()["participants"] == 1
    again = env.call("POST", "anna", f"/projects/{pid}/participants")
    assert again.status_code == 409 and "already" in again.json()["detail"]
    assert env.call("POST", "bruno", f"/projects/{pid}/participants").status_code == 200
    full = env.call("POST", "carla", f"/projects/{pid}/participants")
    assert full.status_code == 409 and "full" in full.json()["detail"]
    assert env.call("DELETE", "bruno", f"/projects/{pid}/participants").json()["participants"] == 1
    assert env.call("POST", "carla", f"/projects/{pid}/participants").status_code == 200
    assert env.call("POST", "bruno", f"/projects/{pid}/comments", json={"text": "Great idea"}).status_code == 201
    comments = env.call("GET", "anna", f"/projects/{pid}/comments").json()
    assert [c["text"] for c in comments] == ["Great idea"] and comments[0]["mine"] is False
    early = env.call("PUT", "anna", f"/projects/{pid}/rating", json={"stars": 5})
    assert early.status_code == 409 and "completed" in early.json()["detail"]
    assert _decide(env, pid, "completed").status_code == 409  # open cannot jump to completed
    assert _decide(env, pid, "active").status_code == 200
    assert _decide(env, pid, "completed", benefits_recorded=120).json()["benefits_recorded"] == 120
    assert env.call("PUT", "anna", f"/projects/{pid}/rating", json={"stars": 4}).status_code == 204
    outsider = env.call("PUT", "bruno", f"/projects/{pid}/rating", json={"stars": 1})  # left before the end
    assert outsider.status_code == 403 and "took part" in outsider.json()["detail"]
    assert env.call("PUT", "anna", f"/projects/{pid}/rating", json={"stars": 9}).status_code == 422
    over = env.call("DELETE", "anna", f"/projects/{pid}/participants")
    assert over.status_code == 409


def test_statistics_hide_small_groups(env: Env):
    stats = env.call("GET", "auditor", "/projects-statistics").json()
    assert stats["k"] == 3 and stats["completed"] >= 1
    assert stats["ratings"] == 1 and stats["satisfaction"] is None  # one rating: not shown
    assert stats["adhesion_rate"] is not None and 0 < stats["adhesion_rate"] <= 1
    project = _create(env)
    pid = project["id"]
    for who in ("anna", "bruno", "carla"):
        env.call("POST", who, f"/projects/{pid}/participants")
    _decide(env, pid, "active")
    _decide(env, pid, "completed", benefits_recorded=30)
    for who, stars in (("anna", 5), ("bruno", 3), ("carla", 4)):
        assert env.call("PUT", who, f"/projects/{pid}/rating", json={"stars": stars}).status_code == 204
    stats = env.call("GET", "anna", "/projects-statistics").json()
    assert stats["ratings"] == 4 and stats["satisfaction"] == 4.0
    assert stats["benefits_recorded"] >= 150


def test_forgetting_a_person_removes_their_participation_and_comments(env: Env):
    project = _create(env)
    pid = project["id"]
    env.call("POST", "dario", f"/projects/{pid}/participants")
    env.call("POST", "dario", f"/projects/{pid}/comments", json={"text": "Count me in"})
    with Session(env.engine) as s:  # type: ignore[arg-type]
        lab_service.forget_person(s, env.users["dario"])
        s.commit()
        assert not s.exec(select(LabProjectMember).where(LabProjectMember.user_id == env.users["dario"])).all()
        assert not s.exec(select(LabProjectComment).where(LabProjectComment.user_id == env.users["dario"])).all()
    assert env.call("GET", "anna", f"/projects/{pid}/comments").json() == []
