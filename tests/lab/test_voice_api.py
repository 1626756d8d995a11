"""Messages and feedback through the API with the real Keycloak: only the community's admin sends, to every
member or to a project's participants, each recipient gets the message once and reads only their own inbox;
members leave feedback scored for sentiment and only the admin reads the summary (groups below k hidden); the
right to be forgotten."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from dapp.api.services import lab_voice
from lec.db.models import LabFeedback, LabInboxItem, LabMessage
from tests.lab.lab_helpers import MEMBERS, Env


@pytest.fixture(scope="module")
def env(make_lab_env) -> Iterator[Env]:
    # the feeds' tests serve their feeds on loopback
    with make_lab_env("voice", ("Voice LEC", "Other voice LEC"), lab_feeds_allow_private=True) as place:
        yield place


def _send(env: Env, who: str = "admin", community: int | None = None, **body):  # noqa: ANN202
    body = {"subject": "Assemblea", "body": "Giovedì alle 18", **body}
    return env.call("POST", who, "/messages", community=community, json=body)


def _inbox(env: Env, who: str) -> dict:
    reply = env.call("GET", who, "/inbox")
    assert reply.status_code == 200, reply.text
    return reply.json()


def _project(env: Env, *participants: str) -> int:
    project = env.call(
        "POST", "admin", "/projects", json={"title": "Orto condiviso", "description": "Un orto", "kind": "sharing"}
    ).json()
    for who in participants:
        assert env.call("POST", who, f"/projects/{project['id']}/participants").status_code == 200
    return project["id"]


def test_a_message_to_all_members_lands_once_in_each_inbox(env: Env):
    before = {who: _inbox(env, who) for who in (*MEMBERS, "admin")}
    sent = _send(env, subject="Newsletter di dicembre", kind="newsletter")
    assert sent.status_code == 201, sent.text
    assert sent.json()["recipients"] == 5 and sent.json()["read"] == 0  # four members and the admin (a member too)
    for who in (*MEMBERS, "admin"):
        inbox = _inbox(env, who)
        assert inbox["unread"] == before[who]["unread"] + 1
        mine = [m for m in inbox["messages"] if m["id"] == sent.json()["id"]]
        assert len(mine) == 1 and mine[0]["kind"] == "newsletter" and mine[0]["read"] is False
    assert env.call("GET", "dora", "/inbox").status_code == 403  # not a member of this community
    assert env.call("GET", "dora", "/inbox", community=env.other).json() == {"unread": 0, "messages": []}


def test_read_and_unread_touch_only_the_callers_own_inbox(env: Env):
    mid = _send(env).json()["id"]
    assert env.call("POST", "anna", f"/inbox/{mid}/read").status_code == 204
    assert env.call("POST", "anna", f"/inbox/{mid}/read").status_code == 204  # again: still read, once
    anna = {m["id"]: m["read"] for m in _inbox(env, "anna")["messages"]}
    bruno = {m["id"]: m["read"] for m in _inbox(env, "bruno")["messages"]}
    assert anna[mid] is True and bruno[mid] is False
    sent = {m["id"]: m for m in env.call("GET", "admin", "/messages").json()}
    assert sent[mid]["read"] == 1
    assert env.call("DELETE", "anna", f"/inbox/{mid}/read").status_code == 204
    assert {m["id"]: m["read"] for m in _inbox(env, "anna")["messages"]}[mid] is False


def test_a_project_message_reaches_only_its_participants(env: Env):
    pid = _project(env, "anna", "carla")
    sent = _send(env, project_id=pid, subject="Turni dell'orto")
    assert sent.status_code == 201 and sent.json()["recipients"] == 2
    got = {who: sent.json()["id"] in [m["id"] for m in _inbox(env, who)["messages"]] for who in MEMBERS}
    assert got == {"anna": True, "bruno": False, "carla": True, "dario": False}
    empty = _send(env, project_id=_project(env))
    assert empty.status_code == 409 and "no participants" in empty.json()["detail"]
    assert _send(env, project_id=999_999).status_code == 404


@pytest.mark.parametrize("who", ["anna", "auditor", "other-admin", "dora"])
def test_only_the_community_admin_sends_and_lists_sent_messages(env: Env, who: str):
    assert _send(env, who).status_code == 403
    assert env.call("GET", who, "/messages").status_code == 403


def test_another_community_is_out_of_reach(env: Env):
    mid = _send(env).json()["id"]
    # the other community's admin writes to their own members only; our message is not in their members' inboxes
    theirs = _send(env, "other-admin", community=env.other)
    assert theirs.status_code == 201 and theirs.json()["recipients"] == 1  # dora
    assert [m["id"] for m in _inbox(env, "anna")["messages"]].count(theirs.json()["id"]) == 0
    assert env.call("POST", "dora", f"/inbox/{mid}/read", community=env.other).status_code == 404
    assert env.call("POST", "dora", f"/inbox/{mid}/read").status_code == 403  # not a member of ours
    assert env.call("GET", "auditor", "/inbox").status_code == 403  # an auditor has no inbox here
    # a member cannot mark a message that is not in their inbox (a project message to others)
    pid = _project(env, "bruno")
    private = _send(env, project_id=pid).json()["id"]
    reply = env.call("POST", "dario", f"/inbox/{private}/read")
    assert reply.status_code == 404 and "inbox" in reply.json()["detail"]


def test_bad_message_bodies_get_a_sentence(env: Env):
    assert _send(env, subject="").status_code == 422
    assert _send(env, kind="spam").status_code == 422
    assert _send(env, extra=1).status_code == 422


def test_feedback_is_scored_and_only_the_admin_reads_the_summary(env: Env):
    pid = _project(env, "anna")
    texts = [
        ("anna", "L'orto è bellissimo, grazie a tutti!", 5, pid, "positive"),
        ("bruno", "La bolletta non è chiara e l'app non funziona.", 2, None, "negative"),
        ("carla", "The meeting was really useful, thanks", 4, None, "positive"),
        ("dario", "Non male, ma i turni sono troppo complicati", 3, pid, None),
    ]
    for who, text, stars, project, label in texts:
        reply = env.call("POST", who, "/feedback", json={"text": text, "rating": stars, "project_id": project})
        assert reply.status_code == 201, reply.text
        body = reply.json()
        assert -1 <= body["sentiment"] <= 1 and body["mine"] is True
        if label:
            assert body["label"] == label, (text, body)
    assert reply.json()["language"] == "it"
    summary = env.call("GET", "admin", "/feedback/summary")
    assert summary.status_code == 200
    s = summary.json()
    assert s["count"] >= 4 and s["positive"] >= 2 and s["negative"] >= 1
    assert s["positive"] + s["neutral"] + s["negative"] == s["count"]
    assert s["average_rating"] is not None and 1 <= s["average_rating"] <= 5
    project_group = next(g for g in s["groups"] if g["project_id"] == pid)
    assert project_group["count"] == 2 and project_group["average_rating"] is None  # 2 < k: not shown
    assert project_group["title"] == "Orto condiviso"
    assert s["latest"][0]["text"].startswith("Non male") and "user_id" not in s["latest"][0]
    assert all(f["mine"] is False for f in s["latest"])
    mine = env.call("GET", "bruno", "/feedback/mine").json()
    assert [f["text"] for f in mine] == ["La bolletta non è chiara e l'app non funziona."]


@pytest.mark.parametrize("who", ["anna", "auditor", "other-admin", "dora"])
def test_the_summary_is_the_community_admins(env: Env, who: str):
    assert env.call("GET", who, "/feedback/summary").status_code == 403


@pytest.mark.parametrize("who", ["auditor", "other-admin", "dora"])
def test_people_outside_the_community_give_no_feedback(env: Env, who: str):
    reply = env.call("POST", who, "/feedback", json={"text": "Ciao", "rating": 3})
    assert reply.status_code == 403


def test_feedback_refuses_bad_ratings_and_projects_not_running(env: Env):
    assert env.call("POST", "anna", "/feedback", json={"text": "ok", "rating": 6}).status_code == 422
    assert env.call("POST", "anna", "/feedback", json={"text": "", "rating": 3}).status_code == 422
    suggestion = env.call(
        "POST", "anna", "/projects", json={"title": "Idea mia", "description": "Una idea", "kind": "co-design"}
    ).json()
    refused = env.call("POST", "anna", "/feedback", json={"text": "bella", "rating": 5, "project_id": suggestion["id"]})
    assert refused.status_code == 409 and "suggested" in refused.json()["detail"]
    other = env.call("POST", "anna", "/feedback", json={"text": "bella", "rating": 5, "project_id": 999_999})
    assert other.status_code == 404


def test_forgetting_a_person_removes_inbox_and_feedback_and_unsigns_messages(env: Env):
    env.call("POST", "dario", "/feedback", json={"text": "Tutto bene", "rating": 4})
    mid = _send(env).json()["id"]
    with Session(env.engine) as s:  # type: ignore[arg-type]
        lab_voice.forget_voice(s, env.users["dario"])
        lab_voice.forget_voice(s, env.users["admin"])
        s.commit()
        assert not s.exec(select(LabInboxItem).where(LabInboxItem.user_id == env.users["dario"])).all()
        assert not s.exec(select(LabFeedback).where(LabFeedback.user_id == env.users["dario"])).all()
        message = s.get(LabMessage, mid)
        assert message is not None and message.sender_id is None
        assert s.exec(select(LabInboxItem).where(LabInboxItem.message_id == mid)).all()  # the others keep it
    assert _inbox(env, "dario")["messages"] == []


def test_the_summary_has_a_trend_by_month_or_week_and_themes(env: Env):
    for who in ("anna", "bruno", "carla"):
        env.call("POST", who, "/feedback", json={"text": f"Il contatore di {who} è guasto", "rating": 2})
    monthly = env.call("GET", "admin", "/feedback/summary").json()
    assert monthly["by"] == "month" and monthly["trend"]
    assert all(len(p["period"]) == 7 for p in monthly["trend"])  # 2026-11
    assert sum(p["count"] for p in monthly["trend"]) == monthly["count"]
    assert {"word": "contatore", "texts": 3} in monthly["themes"]
    assert not {"il", "di", "è"} & {t["word"] for t in monthly["themes"]}
    weekly = env.call("GET", "admin", "/feedback/summary", params={"by": "week"}).json()
    assert weekly["by"] == "week" and all("-W" in p["period"] for p in weekly["trend"])
    assert env.call("GET", "admin", "/feedback/summary", params={"by": "year"}).status_code == 422
    assert env.call("GET", "anna", "/feedback/summary", params={"by": "week"}).status_code == 403


def test_preferences_are_each_persons_own(env: Env):
    assert env.call("GET", "anna", "/inbox/preferences").json() == {"email": False, "muted": []}
    put = env.call("PUT", "anna", "/inbox/preferences", json={"email": True, "muted": ["newsletter"]})
    assert put.status_code == 200 and put.json() == {"email": True, "muted": ["newsletter"]}
    assert env.call("GET", "anna", "/inbox/preferences").json()["email"] is True
    assert env.call("GET", "bruno", "/inbox/preferences").json()["email"] is False  # not anna's
    bad = env.call("PUT", "anna", "/inbox/preferences", json={"email": True, "muted": ["spam"]})
    assert bad.status_code == 422


@pytest.mark.parametrize("who", ["auditor", "other-admin", "dora"])
def test_outsiders_have_no_preferences_here(env: Env, who: str):
    assert env.call("GET", who, "/inbox/preferences").status_code == 403
    assert env.call("PUT", who, "/inbox/preferences", json={"email": True, "muted": []}).status_code == 403


def test_a_message_to_one_member_and_a_scheduled_newsletter_through_the_api(env: Env):
    one = _send(env, subject="Solo per Carla", recipient_id=env.users["carla"])
    assert one.status_code == 201 and one.json()["recipients"] == 1 and one.json()["category"] == "announcements"
    assert "Solo per Carla" in [m["subject"] for m in _inbox(env, "carla")["messages"]]
    assert "Solo per Carla" not in [m["subject"] for m in _inbox(env, "anna")["messages"]]
    outsider = _send(env, subject="Per Dora", recipient_id=env.users["dora"])  # another community's member
    assert outsider.status_code == 404 and "not an active member" in outsider.json()["detail"]
    both = _send(env, subject="Due pubblici", recipient_id=env.users["carla"], cluster_id=1)
    assert both.status_code == 422
    later = _send(env, subject="Newsletter del 2999", kind="newsletter", send_at="2999-12-01T09:00:00+01:00")
    assert later.status_code == 201 and later.json()["sent_at"] is None and later.json()["recipients"] == 0
    assert "Newsletter del 2999" not in [m["subject"] for m in _inbox(env, "anna")["messages"]]
    naive = _send(env, subject="Senza fuso", send_at="2999-12-01T09:00:00")
    assert naive.status_code == 422
    assert _send(env, who="anna", subject="Io no", recipient_id=env.users["carla"]).status_code == 403


@pytest.fixture(scope="module")
def feed_server() -> Iterator[str]:
    import http.server
    import threading
    from functools import partial
    from pathlib import Path

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(Path(__file__).with_name("data")))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_the_admin_follows_a_feed_and_its_voices_reach_the_dashboard(env: Env, feed_server: str):
    body = {"url": f"{feed_server}/feed_news.rss", "keywords": ["San Salvario"]}
    feed = env.call("POST", "admin", "/voices/feeds", json=body)
    assert feed.status_code == 201, feed.text
    fid = feed.json()["id"]
    fetched = env.call("POST", "admin", f"/voices/feeds/{fid}/fetch")
    assert fetched.status_code == 200 and fetched.json() == {"feed_id": fid, "added": 2}
    assert env.call("POST", "admin", f"/voices/feeds/{fid}/fetch").json()["added"] == 0
    external = env.call("GET", "admin", "/feedback/summary").json()["external"]
    assert external["count"] == 2 and external["positive"] == 1 and external["negative"] == 1
    assert external["latest"][0]["source"] == "Cronaca di Quartiere"
    listed = env.call("GET", "admin", "/voices/feeds").json()
    assert [f["id"] for f in listed] == [fid] and listed[0]["error"] is None
    assert env.call("POST", "admin", "/voices/feeds", json=body).status_code == 409  # already followed
    local = env.call("POST", "admin", "/voices/feeds", json={"url": "file:///etc/passwd", "keywords": ["orto"]})
    assert local.status_code == 422
    gone = env.call("POST", "admin", "/voices/feeds", json={"url": f"{feed_server}/nope.rss", "keywords": ["orto"]})
    broken = env.call("POST", "admin", f"/voices/feeds/{gone.json()['id']}/fetch")
    assert broken.status_code == 502 and "answered 404" in broken.json()["detail"]
    assert env.call("DELETE", "admin", f"/voices/feeds/{gone.json()['id']}").status_code == 204
    assert env.call("GET", "other-admin", f"/voices/feeds/{fid}/fetch").status_code in (403, 405)


@pytest.mark.parametrize("who", ["anna", "auditor", "other-admin", "dora"])
def test_only_the_community_admin_manages_feeds(env: Env, who: str):
    assert env.call("GET", who, "/voices/feeds").status_code == 403
    body = {"url": "http://127.0.0.1:9/feed.rss", "keywords": ["orto"]}
    assert env.call("POST", who, "/voices/feeds", json=body).status_code == 403
    assert env.call("POST", who, "/voices/feeds/1/fetch").status_code == 403
    assert env.call("DELETE", who, "/voices/feeds/1").status_code == 403


def test_the_admin_sets_an_objective_and_members_read_its_progress(env: Env):
    from datetime import datetime

    from lec.calendar import ROME

    month = datetime.now(ROME).strftime("%Y-%m")  # the community's month
    put = env.call("PUT", "admin", "/objectives", json={"month": month, "target_pct": 30})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["month"] == month and body["target_pct"] == 30 and body["status"] in ("no_data", "on_track", "behind")
    again = env.call("PUT", "admin", "/objectives", json={"month": month, "target_pct": 40}).json()
    assert again["id"] == body["id"] and again["target_pct"] == 40  # replaced
    listed = env.call("GET", "anna", "/objectives")
    assert listed.status_code == 200 and [o["id"] for o in listed.json()] == [body["id"]]
    assert env.call("PUT", "admin", "/objectives", json={"month": "2020-01", "target_pct": 30}).status_code == 422
    assert env.call("PUT", "admin", "/objectives", json={"month": month, "target_pct": 130}).status_code == 422
    assert env.call("PUT", "anna", "/objectives", json={"month": month, "target_pct": 30}).status_code == 403


@pytest.mark.parametrize("who", ["auditor", "other-admin", "dora"])
def test_outsiders_neither_read_nor_set_objectives(env: Env, who: str):
    assert env.call("GET", who, "/objectives").status_code == 403
    assert env.call("PUT", who, "/objectives", json={"month": "2999-01", "target_pct": 30}).status_code == 403
