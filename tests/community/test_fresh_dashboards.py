"""The dashboards are fresh without anyone calling `POST /kpis/refresh`: readings that arrive by file or by MQTT
show in the member's page (the API's own body, `dapp.api.services.dashboards.member_page`) at once."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from dapp.api.services.dashboards import member_page
from lec.community.importer import import_manifest
from lec.community.manifest import parse_manifest
from lec.db.models import UserCommunity
from lec.db.session import get_engine, init_db
from oracle.ingest.files import ingest_file
from oracle.ingest.mqtt import BridgeConfig, MqttBridge, consumer_configs
from oracle.ingest.store import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "community-manifest.json"
READINGS = ROOT / "docs" / "examples" / "readings-2026-05-04.csv"
DAY = 20260504


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}.")
        time.sleep(0.05)


@pytest.fixture
def imported(tmp_path: Path) -> tuple[sa.Engine, int, dict[str, int]]:
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'fresh.db'}"))
    with Session(engine) as session:
        report = import_manifest(session, parse_manifest(EXAMPLE.read_text()))
        users = {
            str(m.wallet): m.user_id
            for m in session.exec(select(UserCommunity).where(UserCommunity.community_id == report.community_id))
        }
    return engine, report.community_id, users


def page(engine: sa.Engine, community_id: int, user_id: int) -> dict[str, Any]:
    with Session(engine) as session:
        return json.loads(member_page(session, community_id, user_id, DAY, DAY, 366, 0))


def load_wh(body: dict[str, Any]) -> int:
    return sum(item["load_wh"] for item in body["items"])


def test_a_file_shows_in_the_dashboard_without_a_refresh(imported, tmp_path):
    engine, community_id, users = imported
    member = users[json.loads(EXAMPLE.read_text())["members"][1]["account"]]
    assert page(engine, community_id, member)["total"] == 0
    csv = tmp_path / READINGS.name
    shutil.copy(READINGS, csv)
    ingest_file(csv, engine, move=False, catalogue=load_catalogue(engine))
    body = page(engine, community_id, member)
    # Member 2 of the example: 70 Wh a quarter hour, 126 Wh from 07 to 09 and from 19 to 22 local time.
    assert body["total"] == 1 and load_wh(body) == 70 * (96 - 20) + 126 * 20


@pytest.mark.services
def test_mqtt_readings_show_in_the_dashboard_without_a_refresh(imported, mosquitto_broker):
    engine, community_id, users = imported
    member = json.loads(EXAMPLE.read_text())["members"][1]
    pod, user_id = member["pod"], users[member["account"]]
    mosquitto_broker.add_users({pod: "pw-fresh"})
    client_id = f"lec-oracle-fresh-{uuid.uuid4().hex[:8]}"
    bridge = MqttBridge(
        engine,
        BridgeConfig(
            host=mosquitto_broker.host,
            port=mosquitto_broker.port,
            username=mosquitto_broker.oracle_username,
            password=mosquitto_broker.oracle_password,
            client_id=client_id,
        ),
    )
    bridge.start()
    device = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
    )
    try:
        wait_until(bridge.connected.is_set, "the bridge to connect")
        device.username_pw_set(pod, "pw-fresh")
        device.connect(mosquitto_broker.host, mosquitto_broker.port)
        device.loop_start()
        wait_until(device.is_connected, "the meter to connect")
        assert page(engine, community_id, user_id)["total"] == 0
        readings = [{"timestamp": f"2026-05-04T10:{m:02d}:00+02:00", "energy_wh": 100.0 + m} for m in (0, 15, 30, 45)]
        device.publish(
            f"lec/{community_id}/{pod}/readings", json.dumps({"readings": readings}), qos=1
        ).wait_for_publish(30)
        wait_until(lambda: page(engine, community_id, user_id)["total"] == 1, "the dashboard to show the day")
        assert load_wh(page(engine, community_id, user_id)) == 400 + 90
        # A later reading of the same day updates the same row, again without a refresh.
        device.publish(
            f"lec/{community_id}/{pod}/readings",
            json.dumps({"timestamp": "2026-05-04T11:00:00+02:00", "energy_wh": 10.0}),
            qos=1,
        ).wait_for_publish(30)
        wait_until(lambda: load_wh(page(engine, community_id, user_id)) == 500, "the dashboard to update")
    finally:
        device.loop_stop()
        device.disconnect()
        bridge.stop()


@pytest.mark.services
def test_bridges_on_one_shared_subscription_store_every_reading_once(imported, mosquitto_broker):
    """`lec oracle mqtt --consumers 2`: two bridges as one MQTT 5 shared-subscription group each get part of the
    stream (one GIL each in production, threads here) and together store every reading once, answering each
    message once; a third party's plain subscription is unaffected."""
    engine, community_id, users = imported
    member = json.loads(EXAMPLE.read_text())["members"][1]
    pod = member["pod"]
    mosquitto_broker.add_users({pod: "pw-shared"})
    base = BridgeConfig(
        host=mosquitto_broker.host,
        port=mosquitto_broker.port,
        username=mosquitto_broker.oracle_username,
        password=mosquitto_broker.oracle_password,
        client_id=f"lec-oracle-shared-{uuid.uuid4().hex[:8]}",
        feedback_qos=1,
    )
    configs = consumer_configs(base, 2, group=f"g{uuid.uuid4().hex[:6]}")
    assert consumer_configs(base, 1) == [base] and base.subscription == "lec/+/+/readings"
    assert [c.subscription.split("/")[0] for c in configs] == ["$share", "$share"]
    assert len({c.client_id for c in configs}) == 2
    bridges = [MqttBridge(engine, c) for c in configs]
    answers: list[dict[str, Any]] = []
    device = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
    )
    device.on_message = lambda _c, _u, m: answers.append(json.loads(m.payload))
    try:
        for bridge in bridges:
            bridge.start()
            wait_until(bridge.connected.is_set, "a bridge to connect")
        time.sleep(0.5)  # both subscriptions in place before the stream
        device.username_pw_set(pod, "pw-shared")
        device.connect(mosquitto_broker.host, mosquitto_broker.port)
        device.loop_start()
        wait_until(device.is_connected, "the meter to connect")
        device.subscribe(f"lec/{community_id}/{pod}/feedback", qos=1)
        time.sleep(0.3)
        info = None
        for q in range(96 * 3):  # three days of quarter hours, one reading per message
            stamp = f"2026-05-0{4 + q // 96}T{(q % 96) // 4:02d}:{15 * (q % 4):02d}:00+02:00"
            info = device.publish(
                f"lec/{community_id}/{pod}/readings", json.dumps({"timestamp": stamp, "energy_wh": 50.0}), qos=1
            )
        assert info is not None
        info.wait_for_publish(30)
        wait_until(lambda: sum(b.stored for b in bridges) >= 288, "every reading to be stored")
        wait_until(lambda: len(answers) >= 288, "every message to be answered")
    finally:
        device.loop_stop()
        device.disconnect()
        for bridge in bridges:
            bridge.stop()
        for config in configs:  # the persistent sessions would go on receiving their share of other tests' messages
            forget = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=config.client_id, protocol=mqtt.MQTTv5)
            forget.username_pw_set(mosquitto_broker.oracle_username, mosquitto_broker.oracle_password)
            forget.connect(mosquitto_broker.host, mosquitto_broker.port, clean_start=True)
            forget.loop_start()
            wait_until(forget.is_connected, "the cleanup connection", timeout=30)
            forget.loop_stop()
            forget.disconnect()
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT COUNT(*) FROM counterreading")).scalar_one()
    assert stored == 288 and sum(b.stored for b in bridges) == 288
    assert all(b.stored > 0 for b in bridges), [b.stored for b in bridges]  # the group shared the stream
    assert len(answers) == 288 and sum(a["accepted"] for a in answers) == 288
