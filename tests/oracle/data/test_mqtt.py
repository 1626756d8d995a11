"""The MQTT bridge against a real Mosquitto (tests/conftest.py): auth, ACL, feedback, restarts, 10 000 readings."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from data_world import World, build_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lec.db.session import get_engine, init_db
from oracle.ingest.mqtt import BridgeConfig, MqttBridge

pytestmark = pytest.mark.services
BASE = datetime(2026, 2, 1, tzinfo=UTC)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Liveness wait with a generous ceiling; the assertions that follow check the outcome, not the time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}.")
        time.sleep(0.02)


class Device:
    """A meter gateway: logs in as its POD, publishes readings with QoS 1, listens to its feedback."""

    def __init__(self, broker: Any, pod: str, password: str, community: int) -> None:
        self.pod, self.community = pod, community
        self.feedback: queue.Queue[dict[str, Any]] = queue.Queue()
        self.subscribed: queue.Queue[list[Any]] = queue.Queue()
        self.connect_reason: queue.Queue[Any] = queue.Queue()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{pod}-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(pod, password)
        self.client.on_connect = lambda c, u, f, reason, p: self.connect_reason.put(reason)
        self.client.on_message = lambda c, u, m: self.feedback.put(json.loads(m.payload))
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.subscribed.put(codes)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        reason = self.connect_reason.get(timeout=30)
        if reason.is_failure:
            self.close()
            raise ConnectionRefusedError(str(reason))

    def topic(self, kind: str = "readings", pod: str | None = None) -> str:
        return f"lec/{self.community}/{pod or self.pod}/{kind}"

    def listen(self, pod: str | None = None) -> list[Any]:
        self.client.subscribe(self.topic("feedback", pod), qos=1)
        return self.subscribed.get(timeout=30)

    def publish(self, payload: Any, pod: str | None = None) -> mqtt.MQTTMessageInfo:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        info = self.client.publish(self.topic("readings", pod), data, qos=1)
        info.wait_for_publish(timeout=30)
        return info

    def next_feedback(self) -> dict[str, Any]:
        return self.feedback.get(timeout=60)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def reading(world: World, k: int, quantity: str = "load", energy: float | None = None) -> dict[str, Any]:
    value = energy if energy is not None else (-1 if quantity == "production" else 1) * (100.0 + k % 50)
    timestamp = (BASE + timedelta(minutes=15 * k)).isoformat()
    return {"device": world.pods[quantity], "timestamp": timestamp, "energy_wh": value}


def stored_count(world: World) -> int:
    with world.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT COUNT(*) FROM counterreading")).scalar_one())


@pytest.fixture
def mqtt_world(mosquitto_broker: Any, tmp_path: Path) -> Iterator[tuple[World, Callable[..., MqttBridge], dict]]:
    world = build_world(init_db(get_engine(f"sqlite:///{tmp_path / 'lec.db'}")))
    passwords = {pod: f"pw-{pod}" for pod in world.pods.values()}
    mosquitto_broker.add_users(passwords)
    client_id = f"lec-oracle-test-{uuid.uuid4().hex[:8]}"
    bridges: list[MqttBridge] = []

    def make_bridge(start: bool = True, **overrides: Any) -> MqttBridge:
        config = BridgeConfig(
            host=mosquitto_broker.host,
            port=mosquitto_broker.port,
            username=mosquitto_broker.oracle_username,
            password=mosquitto_broker.oracle_password,
            client_id=client_id,
            **overrides,
        )
        bridge = MqttBridge(world.engine, config)
        bridges.append(bridge)
        if start:
            bridge.start()
            wait_until(bridge.connected.is_set, "the bridge to connect")
        return bridge

    yield world, make_bridge, passwords
    for bridge in bridges:
        bridge.stop()
    _forget_session(mosquitto_broker, client_id)


def _forget_session(broker: Any, client_id: str) -> None:
    # A clean start with no session expiry discards the persistent session (and its queue) on the broker.
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(broker.oracle_username, broker.oracle_password)
    try:
        client.connect(broker.host, broker.port, clean_start=True)
        client.loop_start()
        wait_until(client.is_connected, "the cleanup connection", timeout=30)
    finally:
        client.loop_stop()
        client.disconnect()


def test_wrong_password_is_refused(mosquitto_broker: Any, mqtt_world: Any) -> None:
    world, _, _ = mqtt_world
    with pytest.raises(ConnectionRefusedError, match="[Nn]ot authori[sz]ed|[Bb]ad user name or password"):
        Device(mosquitto_broker, world.pods["load"], "wrong-password", world.community_id)


def test_valid_and_invalid_readings_in_one_message(mosquitto_broker: Any, mqtt_world: Any) -> None:
    world, make_bridge, passwords = mqtt_world
    make_bridge()
    device = Device(mosquitto_broker, world.pods["load"], passwords[world.pods["load"]], world.community_id)
    try:
        assert [c.value for c in device.listen()] == [1]  # granted QoS 1
        device.publish({"id": "msg-1", "readings": [reading(world, 1), reading(world, 2, energy=-5.0), "junk"]})
        answer = device.next_feedback()
    finally:
        device.close()
    assert answer["id"] == "msg-1" and answer["accepted"] == 1 and answer["duplicates"] == 0
    assert [(r["index"], r["reason"]) for r in answer["rejected"]] == [(1, "sign_violation"), (2, "malformed")]
    assert all(r["message"].endswith(".") for r in answer["rejected"])
    assert stored_count(world) == 1
    with world.engine.connect() as connection:
        reasons = connection.execute(sa.text("SELECT reason, source, source_ref FROM anomalies ORDER BY id")).all()
    topic = f"lec/{world.community_id}/{world.pods['load']}/readings"
    assert [tuple(r) for r in reasons] == [
        ("sign_violation", "mqtt", f"{topic}[1]"),
        ("malformed", "mqtt", f"{topic}[2]"),
    ]


def test_a_device_cannot_publish_or_listen_under_another_device(mosquitto_broker: Any, mqtt_world: Any) -> None:
    world, make_bridge, passwords = mqtt_world
    make_bridge()
    me, other = world.pods["load"], world.pods["exchange"]
    device = Device(mosquitto_broker, me, passwords[me], world.community_id)
    neighbour = Device(mosquitto_broker, other, passwords[other], world.community_id)
    try:
        device.listen(pod=other)  # Mosquitto 2.0 grants the subscription but must deliver nothing on it
        device.listen()
        neighbour.listen()
        device.publish({"device": other, "timestamp": BASE.isoformat(), "energy_wh": -1.0}, pod=other)
        neighbour.publish(reading(world, 3, "exchange"))
        assert neighbour.next_feedback()["accepted"] == 1
        device.publish(reading(world, 7))  # our own sentinel: its answer comes after anything meant for others
        mine = device.next_feedback()
        assert mine["accepted"] == 1 and device.feedback.empty()
    finally:
        device.close()
        neighbour.close()
    with world.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT d.pod, c.energy_wh FROM counterreading c JOIN devices d ON d.id = c.device_id ORDER BY d.pod"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(me, 107.0), (other, 103.0)]  # the forged -1.0 for `other` never arrived


def test_ten_thousand_readings_end_to_end(mosquitto_broker: Any, mqtt_world: Any) -> None:
    world, make_bridge, passwords = mqtt_world
    bridge = make_bridge()
    device = Device(mosquitto_broker, world.pods["load"], passwords[world.pods["load"]], world.community_id)
    try:
        device.listen()
        for m in range(1000):  # 1 000 messages of 10 readings
            info = device.client.publish(
                device.topic(), json.dumps([reading(world, m * 10 + i) for i in range(10)]), qos=1
            )
        info.wait_for_publish(timeout=60)
        wait_until(lambda: stored_count(world) >= 10_000, "10 000 readings to be stored")
        answers = [device.next_feedback() for _ in range(1000)]
    finally:
        device.close()
    assert stored_count(world) == 10_000 and bridge.stored == 10_000
    assert sum(a["accepted"] for a in answers) == 10_000 and all(a["rejected"] == [] for a in answers)


def test_broker_restarts_lose_nothing(mosquitto_broker: Any, mqtt_world: Any) -> None:
    world, make_bridge, passwords = mqtt_world
    make_bridge().stop()  # the bridge's persistent session now exists: the broker queues readings for it
    device = Device(mosquitto_broker, world.pods["load"], passwords[world.pods["load"]], world.community_id)
    try:
        for k in range(1500):
            info = device.client.publish(device.topic(), json.dumps(reading(world, k)), qos=1)
        info.wait_for_publish(timeout=60)
    finally:
        device.close()
    mosquitto_broker.restart()  # queued for an offline bridge: must survive the restart

    bridge = make_bridge(batch_max=50)
    wait_until(lambda: stored_count(world) > 0, "the first readings after the restart")
    mosquitto_broker.restart()  # and again while the bridge is storing
    wait_until(lambda: stored_count(world) >= 1500, "all 1 500 readings after two broker restarts", timeout=120)
    with world.engine.connect() as connection:
        distinct = connection.execute(sa.text("SELECT COUNT(DISTINCT timestamp) FROM counterreading")).scalar_one()
    assert distinct == stored_count(world) == 1500
    wait_until(bridge.connected.is_set, "the bridge to reconnect")


def test_feedback_topic_of_an_unknown_device_is_answered_with_its_reason(
    mosquitto_broker: Any, mqtt_world: Any
) -> None:
    world, make_bridge, _ = mqtt_world
    make_bridge()
    mosquitto_broker.add_user("IT999E00000042", "pw-ghost")
    ghost = Device(mosquitto_broker, "IT999E00000042", "pw-ghost", world.community_id)
    try:
        ghost.listen()
        ghost.publish({"timestamp": BASE.isoformat(), "energy_wh": 1.0})
        answer = ghost.next_feedback()
    finally:
        ghost.close()
    assert answer["accepted"] == 0 and [r["reason"] for r in answer["rejected"]] == ["unknown_device"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
reading_like = st.fixed_dictionaries(
    {},
    optional={
        "device": st.text(max_size=16) | st.integers(),
        "timestamp": st.text(max_size=30) | st.floats(),
        "energy_wh": json_values,
        "community": json_values,
        "flow": json_values,
    },
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
    neighbours=st.lists(json_values | reading_like, max_size=4),
    position=st.integers(0, 4),
)
def test_arbitrary_payloads_never_crash_the_bridge_nor_drop_a_valid_neighbour(
    mosquitto_broker: Any, hypothesis_bridge: Any, junk: bytes, neighbours: list[Any], position: int
) -> None:
    world, device, bridge, counter = hypothesis_bridge
    k = next(counter)
    valid = reading(world, k)
    mixed = list(neighbours)
    mixed.insert(min(position, len(mixed)), valid)
    device.publish(junk)  # arbitrary bytes on the device's own topic
    device.publish({"id": k, "readings": mixed})
    answers = []
    while not answers or answers[-1].get("id") != k:
        answers.append(device.next_feedback())
    assert answers[-1]["accepted"] == 1
    assert bridge._worker is not None and bridge._worker.is_alive()
    with world.engine.connect() as connection:
        found = (
            connection.execute(
                sa.text("SELECT energy_wh FROM counterreading WHERE timestamp = :ts"),
                {"ts": (BASE + timedelta(minutes=15 * k)).strftime("%Y-%m-%d %H:%M:%S.%f")},
            )
            .scalars()
            .all()
        )
    assert found == [valid["energy_wh"]]


@pytest.fixture
def hypothesis_bridge(mosquitto_broker: Any, mqtt_world: Any) -> Iterator[tuple[World, Device, MqttBridge, Any]]:
    import itertools

    world, make_bridge, passwords = mqtt_world
    bridge = make_bridge()
    device = Device(mosquitto_broker, world.pods["load"], passwords[world.pods["load"]], world.community_id)
    device.listen()
    yield world, device, bridge, itertools.count(2_000)  # quarter hours after BASE, clear of the other tests'
    device.close()


def test_bridge_keeps_messages_unacknowledged_while_the_database_fails(
    mosquitto_broker: Any, mqtt_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, make_bridge, passwords = mqtt_world
    bridge = make_bridge()
    failing = threading.Event()
    failing.set()
    real_process = bridge.processor.process

    def flaky(batch: list[Any]) -> Any:
        if failing.is_set():
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return real_process(batch)

    monkeypatch.setattr(bridge.processor, "process", flaky)
    device = Device(mosquitto_broker, world.pods["load"], passwords[world.pods["load"]], world.community_id)
    try:
        device.listen()
        device.publish(reading(world, 1))
        with pytest.raises(queue.Empty):
            device.feedback.get(timeout=1.0)  # nothing answered while the database fails
        failing.clear()
        assert device.next_feedback()["accepted"] == 1
    finally:
        device.close()
    assert stored_count(world) == 1
