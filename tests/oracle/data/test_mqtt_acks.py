"""The bridge's acknowledgement rules without a broker: after the commit, only on the connection that received
the message; answers beyond the broker's window wait for room instead of being lost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from oracle.ingest.mqtt import Answer, BridgeConfig, Incoming, MqttBridge, _Superseded


class FakeClient:
    """gmqtt's surface the bridge uses: `publish` refuses (OverflowError) beyond `window` unacknowledged answers."""

    def __init__(self, window: int = 1000) -> None:
        self.window = window
        self.in_flight = 0
        self.published: list[tuple[str, str]] = []
        self.is_connected = True

    def publish(self, topic: str, body: str, qos: int = 0) -> None:
        if self.in_flight >= self.window:
            raise OverflowError("All ids has already used. May be your QoS queue is full.")
        self.in_flight += 1
        self.published.append((topic, body))

    def broker_acknowledges(self) -> None:
        self.in_flight = 0


@pytest.fixture
def bridge() -> Any:
    bridge = MqttBridge(sa.create_engine("sqlite://"), BridgeConfig(), processor=object())  # type: ignore[arg-type]
    bridge._loop = asyncio.new_event_loop()
    yield bridge
    bridge._loop.close()


def answer(device: str, accepted: int) -> Answer:
    return Answer(topic=f"lec/1/{device}/feedback", body={"accepted": accepted})


def test_a_message_from_a_replaced_connection_is_answered_but_not_acknowledged(bridge: Any) -> None:
    loop, client = bridge._loop, FakeClient()
    bridge._client = client

    async def scenario() -> list[Any]:
        bridge._connection = 1
        before = loop.create_task(bridge._on_message(client, "lec/1/A/readings", b"{}", 1, {}))
        await asyncio.sleep(0)
        bridge._connection = 2  # the connection dropped and came back while the batch was being stored
        after = loop.create_task(bridge._on_message(client, "lec/1/B/readings", b"{}", 1, {}))
        await asyncio.sleep(0)
        batch = [bridge._queue.get_nowait(), bridge._queue.get_nowait()]
        assert [m.connection for m in batch] == [1, 2]
        bridge._answer(batch, [answer("A", 1), answer("B", 1)])
        return await asyncio.gather(before, after, return_exceptions=True)

    first, second = loop.run_until_complete(scenario())
    # gmqtt acknowledges with the callback's return value: the stale packet id gets nothing, the new one success.
    assert isinstance(first, _Superseded) and second == 0
    assert [topic for topic, _ in client.published] == ["lec/1/A/feedback", "lec/1/B/feedback"]


def test_nothing_is_acknowledged_before_its_batch_is_committed(bridge: Any) -> None:
    loop, client = bridge._loop, FakeClient()
    bridge._client = client

    async def scenario() -> tuple[bool, Any]:
        waiting = loop.create_task(bridge._on_message(client, "lec/1/A/readings", b"{}", 1, {}))
        await asyncio.sleep(0.05)
        still_waiting = not waiting.done()  # no commit yet: no return value, so gmqtt sends no PUBACK
        bridge._answer([bridge._queue.get_nowait()], [answer("A", 1)])
        return still_waiting, await waiting

    assert loop.run_until_complete(scenario()) == (True, 0)


def test_answers_beyond_the_brokers_window_wait_and_all_go_out_in_order(bridge: Any) -> None:
    loop, client = bridge._loop, FakeClient(window=3)
    bridge._client = client
    messages = [Incoming(f"lec/1/D{i}/readings", b"{}") for i in range(8)]

    async def scenario() -> None:
        bridge._answer(messages, [answer(f"D{i}", i) for i in range(8)])
        assert len(client.published) == 3  # the window is full: the rest wait, nothing raised, nothing dropped
        for _ in range(2):
            client.broker_acknowledges()
            await asyncio.sleep(0.1)

    loop.run_until_complete(scenario())
    assert [topic for topic, _ in client.published] == [f"lec/1/D{i}/feedback" for i in range(8)]
    assert not bridge._outbox


def test_answers_wait_while_disconnected(bridge: Any) -> None:
    loop, client = bridge._loop, FakeClient()
    bridge._client = client
    client.is_connected = False
    bridge._answer([Incoming("lec/1/A/readings", b"{}")], [answer("A", 1)])
    assert client.published == [] and len(bridge._outbox) == 1
    client.is_connected = True
    bridge._drain()  # what the next connection does first
    assert [topic for topic, _ in client.published] == ["lec/1/A/feedback"]
    loop.run_until_complete(asyncio.sleep(0))
