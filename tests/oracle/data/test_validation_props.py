"""Invariants of validation and of the bridge's message processing, on many arbitrary inputs (no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from data_world import NOW, World, build_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lec.db.session import get_engine, init_db
from oracle.ingest.mqtt import Incoming, Processor, payload_readings
from oracle.ingest.store import load_catalogue
from oracle.validation import Reading, Rejection, validate

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=24)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
# Strings that look almost like the real thing: digits of other scripts, odd ISO forms, huge numbers.
tricky_text = st.sampled_from(
    [
        "²",
        "١٢",
        "1e400",
        "-0",
        "nan",
        "inf",
        "2026-03-01T10:15:00",
        "2026-03-01T10:15Z",
        "99999999999999999999",
        " 42 ",
        "",
        "IT001E00000001",
    ]
)
reading_like = st.fixed_dictionaries(
    {},
    optional={
        key: json_values | tricky_text
        for key in (
            "device",
            "timestamp",
            "energy_wh",
            "community",
            "flow",
            "power_active_w",
            "voltage_v",
            "charge_status",
        )
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=json_values | reading_like, community=st.none() | json_values | tricky_text)
def test_validate_never_raises_and_accepts_only_sound_readings(tmp_path_factory: Any, raw: Any, community: Any) -> None:
    world = _cached_world(tmp_path_factory)
    result = validate(raw, load_catalogue_cached(world), NOW, community=community)
    assert isinstance(result, Reading | Rejection)
    if isinstance(result, Reading):
        assert result.timestamp.tzinfo is not None and result.timestamp <= NOW.replace(minute=5)
    else:
        assert result.message.endswith(".") and json.loads(json.dumps(result.as_feedback()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
    neighbours=st.lists(json_values | reading_like, max_size=5),
    position=st.integers(0, 5),
    k=st.integers(0, 5000),
)
def test_processor_keeps_the_valid_reading_beside_any_junk(
    tmp_path: Path, junk: bytes, neighbours: list[Any], position: int, k: int
) -> None:
    world = _cached_world(None)
    processor = Processor(world.engine, clock=lambda: NOW)
    topic = f"lec/{world.community_id}/{world.pods['load']}/readings"
    valid = {
        "device": world.pods["load"],
        "timestamp": datetime.fromtimestamp(1_767_225_600 + 900 * k, UTC).isoformat(),
        "energy_wh": 77.0,
    }
    mixed = list(neighbours)
    mixed.insert(min(position, len(mixed)), valid)
    answers = processor.process([Incoming(topic, junk), Incoming(topic, json.dumps(mixed).encode())])
    assert len(answers) == 2
    assert answers[1].outcome.accepted + answers[1].outcome.duplicates >= 1
    with world.engine.connect() as connection:
        stored = (
            connection.exec_driver_sql(
                "SELECT energy_wh FROM counterreading WHERE device_id = 1 AND timestamp = ?",
                (datetime.fromtimestamp(1_767_225_600 + 900 * k, UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),),
            )
            .scalars()
            .all()
        )
    assert stored == [77.0]


def test_payload_shapes() -> None:
    assert payload_readings(b'{"device": "x"}')[0] == [{"device": "x"}]
    assert payload_readings(b"[1, 2]")[0] == [1, 2]
    assert payload_readings(b'{"id": "a", "readings": [3]}')[:2] == ([3], "a")
    assert payload_readings(b'"text"')[2] is not None
    assert payload_readings(b"\xff")[2] is not None
    assert payload_readings(b"[" * 100_000)[2] is not None  # deep nesting is refused, not a crash


_WORLD: dict[str, World] = {}
_CATALOGUE: dict[str, Any] = {}


def _cached_world(_unused: Any) -> World:
    # Hypothesis reruns the body many times: one database for all examples of this module.
    if "w" not in _WORLD:
        import tempfile

        _WORLD["w"] = build_world(init_db(get_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'lec.db'}")))
    return _WORLD["w"]


def load_catalogue_cached(world: World) -> Any:
    if "c" not in _CATALOGUE:
        _CATALOGUE["c"] = load_catalogue(world.engine)
    return _CATALOGUE["c"]
