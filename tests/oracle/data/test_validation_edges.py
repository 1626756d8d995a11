"""The edges of validation that a differential test cannot see: the clock-skew limit (5 minutes, docs/ingestion.md)
on both paths — the per-reading `validate` and the vectorised bulk path import the same constant, so they agree
whatever it is; here it is pinned by hand — and a reading that names another device than its MQTT topic."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, timedelta
from pathlib import Path

import pandas as pd
import pytest
from data_world import NOW, World, build_world

from lec.db.enums import AnomalyReason
from lec.db.session import get_engine, init_db
from oracle.ingest import columnar
from oracle.ingest.mqtt import Incoming, Processor
from oracle.ingest.store import load_catalogue
from oracle.validation import Reading, Rejection, validate


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(init_db(get_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'lec.db'}")))


def _reading(world: World, at, device: str | None = None) -> dict:
    return {"device": device or world.pods["load"], "timestamp": at.isoformat(), "energy_wh": 12.0}


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(minutes=5), True),  # the limit itself
        (timedelta(minutes=5, seconds=1), False),
        (timedelta(minutes=6), False),
        (timedelta(minutes=14), False),  # would pass with a 15-minute limit
    ],
)
def test_the_clock_skew_limit_is_five_minutes_on_both_paths(world: World, ahead, accepted) -> None:
    catalogue = load_catalogue(world.engine)
    raw = _reading(world, NOW + ahead)
    result = validate(raw, catalogue, NOW)
    assert isinstance(result, Reading) is accepted, result
    if not accepted:
        assert isinstance(result, Rejection) and result.reason == AnomalyReason.FUTURE_TIMESTAMP
    frame = pd.DataFrame([{k: str(v) for k, v in raw.items()}])
    parts = columnar.split(frame, catalogue, NOW)
    assert (len(parts.fast) == 1) is accepted and (parts.slow == [0]) is not accepted


def test_a_reading_naming_another_device_than_its_topic_is_refused(world: World) -> None:
    catalogue = load_catalogue(world.engine)
    own, other = world.pods["load"], world.pods["production"]
    at = NOW - timedelta(hours=1)
    refused = validate(_reading(world, at, device=other), catalogue, NOW, community=world.community_id, device=own)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.UNKNOWN_DEVICE
    assert "a device sends only its own readings" in refused.message
    accepted = validate(_reading(world, at, device=own), catalogue, NOW, community=world.community_id, device=own)
    assert isinstance(accepted, Reading)
    # Through the bridge: on the load meter's topic, the PV's reading is refused, the load meter's stored.
    processor = Processor(world.engine, clock=lambda: NOW)
    topic = f"lec/{world.community_id}/{own}/readings"
    at2 = (NOW - timedelta(hours=2)).astimezone(UTC)
    body = json.dumps([_reading(world, at2, device=other), _reading(world, at2, device=own)]).encode()
    [answer] = processor.process([Incoming(topic, body)])
    assert answer.outcome.accepted == 1
    with world.engine.connect() as connection:
        devices = connection.exec_driver_sql("SELECT DISTINCT device_id FROM counterreading").scalars().all()
    assert devices == [1]  # the load meter (device 1), never the PV
