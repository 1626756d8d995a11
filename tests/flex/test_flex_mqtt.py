"""A dispatch told to the members' gateways over a real Mosquitto with the shipped ACL: each gateway gets its own
command (also after being offline), acknowledges it, and cannot read another's command nor acknowledge for it."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lec.db.enums import DeviceKind
from lec.db.models import Community, Device, User, UserCommunity
from lec.db.models.flex import EventSource, FlexDeclaration, FlexDispatch
from lec.db.session import get_engine, init_db
from lec.flex.declarations import LoadKind
from oracle.flex.commands import CommandPublisher, command_topic, commands_for
from oracle.flex.service import EventRequest, receive_event

pytestmark = pytest.mark.services
PODS = ["IT001E00000001", "IT001E00000002", "IT001E00000003"]


def wait_until(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    for _ in range(int(seconds * 20)):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out: {what}")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'flex.db'}"))
    with Session(engine) as s:
        community = Community(name="MQTT LEC")
        s.add(community)
        s.flush()
        for i, pod in enumerate(PODS):
            user = User(external_id=f"m{i}", name=f"m{i}", surname="T", email=f"m{i}@x.example")
            s.add(user)
            s.flush()
            s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet=f"0x{i + 1:040x}", active=True))
            s.add(
                FlexDeclaration(
                    community_id=community.id, user_id=user.id, kind=LoadKind.SHIFTABLE, power_w=4_000, notice_minutes=0
                )
            )
            s.add(
                Device(
                    pod=pod,
                    community_id=community.id,
                    user_id=user.id,
                    kind=DeviceKind.CONSUMPTION_METER,
                    name=f"meter {i}",
                )
            )
        s.commit()
    yield engine
    engine.dispose()


def gateway(broker, pod: str, password: str, seen: list, ack: bool = True, ack_as: str | None = None) -> mqtt.Client:  # noqa: ANN001
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(pod, password)

    def on_message(c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if not message.payload:
            return
        seen.append((message.topic, json.loads(message.payload)))
        if ack:
            target = ack_as or pod
            c.publish(f"lec/1/{target}/flex-ack", json.dumps({"event": json.loads(message.payload)["event"]}), qos=1)

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe("lec/1/+/flex", qos=1)  # asks for all: the ACL gives only its own
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def test_commands_reach_each_gateway_once_are_acknowledged_and_the_acl_holds(engine: Engine, mosquitto_broker) -> None:
    broker = mosquitto_broker
    passwords = {pod: secrets.token_urlsafe(12) for pod in PODS}
    broker.add_users(passwords)
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    with Session(engine) as s:
        event = receive_event(
            s,
            EventRequest(1, EventSource.REST, "e1", "dso", start, start + timedelta(hours=1), 9_000),
            datetime.now(UTC),
            10_000,
        )
        commands = commands_for(s, event.id)
    assert sorted(c.topic for c in commands) == sorted(command_topic(1, p) for p in PODS)
    assert {c.payload["share_w"] for c in commands} == {3_000}
    seen: dict[str, list] = {pod: [] for pod in PODS}
    # The first gateway is honest; the second tries to acknowledge for the third (the ACL drops it).
    first = gateway(broker, PODS[0], passwords[PODS[0]], seen[PODS[0]])
    second = gateway(broker, PODS[1], passwords[PODS[1]], seen[PODS[1]], ack_as=PODS[2])
    time.sleep(0.5)
    publisher = CommandPublisher(engine, broker.host, broker.port, broker.oracle_username, broker.oracle_password)
    try:
        publisher.send(commands)
        wait_until(lambda: bool(seen[PODS[0]]) and bool(seen[PODS[1]]), "the online gateways' commands")
        assert [t for t, _ in seen[PODS[0]]] == [command_topic(1, PODS[0])]  # its own only
        assert [t for t, _ in seen[PODS[1]]] == [command_topic(1, PODS[1])]
        wait_until(lambda: (event.id, command_topic(1, PODS[0])) in publisher.acked, "the first acknowledgement")
        time.sleep(1)  # the second gateway's forged acknowledgement for the third had time to arrive: dropped
        assert publisher.waiting() == 2 and (event.id, command_topic(1, PODS[2])) not in publisher.acked
        # The third gateway was offline: it finds its command retained when it connects, and acknowledges it.
        third = gateway(broker, PODS[2], passwords[PODS[2]], seen[PODS[2]])
        wait_until(lambda: publisher.waiting() == 1, "the third acknowledgement")
        assert [t for t, _ in seen[PODS[2]]] == [command_topic(1, PODS[2])]
    finally:
        publisher.close()
        for c in (first, second, third):
            c.loop_stop()
            c.disconnect()
    with Session(engine) as s:
        acked = {d.user_id: d.acknowledged_at for d in s.exec(select(FlexDispatch)).all()}
    # The second gateway acknowledged only under another's name: its own dispatch stays unacknowledged.
    assert acked[1] is not None and acked[3] is not None and acked[2] is None
