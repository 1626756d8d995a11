"""A dispatch told to the members' gateways over MQTT, with acknowledgement.

Each dispatched member's meter (the gateway logs in with its POD as user name, as for readings) receives on
`lec/<community>/<pod>/flex` one JSON command per event — `{"event": 12, "start": …, "end": …, "share_w": 4000}`:
hold the load at least `share_w` W below its usual draw in the window — and answers on `lec/<community>/<pod>/flex-ack`
with `{"event": 12}`. The broker's ACL lets a gateway read only its own command topic and write only its own
acknowledgement topic; the oracle writes every command topic and reads every acknowledgement topic. Commands are
QoS 1 and retained until acknowledged, so a gateway that was offline gets its command when it reconnects.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lec.db.enums import DeviceKind
from lec.db.models import Device
from lec.db.models.flex import FlexDispatch, FlexEvent

ACK_TOPIC = "lec/+/+/flex-ack"
BATCH = 2_000  # acknowledgements per transaction
METERS = (DeviceKind.EXCHANGE_METER, DeviceKind.CONSUMPTION_METER)


def command_topic(community_id: int, pod: str) -> str:
    return f"lec/{community_id}/{pod}/flex"


@dataclass(frozen=True)
class Command:
    topic: str
    user_id: int
    payload: dict[str, Any]


def commands_for(session: Session, event_id: int) -> list[Command]:
    """One command per dispatched member not opted out, to the member's meter (an exchange meter first)."""
    event = session.get(FlexEvent, event_id)
    if event is None:
        raise ValueError(f"There is no flexibility event {event_id}.")
    rows = session.exec(
        select(FlexDispatch, Device)
        .join(Device, Device.user_id == FlexDispatch.user_id)  # type: ignore[arg-type]
        .where(
            FlexDispatch.event_id == event_id,
            FlexDispatch.opted_out_at.is_(None),  # type: ignore[union-attr]
            Device.community_id == event.community_id,
            Device.kind.in_(METERS),  # type: ignore[attr-defined]
        )
        .order_by(FlexDispatch.user_id, sa.case((Device.kind == DeviceKind.EXCHANGE_METER, 0), else_=1), Device.id)  # type: ignore[arg-type]
    ).all()
    out, seen = [], set()
    for dispatch, device in rows:
        if dispatch.user_id in seen:
            continue
        seen.add(dispatch.user_id)
        body = {
            "event": event_id,
            "start": event.start.isoformat(),
            "end": event.end.isoformat(),
            "share_w": dispatch.share_w,
        }
        out.append(Command(command_topic(event.community_id, device.pod), dispatch.user_id, body))
    return out


class CommandPublisher:
    """Publishes an event's commands and records each acknowledgement (`acknowledged_at`) as it arrives."""

    def __init__(
        self,
        engine: Engine,
        host: str,
        port: int,
        username: str,
        password: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.acked: set[tuple[int, str]] = set()  # (event, topic)
        self._pending: dict[tuple[int, str], int] = {}  # (event, command topic) → user id
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, *_: c.subscribe(ACK_TOPIC, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self._acks: queue.Queue[tuple[int, int, str]] = queue.Queue()
        self._closing = threading.Event()
        self._worker = threading.Thread(target=self._record, name="flex-acks", daemon=True)
        self._worker.start()
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("The MQTT broker did not confirm the subscription to acknowledgements.")

    def send(self, commands: list[Command]) -> None:
        for c in commands:
            with self._lock:
                self._pending[(c.payload["event"], c.topic)] = c.user_id
            self.client.publish(c.topic, json.dumps(c.payload), qos=1, retain=True)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        """paho's network thread only matches the acknowledgement; the worker writes it (in batches)."""
        try:
            event = int(json.loads(message.payload)["event"])
        except (ValueError, KeyError, TypeError):
            return  # not an acknowledgement: ignored
        topic = message.topic.removesuffix("-ack")
        with self._lock:
            user_id = self._pending.pop((event, topic), None)
        if user_id is None:
            return  # a repeated or foreign acknowledgement
        self._acks.put((event, user_id, topic))

    def _record(self) -> None:
        """Record acknowledgements as they come, up to BATCH per transaction (one commit for a burst of
        thousands of gateways instead of one each), then clear their retained commands."""
        while not (self._closing.is_set() and self._acks.empty()):
            try:
                first = self._acks.get(timeout=0.1)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < BATCH:
                try:
                    batch.append(self._acks.get_nowait())
                except queue.Empty:
                    break
            now = self.clock()
            with Session(self.engine) as session:
                by_event: dict[int, list[int]] = {}
                for event, user_id, _topic in batch:
                    by_event.setdefault(event, []).append(user_id)
                for event, users in by_event.items():
                    session.exec(
                        sa.update(FlexDispatch)  # type: ignore[call-overload]
                        .where(
                            FlexDispatch.event_id == event,  # type: ignore[arg-type]
                            FlexDispatch.user_id.in_(users),  # type: ignore[attr-defined]
                            FlexDispatch.acknowledged_at.is_(None),  # type: ignore[union-attr]
                        )
                        .values(acknowledged_at=now)
                    )
                session.commit()
            for _event, _user_id, topic in batch:
                self.client.publish(topic, b"", qos=1, retain=True)  # acknowledged: the retained command is cleared
            with self._lock:
                self.acked.update((event, topic) for event, _user_id, topic in batch)

    def waiting(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        """Record what has arrived, then disconnect."""
        self._closing.set()
        self._worker.join(30)
        self.client.loop_stop()
        self.client.disconnect()
