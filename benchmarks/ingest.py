"""Ingestion throughput: files into SQLite and PostgreSQL, MQTT end to end; each beside its raw transport.

Run: `python -m benchmarks.ingest [--readings 200000] [--mqtt-readings 20000]` (starts its own PostgreSQL
with fsync on, and its own Mosquitto, like the test suite). For each path it prints readings/s of the full
pipeline (parse, validate, store, with the idempotence look-up) and of the same transport doing no work:
  files  — parsing the same CSV with the csv module and nothing else; bulk-writing the same rows with no
           validation (executemany on SQLite, COPY on PostgreSQL);
  MQTT   — a bare QoS 1 subscriber that only counts the same messages (gmqtt, the bridge's client; paho's beside
           it for reference); the devices are one `mosquitto_pub -l` (C) process.
The ratio says what our work costs on top of the transport. Targets: ≥ 100 000 readings/s from files into
PostgreSQL, ≥ 5 000 readings/s through MQTT end to end with zero loss.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import multiprocessing
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gmqtt
import paho.mqtt.client as mqtt
import sqlalchemy as sa
from sqlmodel import Session

from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import Community, Device, DeviceFlow, Flow
from lec.db.session import dispose_engines, get_engine, init_db
from oracle.ingest.files import ingest_file
from oracle.ingest.mqtt import BridgeConfig, MqttBridge, consumer_configs, run_consumer
from tests.support.services import start_mosquitto, start_postgres

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
DEVICES = 100


def register_devices(engine: sa.Engine) -> list[str]:
    """A community with DEVICES load meters; returns their PODs."""
    with Session(engine) as session:
        community = Community(name="Benchmark community")
        flow = Flow(name="bench-load", quantity=FlowQuantity.LOAD)
        session.add_all([community, flow])
        session.flush()
        pods = []
        for n in range(DEVICES):
            device = Device(
                pod=f"IT001B{n:08d}",
                community_id=community.id,
                kind=DeviceKind.CONSUMPTION_METER,
                name=f"meter {n}",
                default_flow_id=flow.id,
                activated_at=START,
                min_energy_wh=0.0,
                max_energy_wh=5000.0,
            )
            session.add(device)
            session.flush()
            session.add(DeviceFlow(device_id=device.id, flow_id=flow.id))
            pods.append(device.pod)
        session.commit()
    return pods


def write_csv(path: Path, pods: list[str], readings: int) -> None:
    quarters = readings // len(pods)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["device", "timestamp", "energy_wh"])
        for q in range(quarters):
            stamp = (START + timedelta(minutes=15 * q)).isoformat()
            for n, pod in enumerate(pods):
                writer.writerow([pod, stamp, f"{100 + (q * 7 + n) % 400}.5"])


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def raw_csv_parse(path: Path) -> int:
    with path.open(newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def raw_bulk_write(engine: sa.Engine, path: Path) -> int:
    """The same rows written with no validation and no look-up: the database's own bulk path."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with engine.connect() as connection:
        ids = dict(connection.exec_driver_sql("SELECT pod, id FROM devices").all())
        flow_id, community_id = connection.exec_driver_sql("SELECT default_flow_id, community_id FROM devices").first()
    tsi = int(time.time() * 1000)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with (
                raw.driver_connection.cursor() as cursor,
                cursor.copy(
                    "COPY counterreading (device_id, flow_id, community_id, timestamp, energy_wh, tsi, source) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["int4", "int4", "int4", "timestamptz", "float8", "int8", "text"])
                for r in rows:
                    copy.write_row(
                        (
                            ids[r["device"]],
                            flow_id,
                            community_id,
                            datetime.fromisoformat(r["timestamp"]),
                            float(r["energy_wh"]),
                            tsi,
                            "file",
                        )
                    )
            raw.commit()
        finally:
            raw.close()
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO counterreading (device_id, flow_id, community_id, timestamp, energy_wh, tsi, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        ids[r["device"]],
                        flow_id,
                        community_id,
                        datetime.fromisoformat(r["timestamp"]).strftime("%Y-%m-%d %H:%M:%S.%f"),
                        float(r["energy_wh"]),
                        tsi,
                        "file",
                    )
                    for r in rows
                ],
            )
    return len(rows)


def bench_files(label: str, make_url: Callable[[], str], readings: int, workdir: Path) -> None:
    engine = init_db(get_engine(make_url()))
    pods = register_devices(engine)
    path = workdir / f"{label}.csv"
    write_csv(path, pods, readings)
    parsed, parse_s = timed(lambda: raw_csv_parse(path))
    report, ingest_s = timed(lambda: ingest_file(path, engine, now=NOW, move=False))
    assert report.accepted == parsed and not report.rejected, report.summary()

    raw_engine = init_db(get_engine(make_url()))
    register_devices(raw_engine)
    written, write_s = timed(lambda: raw_bulk_write(raw_engine, path))
    ours = rate(report.accepted, ingest_s)
    print(f"files → {label:<10} {ours:>10,.0f} readings/s   ({report.accepted:,} readings in {ingest_s:.2f} s)")
    parse_rate = rate(parsed, parse_s)
    print(f"  raw CSV parse only   {parse_rate:>10,.0f} readings/s   ratio ours/raw {ours / parse_rate:.2f}")
    print(
        f"  raw bulk write only  {rate(written, write_s):>10,.0f} readings/s   ratio ours/raw "
        f"{ours / rate(written, write_s):.2f}"
    )


def bench_mqtt(
    broker: Any, make_url: Callable[[], str], readings: int, per_message: int, feedback_qos: int, consumers: int = 1
) -> float:
    url = make_url()
    engine = init_db(get_engine(url))
    pods = register_devices(engine)
    for pod in pods[:1]:
        broker.add_user(pod, "bench")
    pod = pods[0]
    readings = (readings // per_message) * per_message
    payloads = []
    for m in range(readings // per_message):
        batch = [
            {"timestamp": (START + timedelta(minutes=15 * (m * per_message + i))).isoformat(), "energy_wh": 100.0 + i}
            for i in range(per_message)
        ]
        payloads.append(json.dumps(batch if per_message > 1 else batch[0]).encode())
    topic = f"lec/1/{pod}/readings"

    # Raw: subscribers that only count, with QoS 1 and their library's automatic acknowledgement: gmqtt (the
    # bridge's client) and paho (the reference client, the bridge's client until 2026-11).
    raw_s = _publish_all(broker, pod, topic, payloads, _raw_sink(broker, "gmqtt", len(payloads)))
    paho_s = _publish_all(broker, pod, topic, payloads, _raw_sink(broker, "paho", len(payloads)))

    config = BridgeConfig(
        host=broker.host,
        port=broker.port,
        username=broker.oracle_username,
        password=broker.oracle_password,
        client_id=f"bench-bridge-{per_message}-{feedback_qos}-{consumers}-{time.monotonic_ns()}",
        feedback_qos=feedback_qos,
    )
    if consumers == 1:
        bridge = MqttBridge(engine, config)
        bridge.start()
        while not bridge.connected.is_set():
            time.sleep(0.05)

        def all_stored(timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while bridge.stored < readings and time.monotonic() < deadline:
                time.sleep(0.005)
            return bridge.stored >= readings

        try:
            ours_s = _publish_all(broker, pod, topic, payloads, all_stored)
        finally:
            bridge.stop()
        _forget_sessions(broker, [config.client_id])
    else:
        # Several bridges in their own processes on one MQTT 5 shared subscription (`lec oracle mqtt --consumers`).
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        workers = []
        # A group of its own: earlier runs' consumers keep persistent sessions in their group, and the broker would
        # go on sharing messages with them (queued until they come back).
        group = f"bench{time.monotonic_ns()}"
        for consumer in consumer_configs(config, consumers, group):
            ready = context.Event()
            worker = context.Process(target=run_consumer, args=(url, consumer, ready, stop))
            worker.start()
            workers.append((worker, ready))
        for _worker, ready in workers:
            if not ready.wait(120):
                raise RuntimeError("A bridge process did not connect within 120 s.")
        time.sleep(0.5)  # the shared subscriptions settle

        def rows_stored(timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            with engine.connect() as connection:
                while time.monotonic() < deadline:
                    count = connection.exec_driver_sql("SELECT COUNT(*) FROM counterreading").scalar_one()
                    connection.commit()
                    if count >= readings:
                        return True
                    time.sleep(0.02)
            return False

        try:
            ours_s = _publish_all(broker, pod, topic, payloads, rows_stored)
        finally:
            stop.set()
            for worker, _ready in workers:
                worker.join(timeout=60)
        _forget_sessions(broker, [c.client_id for c in consumer_configs(config, consumers, group)])
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT COUNT(*) FROM counterreading").scalar_one()
    lost = readings - stored
    ours, raw = rate(readings, ours_s), rate(readings, raw_s)
    bridges = f", {consumers} bridges" if consumers > 1 else ""
    print(
        f"MQTT, {per_message:>2} reading(s)/message, feedback QoS {feedback_qos}{bridges} {ours:>10,.0f} readings/s   "
        f"({readings:,} readings in {ours_s:.2f} s, {lost} lost)"
    )
    print(f"  raw QoS 1 subscriber, same messages  {raw:>10,.0f} readings/s   ratio ours/raw {ours / raw:.2f}")
    print(f"  (paho's raw subscriber: {rate(readings, paho_s):,.0f} readings/s)")
    return ours / raw


def _raw_sink(broker: Any, library: str, expected: int) -> Callable[[float], bool]:
    """A connected subscriber that only counts messages; returns `done(timeout)`, which also disconnects it."""
    received = threading.Event()
    count = [0]

    def counted() -> None:
        count[0] += 1
        if count[0] == expected:
            received.set()

    if library == "paho":
        sink = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw-paho", protocol=mqtt.MQTTv5)
        sink.username_pw_set(broker.oracle_username, broker.oracle_password)
        sink.on_message = lambda _c, _u, _m: counted()
        sink.on_connect = lambda c, *a: c.subscribe("lec/+/+/readings", qos=1)
        sink.connect(broker.host, broker.port)
        sink.loop_start()
        time.sleep(0.5)  # let the subscription settle before the stream starts

        def paho_done(timeout: float) -> bool:
            arrived = received.wait(timeout)
            sink.loop_stop()
            sink.disconnect()
            return arrived

        return paho_done

    loop = asyncio.new_event_loop()
    client = gmqtt.Client("bench-raw-gmqtt")
    client.set_auth_credentials(broker.oracle_username, broker.oracle_password)
    client.on_message = lambda *_a: counted()
    client.on_connect = lambda c, *a: c.subscribe("lec/+/+/readings", qos=1)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(client.connect(broker.host, broker.port), loop).result(30)
    time.sleep(0.5)

    def gmqtt_done(timeout: float) -> bool:
        arrived = received.wait(timeout)
        asyncio.run_coroutine_threadsafe(client.disconnect(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        return arrived

    return gmqtt_done


def _forget_sessions(broker: Any, client_ids: list[str]) -> None:
    """A clean start with no session expiry discards each persistent session (and what it queued) on the broker."""
    for client_id in client_ids:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        client.username_pw_set(broker.oracle_username, broker.oracle_password)
        client.connect(broker.host, broker.port, clean_start=True)
        client.loop_start()
        deadline = time.monotonic() + 30
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.01)
        client.loop_stop()
        client.disconnect()


def _publish_all(broker: Any, pod: str, topic: str, payloads: list[bytes], done: Callable[[float], bool]) -> float:
    """Seconds from the first publish until `done` says every reading arrived.

    The meter gateway is Mosquitto's own C client (`mosquitto_pub -l`: one QoS 1 message per line of its input,
    1 000 in flight), in its own process: in real life the gateways are other machines, and a Python publisher on
    this 2-core machine would take the CPU the bridge under test needs (it cost as much as the bridge itself)."""
    lines = b"".join(payload + b"\n" for payload in payloads)
    if any(b"\n" in payload for payload in payloads):
        raise ValueError("a payload spans several lines; mosquitto_pub -l sends one message per line")
    command = ["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-u", pod, "-P", "bench", "-V", "5"]
    command += ["-t", topic, "-q", "1", "-M", "1000", "-l", "-i", f"bench-{pod}-{time.monotonic_ns()}"]
    start = time.perf_counter()
    publisher = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    _out, errors = publisher.communicate(lines, timeout=300)
    if publisher.returncode:
        raise RuntimeError(f"The publishing device failed: {errors.decode(errors='replace')[-500:]}")
    if not done(300):
        raise RuntimeError("Not every message arrived within 300 s.")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=200_000, help="Readings per file benchmark.")
    parser.add_argument("--mqtt-readings", type=int, default=20_000, help="Readings per MQTT benchmark.")
    parser.add_argument("--paths", default="files,mqtt", help="Which paths to measure: files, mqtt or both.")
    parser.add_argument("--runs", type=int, default=1, help="Repeat the MQTT measurements this many times.")
    parser.add_argument(
        "--consumers", type=int, default=2, help="Bridges on one shared subscription for the second MQTT line."
    )
    args = parser.parse_args()
    paths = set(args.paths.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="lec-bench-"))
    counter = iter(range(1, 1000))
    print(
        f"Ingestion benchmark: {DEVICES} devices; files of {args.readings:,} readings; "
        f"MQTT streams of {args.mqtt_readings:,} readings.\n"
    )
    if "files" in paths:
        bench_files("SQLite", lambda: f"sqlite:///{workdir / f'bench{next(counter)}.db'}", args.readings, workdir)
    postgres = start_postgres(durable=True)
    try:
        if "files" in paths:
            bench_files("PostgreSQL", postgres.fresh_database, args.readings, workdir)
        broker = start_mosquitto() if "mqtt" in paths else None
        try:
            for run in range(args.runs if broker is not None else 0):
                print(f"MQTT run {run + 1} of {args.runs} (load average {os.getloadavg()[0]:.1f})")
                for per_message, feedback_qos, consumers in ((1, 1, 1), (1, 1, args.consumers), (1, 0, 1), (96, 1, 1)):
                    bench_mqtt(
                        broker, postgres.fresh_database, args.mqtt_readings, per_message, feedback_qos, consumers
                    )
        finally:
            if broker is not None:
                broker.stop()
    finally:
        dispose_engines()
        postgres.stop()


if __name__ == "__main__":
    main()
