"""Messages without Keycloak (the voice service over a SQLite file, a real SMTP sink from aiosmtpd): to a
cluster's members and to one member, e-mail copies only for members who opted in and did not mute the category,
each delivered exactly once (inbox and sink) even when two deliveries race, scheduled newsletters delivered by
`deliver_due` / `lec lab deliver` once their time has come, a refused copy retried, and the right to be forgotten."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dapp.api.deps import CommunityAccess
from dapp.api.lab_cli import lab as lab_command
from dapp.api.security import Principal
from dapp.api.services import lab_voice
from dapp.api.services.lab import LabError
from lec.db.models import (
    Cluster,
    ClusterGroup,
    ClusterUser,
    Community,
    LabInboxItem,
    LabMailPreference,
    LabMessage,
    User,
    UserCommunity,
)
from lec.db.session import get_engine, init_db
from lec.settings import Settings
from tests.support.mail import MailSink, body
from tests.support.ports import free_port

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PEOPLE = ("anna", "bruno", "carla", "dario")  # dario is no longer active


@dataclass
class World:
    engine: Engine
    url: str
    community: int
    other: int
    cluster: int
    other_cluster: int
    users: dict[str, int]
    settings: Settings

    def access(self, s: Session) -> CommunityAccess:
        community = s.get(Community, self.community)
        admin = s.get(User, self.users["admin"])
        principal = Principal("sub-admin", "admin", frozenset({"community-admin"}), "lec-dapp")
        return CommunityAccess(community, principal, admin, None, frozenset({"community-admin"}))  # type: ignore[arg-type]

    def member(self, s: Session, who: str) -> CommunityAccess:
        community = s.get(Community, self.community)
        user = s.get(User, self.users[who])
        principal = Principal(f"sub-{who}", who, frozenset({"token-holder"}), "lec-dapp")
        return CommunityAccess(community, principal, user, None, frozenset())  # type: ignore[arg-type]

    def inbox(self, s: Session, who: str) -> list[int]:
        return [m.id for m, _ in lab_voice.inbox(s, self.member(s, who))]  # type: ignore[misc]


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    server = MailSink().start()
    yield server
    server.stop()


def _world(folder, sink: MailSink) -> World:
    url = f"sqlite:///{folder / 'mail.db'}"
    engine = init_db(get_engine(url))
    users = {}
    with Session(engine) as s:
        lab, other = Community(name="Mail LEC"), Community(name="Other LEC")
        s.add_all([lab, other])
        s.flush()
        for i, name in enumerate(("admin", *PEOPLE, "eva")):
            user = User(external_id=f"sub-{name}-{folder.name}", name=name, surname="T", email=f"{name}@example.org")
            s.add(user)
            s.flush()
            users[name] = user.id
            s.add(
                UserCommunity(
                    community_id=other.id if name == "eva" else lab.id,
                    user_id=user.id,
                    wallet=f"0x{i + 1:040x}",
                    active=name != "dario",
                )
            )
        group = ClusterGroup(name="k2", description="two", community_id=lab.id)
        other_group = ClusterGroup(name="k1", description="one", community_id=other.id)
        s.add_all([group, other_group])
        s.flush()
        cluster = Cluster(group_id=group.id, community_id=lab.id, description="mornings")
        other_cluster = Cluster(group_id=other_group.id, community_id=other.id, description="theirs")
        s.add_all([cluster, other_cluster])
        s.flush()
        for name in ("anna", "dario", "eva"):  # dario inactive, eva of another community: neither reached
            s.add(ClusterUser(cluster_id=cluster.id, user_id=users[name]))
        s.commit()
        ids = (lab.id, other.id, cluster.id, other_cluster.id)
    settings = Settings(smtp_host=sink.host, smtp_port=sink.port, smtp_from="lab@lec.test")
    return World(engine, url, *ids, users, settings)  # type: ignore[arg-type]


@pytest.fixture
def world(tmp_path, sink: MailSink) -> World:
    sink.messages.clear()
    return _world(tmp_path, sink)


def _opt_in(w: World, s: Session, who: str, mute: list[str] | None = None) -> None:
    lab_voice.set_preferences(s, w.member(s, who), True, mute or [])


def _send(w: World, s: Session, **kw) -> LabMessage:  # noqa: ANN003
    args = {"subject": "Assemblea", "body": "Giovedì alle 18", "kind": "message", "project_id": None} | kw
    return lab_voice.send_message(s, w.access(s), **args, settings=w.settings, now=NOW)


def test_a_cluster_message_reaches_only_its_active_members_of_this_community(world: World):
    with Session(world.engine) as s:
        m = _send(world, s, cluster_id=world.cluster)
        assert m.recipients == 1 and m.sent_at is not None
        assert world.inbox(s, "anna") == [m.id]
        assert world.inbox(s, "bruno") == [] and world.inbox(s, "dario") == []


def test_a_message_to_one_member_reaches_only_them(world: World):
    with Session(world.engine) as s:
        m = _send(world, s, recipient_id=world.users["carla"])
        assert m.recipients == 1 and world.inbox(s, "carla") == [m.id]
        assert all(world.inbox(s, who) == [] for who in ("anna", "bruno", "admin"))


@pytest.mark.parametrize(
    ("audience", "status", "words"),
    [
        ({"recipient_id": "dario"}, 404, "not an active member"),  # inactive
        ({"recipient_id": "eva"}, 404, "not an active member"),  # another community's member
        ({"cluster_id": "other_cluster"}, 404, "no cluster"),
        ({"cluster_id": "cluster", "recipient_id": "anna"}, 422, "one audience"),
    ],
)
def test_bad_audiences_are_refused_with_a_sentence(world: World, audience: dict, status: int, words: str):
    kw = {k: world.users[v] if k == "recipient_id" else getattr(world, v) for k, v in audience.items()}
    with Session(world.engine) as s, pytest.raises(LabError, match=words) as refused:
        _send(world, s, **kw)
    assert refused.value.status == status
    with Session(world.engine) as s:
        assert s.exec(select(LabMessage)).all() == []


def test_copies_go_once_to_members_who_opted_in_and_not_for_muted_categories(world: World, sink: MailSink):
    with Session(world.engine) as s:
        _opt_in(world, s, "anna")
        _opt_in(world, s, "bruno", mute=["newsletter"])
        lab_voice.set_preferences(s, world.member(s, "carla"), False, [])  # explicitly out
        news = _send(world, s, kind="newsletter", subject="Notizie di novembre")
        note = _send(world, s, subject="Avviso")
        assert news.category == "newsletter" and note.category == "announcements"
        for m in (news, note):  # delivering again changes nothing
            assert lab_voice.deliver(s, m, world.settings, NOW) == 0
            assert lab_voice.email_copies(s, m, world.settings, NOW) == 0
        assert lab_voice.deliver_due(s, world.settings, NOW + timedelta(days=1)) == []
        for who in ("anna", "bruno", "carla"):  # everything is in every inbox, muted or not
            assert world.inbox(s, who) == [note.id, news.id]
    subjects = {who: sorted(str(m["Subject"]) for m in sink.to(f"{who}@example.org")) for who in PEOPLE}
    assert subjects == {
        "anna": ["[Mail LEC] Avviso", "[Mail LEC] Notizie di novembre"],
        "bruno": ["[Mail LEC] Avviso"],  # newsletters muted
        "carla": [],
        "dario": [],
    }
    assert "Giovedì alle 18" in body(sink.to("anna@example.org")[0])
    assert str(sink.to("anna@example.org")[0]["From"]) == "lab@lec.test"


def test_a_scheduled_newsletter_waits_and_is_delivered_once(world: World, sink: MailSink):
    at = NOW + timedelta(hours=3)
    with Session(world.engine) as s:
        _opt_in(world, s, "anna")
        m = _send(world, s, kind="newsletter", send_at=at)
        assert m.sent_at is None and m.recipients == 0
        assert world.inbox(s, "anna") == [] and sink.to("anna@example.org") == []
        assert lab_voice.deliver_due(s, world.settings, at - timedelta(seconds=1)) == []
        assert [d.id for d in lab_voice.deliver_due(s, world.settings, at)] == [m.id]
        assert lab_voice.deliver_due(s, world.settings, at + timedelta(days=2)) == []
        assert world.inbox(s, "anna") == [m.id] and world.inbox(s, "bruno") == [m.id]
        s.refresh(m)
        assert m.recipients == 4 and m.sent_at is not None  # admin, anna, bruno, carla
    assert len(sink.to("anna@example.org")) == 1


def test_two_racing_deliveries_fill_the_inboxes_once(world: World, sink: MailSink):
    with Session(world.engine) as s:
        _opt_in(world, s, "anna")
        mid = _send(world, s, send_at=NOW + timedelta(hours=1)).id
    with Session(world.engine) as a, Session(world.engine) as b:
        ma, mb = a.get(LabMessage, mid), b.get(LabMessage, mid)  # both saw it undelivered
        assert ma is not None and mb is not None and ma.sent_at is None and mb.sent_at is None
        first = lab_voice.deliver(a, ma, world.settings, NOW + timedelta(hours=2))
        second = lab_voice.deliver(b, mb, world.settings, NOW + timedelta(hours=2))
    assert (first, second) == (4, 0)
    with Session(world.engine) as s:
        assert len(s.exec(select(LabInboxItem).where(LabInboxItem.message_id == mid)).all()) == 4
    assert len(sink.to("anna@example.org")) == 1


def test_a_refused_copy_is_released_and_sent_by_the_next_delivery(world: World, sink: MailSink):
    down = world.settings.model_copy(update={"smtp_port": free_port(), "smtp_timeout_seconds": 2.0})
    with Session(world.engine) as s:
        _opt_in(world, s, "anna")
        m = lab_voice.send_message(
            s, world.access(s), "Guasto", "Il contatore", "message", None, settings=down, now=NOW
        )
        assert world.inbox(s, "anna") == [m.id]  # the inbox does not depend on the mail server
        item = s.get(LabInboxItem, (m.id, world.users["anna"]))
        assert item is not None and item.emailed_at is None
        assert lab_voice.email_copies(s, m, world.settings, NOW) == 1
        assert lab_voice.email_copies(s, m, world.settings, NOW) == 0
    assert len(sink.to("anna@example.org")) == 1


def test_without_an_smtp_server_nothing_is_mailed_and_the_inbox_still_works(world: World, sink: MailSink):
    with Session(world.engine) as s:
        _opt_in(world, s, "anna")
        m = lab_voice.send_message(s, world.access(s), "Ciao", "Testo", "message", None, settings=Settings(), now=NOW)
        assert world.inbox(s, "anna") == [m.id]
    assert sink.messages == []


def test_preferences_refuse_unknown_categories_and_keep_a_stable_order(world: World):
    with Session(world.engine) as s:
        with pytest.raises(LabError, match="Unknown category 'spam'"):
            lab_voice.set_preferences(s, world.member(s, "anna"), True, ["spam"])
        pref = lab_voice.set_preferences(s, world.member(s, "anna"), True, ["project", "newsletter", "project"])
        assert pref.muted == "newsletter,project" and lab_voice.muted(pref) == {"newsletter", "project"}
        assert lab_voice.preferences(s, world.member(s, "bruno")).email is False  # off until opted in


def test_lec_lab_deliver_delivers_what_is_due_once(world: World, monkeypatch):
    monkeypatch.setenv("LEC_SMTP_HOST", world.settings.smtp_host or "")
    monkeypatch.setenv("LEC_SMTP_PORT", str(world.settings.smtp_port))
    with Session(world.engine) as s:
        mid = _send(world, s, kind="newsletter", send_at=NOW - timedelta(minutes=1) + timedelta(seconds=0)).id
        future = _send(world, s, kind="newsletter", send_at=datetime(2999, 1, 1, tzinfo=UTC)).id
    # the first one was due at sending already (send_at in the past): delivered then
    runner = CliRunner()
    first = runner.invoke(lab_command, ["deliver", "--database-url", world.url])
    assert first.exit_code == 0, first.output
    assert "No scheduled message is due." in first.output
    with Session(world.engine) as s:
        m = s.get(LabMessage, mid)
        assert m is not None and m.sent_at is not None
        s.exec(select(LabMessage).where(LabMessage.id == future)).one().send_at = NOW  # now due
        s.commit()
    second = runner.invoke(lab_command, ["deliver", "--database-url", world.url])
    assert second.exit_code == 0 and f"Delivered message {future}" in second.output and "to 4 inboxes" in second.output
    third = runner.invoke(lab_command, ["deliver", "--database-url", world.url])
    assert "No scheduled message is due." in third.output


def test_forgetting_a_member_removes_their_preferences_and_the_messages_to_them_alone(world: World):
    with Session(world.engine) as s:
        _opt_in(world, s, "carla")
        personal = _send(world, s, recipient_id=world.users["carla"]).id
        everyone = _send(world, s).id
        lab_voice.forget_voice(s, world.users["carla"])
        s.commit()
        assert s.get(LabMessage, personal) is None and s.get(LabMessage, everyone) is not None
        assert s.get(LabMailPreference, (world.community, world.users["carla"])) is None
        assert world.inbox(s, "carla") == [] and world.inbox(s, "anna") == [everyone]


# A model of delivery: whatever the order of sends (now or scheduled), deliveries (at any time, repeated) and
# preference changes, each delivered message is in each recipient's inbox once, no undelivered one is, and each
# opted-in, non-muted recipient got exactly one copy of it.
ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.sampled_from(["message", "newsletter"]), st.integers(-2, 4)),
        st.tuples(st.just("deliver"), st.integers(0, 6)),
        st.tuples(st.just("prefs"), st.sampled_from(["anna", "bruno", "carla"]), st.booleans(), st.booleans()),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_delivery_matches_the_model(tmp_path_factory, sink: MailSink, actions):
    sink.messages.clear()
    w = _world(tmp_path_factory.mktemp("model"), sink)
    prefs = {who: (False, False) for who in ("anna", "bruno", "carla")}  # (email, newsletter muted)
    expected_mail: dict[str, int] = {who: 0 for who in prefs}
    due: dict[int, tuple[int, str]] = {}  # undelivered: id → (hour, kind)
    delivered: set[int] = set()
    with Session(w.engine) as s:

        def on_delivery(kind: str) -> None:
            for who, (email, muted) in prefs.items():
                if email and not (muted and kind == "newsletter"):
                    expected_mail[who] += 1

        for action in actions:
            if action[0] == "send":
                _, kind, hour = action
                m = _send(w, s, kind=kind, send_at=NOW + timedelta(hours=hour) if hour else None)
                if hour <= 0:
                    delivered.add(m.id)  # type: ignore[arg-type]
                    on_delivery(kind)
                else:
                    due[m.id] = (hour, kind)  # type: ignore[index]
            elif action[0] == "deliver":
                at = NOW + timedelta(hours=action[1])
                got = {m.id for m in lab_voice.deliver_due(s, w.settings, at)}
                now_due = {mid for mid, (hour, _) in due.items() if hour <= action[1]}
                assert got == now_due
                for mid in sorted(now_due):
                    on_delivery(due.pop(mid)[1])
                    delivered.add(mid)
            else:
                _, who, email, mute = action
                lab_voice.set_preferences(s, w.member(s, who), email, ["newsletter"] if mute else [])
                prefs[who] = (email, mute)
        for who in prefs:
            assert sorted(w.inbox(s, who)) == sorted(delivered)
    assert {who: len(sink.to(f"{who}@example.org")) for who in prefs} == expected_mail


def test_a_message_whose_sending_stopped_before_delivery_is_delivered_by_the_next_run(world: World):
    with Session(world.engine) as s:
        message = LabMessage(community_id=world.community, subject="Interrotto", body="…", send_at=NOW)  # no sent_at
        s.add(message)
        s.commit()
        assert [m.id for m in lab_voice.deliver_due(s, world.settings, NOW)] == [message.id]
        assert world.inbox(s, "anna") == [message.id]
