"""MQTT ingestion of flexibility telemetry from many gateways, beside the bare broker in the same run.

Run: `python -m benchmarks.flex_mqtt [--gateways 10000] [--processes 4]` (starts its own PostgreSQL with fsync on
and its own Mosquitto with the shipped ACL, like the test suite). One event has been dispatched to every gateway's
member; each gateway then opens its own MQTT session as its POD (password checked, ACL applied), publishes at QoS 1
its telemetry for the event hour (4 quarter-hour readings, one message on `lec/<c>/<pod>/readings`) and its
acknowledgement (`lec/<c>/<pod>/flex-ack`), and disconnects. The gateways run in `--processes` processes.

  ours — the oracle's MQTT bridge validates and stores every reading in PostgreSQL and the command publisher
         records every acknowledgement (`flex_dispatches.acknowledged_at`); timed until all are in the database;
  raw  — the same gateway sessions and messages with a bare QoS 1 subscriber that only counts them.

The ratio ours/raw says what the platform's work costs on top of the broker and the gateways' sessions. Every
reading and acknowledgement is counted in the database at the end: "lost" must be 0.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import sqlalchemy as sa

from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import Community, Device, DeviceFlow, Flow, User, UserCommunity
from lec.db.models.flex import EventDecision, EventSource, FlexDispatch, FlexEvent
from lec.db.session import dispose_engines, get_engine, init_db
from oracle.flex.commands import CommandPublisher, commands_for
from oracle.ingest.mqtt import BridgeConfig, MqttBridge
from tests.support.services import start_mosquitto, start_postgres

ACTIVATED = datetime(2026, 1, 1, tzinfo=UTC)
EVENT = datetime(2026, 3, 10, 17, tzinfo=UTC)  # 18:00 in Rome
SLOTS = 4
PASSWORD = secrets.token_urlsafe(12)


def pod_of(n: int) -> str:
    return f"IT001F{n:08d}"


def populate(engine: sa.Engine, gateways: int) -> tuple[int, int]:
    """One community, a member with one consumption meter per gateway, one opted-in event dispatched to all.
    Returns (community id, event id)."""
    with engine.begin() as c:
        community = c.execute(sa.insert(Community).values(name="Flex benchmark").returning(Community.id)).scalar_one()
        flow = c.execute(
            sa.insert(Flow).values(name="bench-flex-load", quantity=FlowQuantity.LOAD).returning(Flow.id)
        ).scalar_one()
        first_user = (c.execute(sa.select(sa.func.max(User.id))).scalar_one() or 0) + 1
        first_device = (c.execute(sa.select(sa.func.max(Device.id))).scalar_one() or 0) + 1
        users = range(first_user, first_user + gateways)
        devices = range(first_device, first_device + gateways)
        c.execute(
            sa.insert(User),
            [
                {
                    "id": u,
                    "external_id": f"bench-{u}",
                    "name": "Bench",
                    "surname": str(u),
                    "email": f"{u}@bench.example",
                }
                for u in users
            ],
        )
        c.execute(
            sa.insert(UserCommunity),
            [{"community_id": community, "user_id": u, "wallet": f"0x{u:040x}", "active": True} for u in users],
        )
        c.execute(
            sa.insert(Device),
            [
                {
                    "id": d,
                    "pod": pod_of(n),
                    "community_id": community,
                    "user_id": u,
                    "kind": DeviceKind.CONSUMPTION_METER,
                    "name": f"meter {n}",
                    "default_flow_id": flow,
                    "activated_at": ACTIVATED,
                    "min_energy_wh": 0.0,
                    "max_energy_wh": 5000.0,
                }
                for n, (u, d) in enumerate(zip(users, devices, strict=True))
            ],
        )
        c.execute(sa.insert(DeviceFlow), [{"device_id": d, "flow_id": flow} for d in devices])
        event = c.execute(
            sa.insert(FlexEvent)
            .values(
                community_id=community,
                source=EventSource.REST,
                external_id="bench-1",
                buyer="bench",
                start=EVENT,
                end=EVENT + timedelta(hours=1),
                request_w=1_000 * gateways,
                committed_w=1_000 * gateways,
                decision=EventDecision.OPTED_IN,
                created_at=ACTIVATED,
            )
            .returning(FlexEvent.id)
        ).scalar_one()
        c.execute(sa.insert(FlexDispatch), [{"event_id": event, "user_id": u, "share_w": 1_000} for u in users])
    return community, event


def add_gateway_users(broker: Any, gateways: int) -> None:
    """All gateways' logins at once: a plain file hashed by one `mosquitto_passwd -U`, appended, one reload."""
    plain = broker.root / "gateways.plain"
    plain.write_text("".join(f"{pod_of(n)}:{PASSWORD}\n" for n in range(gateways)))
    subprocess.run(["mosquitto_passwd", "-U", str(plain)], check=True)
    with broker.password_file.open("a") as out:
        out.write(plain.read_text())
    broker.process.send_signal(signal.SIGHUP)
    broker._wait_until_login(pod_of(gateways - 1), PASSWORD)


def messages(community: int, event: int, n: int) -> list[tuple[str, bytes]]:
    pod = pod_of(n)
    telemetry = [
        {"timestamp": (EVENT + timedelta(minutes=15 * i)).isoformat(), "energy_wh": float(100 + (n + i) % 50)}
        for i in range(SLOTS)
    ]
    return [
        (f"lec/{community}/{pod}/readings", json.dumps(telemetry).encode()),
        (f"lec/{community}/{pod}/flex-ack", json.dumps({"event": event}).encode()),
    ]


def _gateways(host: str, port: int, community: int, event: int, ns: list[int], go: Any, failed: Any) -> None:
    """One process's gateways, one MQTT session each, one after the other."""
    go.wait()
    for n in ns:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gw-{n}-{os.getpid()}", protocol=mqtt.MQTTv5)
        client.username_pw_set(pod_of(n), PASSWORD)
        try:
            client.connect(host, port)
            client.loop_start()
            infos = [client.publish(topic, payload, qos=1) for topic, payload in messages(community, event, n)]
            for info in infos:
                info.wait_for_publish(timeout=60)
                if not info.is_published():
                    failed.value += 1
        except OSError:
            failed.value += 1
        finally:
            client.disconnect()
            client.loop_stop()


def run_gateways(broker: Any, community: int, event: int, gateways: int, processes: int, done: Any) -> float:
    """Seconds from the gateways' start until `done(timeout)` says everything arrived."""
    context = multiprocessing.get_context("fork")
    go = context.Event()
    failed = context.Value("i", 0)
    workers = [
        context.Process(
            target=_gateways,
            args=(broker.host, broker.port, community, event, list(range(p, gateways, processes)), go, failed),
        )
        for p in range(processes)
    ]
    for w in workers:
        w.start()
    time.sleep(0.5)
    start = time.perf_counter()
    go.set()
    if not done(900):
        raise RuntimeError("Not every message arrived within 900 s.")
    elapsed = time.perf_counter() - start
    for w in workers:
        w.join(60)
    if failed.value:
        raise RuntimeError(f"{failed.value} gateway message(s) were not published.")
    return elapsed


def bench_raw(broker: Any, community: int, event: int, gateways: int, processes: int) -> float:
    count, everything = [0], threading.Event()
    lock = threading.Lock()

    def on_message(*_: Any) -> None:
        with lock:
            count[0] += 1
            if count[0] == 2 * gateways:
                everything.set()

    sink = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw-sink", protocol=mqtt.MQTTv5)
    sink.username_pw_set(broker.oracle_username, broker.oracle_password)
    sink.on_message = on_message
    sink.on_connect = lambda c, *a: c.subscribe([("lec/+/+/readings", 1), ("lec/+/+/flex-ack", 1)])
    sink.connect(broker.host, broker.port)
    sink.loop_start()
    time.sleep(0.5)
    try:
        return run_gateways(broker, community, event, gateways, processes, everything.wait)
    finally:
        sink.loop_stop()
        sink.disconnect()


def bench_ours(
    broker: Any, engine: sa.Engine, community: int, event: int, gateways: int, processes: int
) -> tuple[float, float, int, int]:
    """(seconds, seconds to publish the commands, readings lost, acknowledgements lost)."""
    publisher = CommandPublisher(engine, broker.host, broker.port, broker.oracle_username, broker.oracle_password)
    from sqlmodel import Session

    with Session(engine) as session:
        commands = commands_for(session, event)
    t0 = time.perf_counter()
    publisher.send(commands)
    send_s = time.perf_counter() - t0
    bridge = MqttBridge(
        engine,
        BridgeConfig(
            host=broker.host,
            port=broker.port,
            username=broker.oracle_username,
            password=broker.oracle_password,
            client_id="bench-flex-bridge",
        ),
    )
    bridge.start()
    while not bridge.connected.is_set():
        time.sleep(0.05)

    def stored(timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if bridge.stored >= SLOTS * gateways and len(publisher.acked) >= gateways:
                return True
            time.sleep(0.01)
        return False

    try:
        seconds = run_gateways(broker, community, event, gateways, processes, stored)
    finally:
        bridge.stop()
        publisher.close()
    with engine.connect() as c:
        readings = c.exec_driver_sql("SELECT COUNT(*) FROM counterreading").scalar_one()
        acked = c.execute(
            sa.select(sa.func.count())
            .select_from(FlexDispatch)
            .where(FlexDispatch.event_id == event, FlexDispatch.acknowledged_at.is_not(None))  # type: ignore[union-attr]
        ).scalar_one()
    return seconds, send_s, SLOTS * gateways - readings, gateways - acked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4, help="Processes the gateways run in.")
    args = parser.parse_args()
    print(
        f"Flexibility telemetry over MQTT: {args.gateways:,} gateways in {args.processes} processes, each one session "
        f"with {SLOTS} readings and one acknowledgement (QoS 1); load average {os.getloadavg()[0]:.1f}.\n"
    )
    postgres = start_postgres(durable=True)
    broker = start_mosquitto()
    try:
        engine = init_db(get_engine(postgres.fresh_database()))
        t0 = time.perf_counter()
        community, event = populate(engine, args.gateways)
        add_gateway_users(broker, args.gateways)
        print(f"set-up (members, devices, dispatches, broker logins): {time.perf_counter() - t0:.1f} s")
        raw_s = bench_raw(broker, community, event, args.gateways, args.processes)
        ours_s, send_s, lost_readings, lost_acks = bench_ours(
            broker, engine, community, event, args.gateways, args.processes
        )
        n = args.gateways
        print(f"commands published to {n:,} gateways (QoS 1, retained): {send_s:.2f} s")
        print(
            f"ours: {n / ours_s:>8,.0f} gateways/s ({SLOTS * n / ours_s:,.0f} readings/s), {ours_s:.1f} s; "
            f"lost: {lost_readings} readings, {lost_acks} acknowledgements"
        )
        print(f"raw:  {n / raw_s:>8,.0f} gateways/s, {raw_s:.1f} s (the same sessions, a counting subscriber)")
        print(f"ratio ours/raw (throughput): {raw_s / ours_s:.2f}")
    finally:
        broker.stop()
        dispose_engines()
        postgres.stop()


if __name__ == "__main__":
    Path(tempfile.gettempdir()).mkdir(exist_ok=True)
    main()
