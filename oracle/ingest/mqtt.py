"""MQTT bridge: readings from `lec/<community>/<device>/readings` into the database, answers on `…/feedback`.

paho-mqtt's v2 callback API, MQTT 5, QoS 1, a persistent session (clean_start false, long session expiry)
and manual acknowledgement: a message is acknowledged only after its readings are committed, so a crash or
a broker restart loses nothing — the broker re-delivers what was not acknowledged and re-delivered readings
are no-ops. Messages are stored in batches (one transaction per batch) by a worker thread; paho's network
thread only queues them. The client reconnects by itself with exponential backoff (1 s to 30 s).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.engine import Engine

from lec.db.enums import AnomalyReason, ReadingSource
from oracle.ingest import jsonsafe
from oracle.ingest.store import BatchOutcome, load_catalogue, store_groups
from oracle.readmodel import refresh_touched
from oracle.validation import Catalogue, Reading, Rejection, validate

log = logging.getLogger(__name__)

READINGS_TOPIC = "lec/+/+/readings"
SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps our subscription and queued readings for a week
CATALOGUE_REFRESH_S = 5.0  # how stale the device list may be before an unknown device triggers a reload
MAX_PAYLOAD_READINGS = 10_000
# The dashboards' read model is refreshed for what was stored at most this often while readings stream in, and
# at once when the stream pauses: fresh within a second without recomputing a day per message.
READ_MODEL_INTERVAL_S = 1.0


def feedback_topic(community: str, device: str) -> str:
    return f"lec/{community}/{device}/feedback"


def parse_topic(topic: str) -> tuple[str, str] | None:
    """(community, device) of a readings topic, or None when the topic is not one."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != "lec" or parts[3] != "readings" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def payload_readings(payload: bytes) -> tuple[list[Any], Any, str | None]:
    """(raw readings, the sender's message id to echo or None, error sentence or None).

    A payload is one reading (a JSON object), a list of readings, or {"id": …, "readings": [...]}.
    """
    try:
        document = jsonsafe.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return [], None, f"The payload is not UTF-8 JSON ({str(error)[:80]}); send a reading or a list of readings."
    if isinstance(document, list):
        readings, ref = document, None
    elif isinstance(document, dict) and "readings" in document:
        readings, ref = document["readings"], document.get("id")
        if not isinstance(readings, list):
            return [], ref, "'readings' must be a list of readings."
    elif isinstance(document, dict):
        readings, ref = [document], None
    else:
        return [], None, f"The payload is a JSON {type(document).__name__}; send a reading or a list of readings."
    if len(readings) > MAX_PAYLOAD_READINGS:
        return [], ref, f"The payload has {len(readings)} readings; send at most {MAX_PAYLOAD_READINGS} per message."
    if not isinstance(ref, str | int | None) or isinstance(ref, bool):
        ref = None
    return readings, ref, None


@dataclass(frozen=True)
class Incoming:
    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 1


@dataclass
class Answer:
    """What the bridge tells one device about one message."""

    topic: str | None
    body: dict[str, Any]
    outcome: BatchOutcome = field(default_factory=BatchOutcome)


class Processor:
    """Validates and stores batches of messages; independent of MQTT so it can be tested on its own."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.clock = clock
        self.catalogue: Catalogue = load_catalogue(engine)
        self._loaded_at = time.monotonic()
        self._touched: set[tuple[int, date, int]] = set()
        self._flushed_at = 0.0

    def flush_read_model(self, force: bool = False) -> int:
        """Refresh the dashboards' read model for the days and members stored since the last flush (at most
        every `READ_MODEL_INTERVAL_S` unless ``force``); a failure is logged, never lost readings."""
        if not self._touched or (not force and time.monotonic() - self._flushed_at < READ_MODEL_INTERVAL_S):
            return 0
        touched, self._touched = self._touched, set()
        self._flushed_at = time.monotonic()
        try:
            return refresh_touched(self.engine, touched)
        except Exception:
            log.exception("Refreshing the dashboards' read model failed; it is retried with the next readings.")
            self._touched |= touched
            return 0

    def _refresh_if_stale(self) -> bool:
        if time.monotonic() - self._loaded_at < CATALOGUE_REFRESH_S:
            return False
        self.catalogue = load_catalogue(self.engine)
        self._loaded_at = time.monotonic()
        return True

    def _validate(self, batch: list[Incoming], now: datetime) -> list[tuple[Incoming, Any, list[Reading | Rejection]]]:
        results: list[tuple[Incoming, Any, list[Reading | Rejection]]] = []
        for message in batch:
            where = parse_topic(message.topic)
            if where is None:
                rejection = Rejection(
                    AnomalyReason.MALFORMED,
                    f"Topic {message.topic!r} is not lec/<c>/<d>/readings.",
                    raw=message.topic,
                    where=message.topic[:200],
                )
                results.append((message, None, [rejection]))
                continue
            community, device = where
            raws, ref, error = payload_readings(message.payload)
            if error is not None:
                rejection = Rejection(
                    AnomalyReason.MALFORMED,
                    error,
                    raw=message.payload[:500].decode("utf-8", "replace"),
                    device_ref=device[:128],
                    where=message.topic[:200],
                )
                results.append((message, ref, [rejection]))
                continue
            checked: list[Reading | Rejection] = [
                validate(raw, self.catalogue, now, community=community, device=device, where=f"{message.topic}[{i}]")
                for i, raw in enumerate(raws)
            ]
            results.append((message, ref, checked))
        return results

    def process(self, batch: list[Incoming]) -> list[Answer]:
        """Store a batch in one transaction; one answer per message, in order."""
        now = self.clock()
        results = self._validate(batch, now)
        unknown = {AnomalyReason.UNKNOWN_DEVICE, AnomalyReason.UNKNOWN_COMMUNITY, AnomalyReason.UNKNOWN_FLOW}
        has_unknown = any(isinstance(r, Rejection) and r.reason in unknown for _, _, rs in results for r in rs)
        if has_unknown and self._refresh_if_stale():  # a device may have been registered since we last looked
            results = self._validate(batch, now)
        groups = [
            ([r for r in checked if isinstance(r, Reading)], [r for r in checked if isinstance(r, Rejection)])
            for _, _, checked in results
        ]
        with self.engine.begin() as connection:
            outcomes = store_groups(connection, groups, ReadingSource.MQTT)
        for outcome in outcomes:
            self._touched |= outcome.touched
        return [
            self._answer(message, ref, checked, outcome)
            for (message, ref, checked), outcome in zip(results, outcomes, strict=True)
        ]

    @staticmethod
    def _answer(message: Incoming, ref: Any, checked: list[Reading | Rejection], outcome: BatchOutcome) -> Answer:
        where = parse_topic(message.topic)
        index = {id(r): i for i, r in enumerate(checked)}
        rejected = []
        for rejection in outcome.rejected:
            entry = rejection.as_feedback()
            if id(rejection) in index:
                entry["index"] = index[id(rejection)]
            rejected.append(entry)
        body: dict[str, Any] = {"accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected}
        if ref is not None:
            body["id"] = ref
        return Answer(topic=feedback_topic(*where) if where else None, body=body, outcome=outcome)


@dataclass
class BridgeConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = "lec-oracle"
    password: str | None = None
    client_id: str = "lec-oracle-bridge"
    tls: bool = False
    batch_max: int = 2000  # messages per transaction
    batch_wait_s: float = 0.05  # how long a partial batch waits for company
    # QoS of the answers: 1 reaches a device across its reconnections; 0 costs half the packets (the answer is
    # advisory: every rejection is also an anomaly row) and lets one bridge take more single-reading messages.
    feedback_qos: int = 1
    # An MQTT 5 shared subscription group: several bridges (processes) subscribed as one group share the readings
    # between them, each message going to one of them (`lec oracle mqtt --consumers N`). None: a plain subscription.
    share_group: str | None = None

    @property
    def subscription(self) -> str:
        return f"$share/{self.share_group}/{READINGS_TOPIC}" if self.share_group else READINGS_TOPIC


def run_consumer(database_url: str, config: BridgeConfig, ready: Any = None, stop: Any = None) -> None:
    """One bridge of a shared subscription, in its own process (its own GIL): the engine is made here, after the
    process started. Runs until ``stop`` (a multiprocessing Event) is set, or forever."""
    from lec.db.session import get_engine

    bridge = MqttBridge(get_engine(database_url), config)
    bridge.start()
    if ready is not None:
        bridge.connected.wait(60)
        ready.set()
    try:
        while stop is None or not stop.is_set():
            time.sleep(0.1)
    finally:
        bridge.stop()


def consumer_configs(config: BridgeConfig, consumers: int, group: str = "lec-oracle") -> list[BridgeConfig]:
    """``consumers`` copies of ``config`` sharing one subscription group, each with its own client id (and so its
    own persistent session); one consumer keeps the plain subscription.

    The broker keeps sharing messages with a consumer's persistent session while it is away, and delivers them when
    it comes back: restart with the same N (the client ids are stable). Lowering N leaves the removed consumers'
    sessions holding their share until they expire; drain the stream first, or start them once more to empty it."""
    if consumers <= 1:
        return [config]
    return [
        BridgeConfig(**{**config.__dict__, "client_id": f"{config.client_id}-{i}", "share_group": group})
        for i in range(consumers)
    ]


class MqttBridge:
    """Runs the MQTT client and the storing worker; `start()`/`stop()` or `run_forever()`."""

    def __init__(self, engine: Engine, config: BridgeConfig, processor: Processor | None = None) -> None:
        self.config = config
        self.processor = processor or Processor(engine)
        self._queue: queue.Queue[Incoming] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.connected = threading.Event()
        self.stored = 0  # readings stored since start (for the CLI's log and the benchmark)
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        if self.config.password is not None:
            client.username_pw_set(self.config.username, self.config.password)
        if self.config.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("The broker refused the bridge: %s. Check LEC_MQTT_USERNAME/LEC_MQTT_PASSWORD.", reason)
            return
        # Subscribing again is harmless when the session was kept, and needed when it was not.
        client.subscribe(self.config.subscription, qos=1)
        self.connected.set()
        log.info("Connected to %s:%s, subscribed to %s", self.config.host, self.config.port, self.config.subscription)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("Disconnected from the broker (%s); reconnecting with backoff.", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._queue.put(Incoming(topic=message.topic, payload=bytes(message.payload), mid=message.mid, qos=message.qos))

    def _next_batch(self) -> list[Incoming]:
        try:
            batch = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.config.batch_wait_s
        while len(batch) < self.config.batch_max:
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _work(self) -> None:
        pending: list[Incoming] = []
        delay = 0.5
        while not self._stop.is_set():
            batch = pending or self._next_batch()
            if not batch:
                self.processor.flush_read_model(force=True)
                continue
            try:
                answers = self.processor.process(batch)
            except Exception:
                # The database is unreachable or failing: keep the batch (unacknowledged, so the broker keeps
                # it too) and retry with backoff.
                log.exception("Storing %d messages failed; retrying in %.1f s.", len(batch), delay)
                pending = batch
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            pending, delay = [], 0.5
            for message, answer in zip(batch, answers, strict=True):
                self.stored += answer.outcome.accepted
                if answer.topic is not None:
                    self.client.publish(
                        answer.topic, json.dumps(answer.body, default=str), qos=self.config.feedback_qos
                    )
                if message.qos > 0:
                    self.client.ack(message.mid, message.qos)
            self.processor.flush_read_model()

    def start(self) -> None:
        self._stop.clear()
        self._worker = threading.Thread(target=self._work, name="lec-mqtt-store", daemon=True)
        self._worker.start()
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = 1000  # unacknowledged messages the broker may send us while a batch is stored
        self.client.connect_async(
            self.config.host, self.config.port, keepalive=30, clean_start=False, properties=properties
        )
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        self.start()
        try:
            while True:
                time.sleep(1)
        finally:
            self.stop()
