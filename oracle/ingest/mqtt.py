"""MQTT bridge: readings from `lec/<community>/<device>/readings` into the database, answers on `…/feedback`.

gmqtt (asyncio) on a thread of its own, MQTT 5, QoS 1, a persistent session (clean start false, long session
expiry) and acknowledgement after the commit: a message is acknowledged only after its readings are committed,
so a crash or a broker restart loses nothing — the broker re-delivers what was not acknowledged and re-delivered
readings are no-ops. Messages are stored in batches (one transaction per batch) by a worker thread; the network
thread only queues them, then answers and acknowledges each committed batch. The first connection is retried
with backoff (1 s to 30 s); a lost one is re-established every `RECONNECT_DELAY_S`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import UNLIMITED_RECONNECTS
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
RECEIVE_MAXIMUM = 1000  # unacknowledged messages the broker may send us while a batch is stored
RECONNECT_DELAY_S = 2.0  # between attempts after a lost connection
DRAIN_INTERVAL_S = 0.02  # how soon answers that did not fit in the broker's window are tried again


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
    qos: int = 1
    connection: int = 0  # the bridge's connection it arrived on: acknowledged only on that one
    done: Any = field(default=None, compare=False)  # the network thread's future: set once the batch is committed


class _Superseded(Exception):
    """A message from a replaced connection: left unacknowledged, the broker sends it again."""


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
    """Runs the MQTT client (an asyncio loop in its own thread) and the storing worker; `start()`/`stop()` or
    `run_forever()`.

    The client is gmqtt, whose packet handling costs about a third of paho's per message here (docs/ingestion.md).
    A reading is acknowledged only after its batch's commit: gmqtt sends the PUBACK when our message callback
    returns, and the callback waits for the worker. A message from a connection that has since been replaced is not
    acknowledged at all (the callback raises `_Superseded`): the broker re-delivers it on the new connection, and
    its old packet id, which the broker may already have given to another message, must not be acknowledged.
    """

    def __init__(self, engine: Engine, config: BridgeConfig, processor: Processor | None = None) -> None:
        self.config = config
        self.processor = processor or Processor(engine)
        self._queue: queue.Queue[Incoming] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._network: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: gmqtt.Client | None = None
        self._connection = 0  # which connection a message arrived on (see the class's docstring)
        self._outbox: deque[tuple[str, str]] = deque()  # answers not yet handed to the client (network thread)
        self._draining = False
        self.connected = threading.Event()
        self.stored = 0  # readings stored since start (for the CLI's log and the benchmark)

    # ------------------------------------------------------------------------------------------ network thread

    def _make_client(self) -> gmqtt.Client:
        client = gmqtt.Client(
            self.config.client_id,
            clean_session=False,
            optimistic_acknowledgement=False,
            session_expiry_interval=SESSION_EXPIRY_S,
            receive_maximum=RECEIVE_MAXIMUM,
        )
        client.set_config({"reconnect_retries": UNLIMITED_RECONNECTS, "reconnect_delay": RECONNECT_DELAY_S})
        if self.config.password is not None:
            client.set_auth_credentials(self.config.username, self.config.password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: gmqtt.Client, _flags: Any, _reason: Any, _properties: Any) -> None:
        self._connection += 1
        self._subscribe(client)
        self.connected.set()
        self._drain()

    def _subscribe(self, client: gmqtt.Client) -> None:
        """Subscribing again is harmless when the session was kept, and needed when it was not. It needs a packet id,
        and answers still in flight from the last connection may hold them all: then it is tried again shortly."""
        try:
            client.subscribe(self.config.subscription, qos=1)
        except OverflowError:
            assert self._loop is not None
            self._loop.call_later(DRAIN_INTERVAL_S, self._subscribe, client)
            return
        log.info("Connected to %s:%s, subscribed to %s", self.config.host, self.config.port, self.config.subscription)

    def _on_disconnect(self, _client: gmqtt.Client, _packet: Any, _exc: Any = None) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("Disconnected from the broker; reconnecting every %.0f s.", RECONNECT_DELAY_S)

    async def _on_message(self, _client: gmqtt.Client, topic: str, payload: bytes, qos: int, _props: Any) -> int:
        """gmqtt awaits this for each message and acknowledges it with the reason code returned (0: success)."""
        assert self._loop is not None
        stored = self._loop.create_future()
        self._queue.put(Incoming(topic, bytes(payload), qos=qos, connection=self._connection, done=stored))
        if not await stored:
            raise _Superseded
        return 0

    async def _connect(self, client: gmqtt.Client) -> None:
        """The first connection, retried with backoff (1 s to 30 s) until it succeeds or the bridge stops; later
        losses are gmqtt's to repair."""
        delay = 1.0
        while not self._stop.is_set():
            try:
                await client.connect(self.config.host, self.config.port, ssl=self.config.tls, keepalive=30)
                return
            except Exception as error:  # refused, unreachable, or the broker said no (credentials)
                log.error(
                    "Cannot connect to the broker at %s:%s (%s); retrying in %.0f s. If it refuses the bridge, "
                    "check LEC_MQTT_USERNAME/LEC_MQTT_PASSWORD.",
                    self.config.host,
                    self.config.port,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    @staticmethod
    def _quiet_superseded(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """The loop's error handler: a message left unacknowledged on purpose, or cancelled at stop, is no error."""
        if isinstance(context.get("exception"), _Superseded | asyncio.CancelledError):
            return
        loop.default_exception_handler(context)

    def _network_main(self, started: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self._quiet_superseded)
        self._client = self._make_client()
        started.set()
        connecting = loop.create_task(self._connect(self._client))
        try:
            loop.run_forever()
        finally:
            connecting.cancel()
            loop.run_until_complete(self._close(self._client))
            loop.close()

    async def _close(self, client: gmqtt.Client) -> None:
        for task in asyncio.all_tasks():  # messages still waiting for a commit: the broker keeps them for us
            if task is not asyncio.current_task():
                task.cancel()
        try:
            if client.is_connected:
                await asyncio.wait_for(client.disconnect(), 10)
        except Exception:  # the broker is gone: nothing left to say goodbye to
            log.debug("Disconnecting from the broker failed.", exc_info=True)
        self.connected.clear()

    def _answer(self, batch: list[Incoming], answers: list[Answer]) -> None:
        """On the network thread, after a batch was committed: the devices' answers, then the acknowledgements."""
        client = self._client
        if client is None:
            return
        for message, answer in zip(batch, answers, strict=True):
            if answer.topic is not None:
                self._outbox.append((answer.topic, json.dumps(answer.body, default=str)))
            if message.done is not None and not message.done.done():
                message.done.set_result(message.connection == self._connection)  # True: acknowledge it
        self._drain()

    def _drain(self) -> None:
        """Publish the waiting answers while connected and within the broker's window of unacknowledged QoS 1
        messages (its Receive Maximum); what does not fit waits for the broker's acknowledgements and goes next."""
        client = self._client
        if client is None or not self._outbox:
            return
        while self._outbox and client.is_connected:
            topic, body = self._outbox[0]
            try:
                client.publish(topic, body, qos=self.config.feedback_qos)
            except OverflowError:
                break
            self._outbox.popleft()
        if self._outbox and not self._draining:
            assert self._loop is not None
            self._draining = True
            self._loop.call_later(DRAIN_INTERVAL_S, self._drain_later)

    def _drain_later(self) -> None:
        self._draining = False
        self._drain()

    # ------------------------------------------------------------------------------------------- worker thread

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
            self.stored += sum(answer.outcome.accepted for answer in answers)
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._answer, batch, answers)
            self.processor.flush_read_model()

    # ------------------------------------------------------------------------------------------------ control

    def start(self) -> None:
        self._stop.clear()
        self._worker = threading.Thread(target=self._work, name="lec-mqtt-store", daemon=True)
        self._worker.start()
        started = threading.Event()
        self._network = threading.Thread(target=self._network_main, args=(started,), name="lec-mqtt-net", daemon=True)
        self._network.start()
        started.wait(30)

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if self._network is not None:
            self._network.join(timeout=30)

    def run_forever(self) -> None:
        self.start()
        try:
            while True:
                time.sleep(1)
        finally:
            self.stop()
