"""The CSV bulk path accepts a row only when the per-row validation accepts it, with the same values."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from data_world import NOW, World, build_world
from hypothesis import given, settings
from hypothesis import strategies as st

from lec.db.session import get_engine, init_db
from oracle.ingest import columnar
from oracle.ingest.store import load_catalogue
from oracle.validation import Reading, validate

_WORLD: list[World] = []


def _world() -> World:
    if not _WORLD:
        _WORLD.append(build_world(init_db(get_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'lec.db'}"))))
    return _WORLD[0]


PODS = ["IT001E00000001", "IT001E00000002", "IT001E00000003", "IT001E00000004", "IT999", ""]
stamps = st.sampled_from(
    [
        "2026-03-01T10:15:00+01:00",
        "2026-03-01 10:15:00Z",
        "2026-03-01T10:15:00.123456+00:00",
        "2026-03-01T10:15:00",
        "2025-12-31T23:00:00+00:00",
        "2026-03-10T12:04:59+00:00",
        "2026-03-10T12:05:01+00:00",
        "2027-01-01T00:00:00Z",
        "1772356500",
        "",
        "soon",
        "2026-02-30T10:00:00+00:00",
    ]
) | st.datetimes(
    min_value=pd.Timestamp("2025-12-01").to_pydatetime(), max_value=pd.Timestamp("2026-04-01").to_pydatetime()
).map(lambda d: d.isoformat() + "+00:00")
numbers = st.sampled_from(
    [
        "",
        "0",
        "-0",
        "12.5",
        "-12.5",
        "1e3",
        "nan",
        "inf",
        " 5",
        "abc",
        "2500",
        "-2500",
        "1999.999",
        "0.1",
        "8000",
        "9000.5",
    ]
) | st.floats(-3000, 3000).map(repr)
ids = st.sampled_from(["", "1", "2", "3", "4", "99", "x", "1.0", " 1"])
rows = st.fixed_dictionaries(
    {
        "device": st.sampled_from(PODS),
        "community": ids,
        "flow": ids,
        "timestamp": stamps,
        "energy_wh": numbers,
        "power_active_w": numbers,
        "voltage_v": st.sampled_from(["", "230", "-1", "5000", "abc"]),
        "charge_status": st.sampled_from(["", "50", "101", "-1"]),
    }
)


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(rows, min_size=1, max_size=40))
def test_bulk_path_agrees_with_validate(batch: list[dict[str, str]]) -> None:
    world = _world()
    catalogue = load_catalogue(world.engine)
    frame = pd.DataFrame(batch, dtype=str)
    parts = columnar.split(frame, catalogue, NOW)
    fast_rows = set(parts.fast["row"].tolist())
    assert fast_rows.isdisjoint(parts.slow) and fast_rows | set(parts.slow) == set(range(len(batch)))
    for record in parts.fast.itertuples():
        expected = validate(batch[record.row], catalogue, NOW)
        assert isinstance(expected, Reading), (batch[record.row], expected)
        assert (expected.device_id, expected.flow_id, expected.community_id) == (
            record.device_id,
            record.flow_id,
            record.community_id,
        )
        assert expected.timestamp == record.timestamp.to_pydatetime()
        for column in columnar.VALUE_COLUMNS:
            got = getattr(record, column)
            want = getattr(expected, column)
            assert (want is None and math.isnan(got)) or want == got


def test_clean_rows_take_the_bulk_path() -> None:
    world = _world()
    catalogue = load_catalogue(world.engine)
    frame = pd.DataFrame(
        [
            {"device": "IT001E00000001", "timestamp": f"2026-03-01T{h:02d}:00:00+00:00", "energy_wh": "10.5"}
            for h in range(24)
        ]
    )
    parts = columnar.split(frame, catalogue, NOW)
    assert len(parts.fast) == 24 and parts.slow == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bulk_rows_read_back_identically(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from sqlmodel import Session, select

    from lec.db.models import CounterReading
    from oracle.ingest.files import ingest_file

    url = f"sqlite:///{tmp_path / 'b.db'}" if backend == "sqlite" else request.getfixturevalue("make_postgres_db")()
    world = build_world(init_db(get_engine(url)))
    path = tmp_path / "bulk.csv"
    values = ["0.1", "1234.5678901234", "-0", "1999.999", "7"]
    # The instants written the ways ISO 8601 allows: Z, a space, an offset, fractions.
    stamps = [
        "2026-03-01 00:00:00Z",
        "2026-03-01T02:00:00+01:00",
        "2026-03-01T02:00:00.000000Z",
        "2026-03-01T04:00:00+01:00",
        "2026-03-01T04:00Z",
    ]
    path.write_text(
        "device,timestamp,energy_wh,voltage_v\n"
        + "".join(f"IT001E00000003,{stamps[i]},{v},{'230.4' if i % 2 else ''}\n" for i, v in enumerate(values))
    )
    report = ingest_file(path, world.engine, now=NOW, move=False)
    assert report.accepted == 5
    with Session(world.engine) as session:
        stored = session.exec(select(CounterReading).order_by(CounterReading.timestamp)).all()
    assert [r.energy_wh for r in stored] == [float(v) for v in values]
    assert [r.voltage_v for r in stored] == [None, 230.4, None, 230.4, None]
    assert [r.timestamp.hour for r in stored] == [0, 1, 2, 3, 4]
    again = ingest_file(path, world.engine, now=NOW, move=False)
    assert again.status.startswith("already")
    copy = tmp_path / "bulk2.csv"
    copy.write_text(path.read_text().replace(",7,", ",8,"))
    changed = ingest_file(copy, world.engine, now=NOW, move=False)
    assert (changed.accepted, changed.duplicates, [r.reason.value for r in changed.rejected]) == (
        0,
        4,
        ["conflicting_duplicate"],
    )
    assert changed.rejected[0].where == "row 6"
