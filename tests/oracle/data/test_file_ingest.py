"""File ingestion: every rejection reason, valid rows kept beside bad ones, once-only ingestion, processed/."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from data_world import NOW, World
from sqlmodel import Session, select

from lec.db.enums import AnomalyReason
from lec.db.models import Anomaly, CounterReading, IngestedFile
from oracle.ingest.files import ingest_file

GOOD_TS = "2026-03-01T10:15:00+01:00"


def _good(world: World, quantity: str = "load", **overrides: Any) -> dict[str, Any]:
    sign = -1 if quantity == "production" else 1
    reading = {"device": world.pods[quantity], "timestamp": GOOD_TS, "energy_wh": sign * 120.5}
    reading.update(overrides)
    return reading


def _write_json(path: Path, readings: list[Any], community: Any = None) -> Path:
    document: Any = readings if community is None else {"community": community, "readings": readings}
    path.write_text(json.dumps(document))
    return path


def _readings(world: World) -> list[CounterReading]:
    with Session(world.engine) as session:
        return list(session.exec(select(CounterReading).order_by(CounterReading.timestamp)).all())


def _anomalies(world: World) -> list[Anomaly]:
    with Session(world.engine) as session:
        return list(session.exec(select(Anomaly).order_by(Anomaly.id)).all())


# Each case: the overrides that make an otherwise valid reading fail, and the reason expected.
REJECTIONS: dict[str, tuple[str, dict[str, Any], AnomalyReason]] = {
    "unknown community": ("load", {"community": 999}, AnomalyReason.UNKNOWN_COMMUNITY),
    "device of another community": ("load", {"community": 2}, AnomalyReason.UNKNOWN_DEVICE),
    "unknown device": ("load", {"device": "IT999E99999999"}, AnomalyReason.UNKNOWN_DEVICE),
    "flow not of the device": ("load", {"flow": 999}, AnomalyReason.UNKNOWN_FLOW),
    "energy not a number": ("load", {"energy_wh": "molto"}, AnomalyReason.WRONG_TYPE),
    "energy a boolean": ("load", {"energy_wh": True}, AnomalyReason.WRONG_TYPE),
    "timestamp without offset": ("load", {"timestamp": "2026-03-01T10:15:00"}, AnomalyReason.WRONG_TYPE),
    "timestamp not a date": ("load", {"timestamp": "yesterday"}, AnomalyReason.WRONG_TYPE),
    "energy NaN": ("load", {"energy_wh": float("nan")}, AnomalyReason.NOT_FINITE),
    "energy infinite": ("load", {"energy_wh": float("inf")}, AnomalyReason.NOT_FINITE),
    "missing energy": ("load", {"energy_wh": None}, AnomalyReason.MALFORMED),
    "missing device": ("load", {"device": None}, AnomalyReason.MALFORMED),
    "future timestamp": ("load", {"timestamp": "2026-03-10T13:30:00+00:00"}, AnomalyReason.FUTURE_TIMESTAMP),
    "before activation": ("load", {"timestamp": "2025-12-31T23:45:00+00:00"}, AnomalyReason.BEFORE_ACTIVATION),
    "above device bound": ("load", {"energy_wh": 2500.0}, AnomalyReason.OUT_OF_BOUNDS),
    "power above maximum": ("load", {"power_active_w": 9000.0}, AnomalyReason.OUT_OF_BOUNDS),
    "voltage impossible": ("load", {"voltage_v": 5000.0}, AnomalyReason.OUT_OF_BOUNDS),
    "negative load": ("load", {"energy_wh": -10.0}, AnomalyReason.SIGN_VIOLATION),
    "positive production": ("production", {"energy_wh": 10.0}, AnomalyReason.SIGN_VIOLATION),
}


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_each_rejection_reason_is_recorded_and_the_valid_neighbour_kept(
    world: World, tmp_path: Path, case: str
) -> None:
    quantity, overrides, reason = REJECTIONS[case]
    bad = _good(world, quantity, **overrides)
    neighbour = _good(world, "exchange", energy_wh=-50.0)
    report = ingest_file(_write_json(tmp_path / "drop.json", [bad, neighbour]), world.engine, now=NOW)

    assert report.accepted == 1 and [r.reason for r in report.rejected] == [reason]
    stored = _readings(world)
    assert [(r.device_id, r.energy_wh) for r in stored] == [(stored[0].device_id, -50.0)]
    anomalies = _anomalies(world)
    assert [a.reason for a in anomalies] == [reason]
    assert anomalies[0].message.endswith(".") and len(anomalies[0].message) > 20
    assert anomalies[0].source_ref == "drop.json row 1"


def test_exchange_and_storage_accept_both_signs(world: World, tmp_path: Path) -> None:
    rows = [
        _good(world, "exchange", energy_wh=-300.0),
        _good(world, "exchange", energy_wh=300.0, timestamp="2026-03-01T10:30:00+01:00"),
        _good(world, "storage", energy_wh=-200.0),
        _good(world, "storage", energy_wh=200.0, timestamp="2026-03-01T10:30:00+01:00"),
        _good(world, "production", energy_wh=0.0),
    ]
    report = ingest_file(_write_json(tmp_path / "signs.json", rows), world.engine, now=NOW)
    assert report.accepted == 5 and report.rejected == []


def test_mixed_file_stores_valid_rows_once_and_reingest_changes_nothing(world: World, tmp_path: Path) -> None:
    valid = [_good(world, timestamp=f"2026-03-01T{h:02d}:00:00+00:00", energy_wh=float(h)) for h in range(10)]
    invalid = [_good(world, energy_wh=-1.0), _good(world, device="nope"), "not a reading"]
    path = _write_json(tmp_path / "mixed.json", valid[:5] + invalid + valid[5:])
    copy = path.read_bytes()

    first = ingest_file(path, world.engine, now=NOW)
    assert (first.accepted, len(first.rejected)) == (10, 3)
    assert sorted(r.energy_wh for r in _readings(world)) == [float(h) for h in range(10)]
    assert first.moved_to == tmp_path / "processed" / "mixed.json" and first.moved_to.exists()
    assert not path.exists()
    assert first.report_path is not None
    with first.report_path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["where"], r["reason"]) for r in rows] == [
        ("row 6", "sign_violation"),
        ("row 7", "unknown_device"),
        ("row 8", "malformed"),
    ]

    # The same content dropped again: recognised by its hash, nothing stored or recorded twice.
    path.write_bytes(copy)
    again = ingest_file(path, world.engine, now=NOW)
    assert again.status.startswith("already ingested") and again.accepted == 0 and again.rejected == []
    assert len(_readings(world)) == 10 and len(_anomalies(world)) == 3
    assert again.moved_to is not None and again.moved_to.exists() and first.moved_to.exists()
    with Session(world.engine) as session:
        assert len(session.exec(select(IngestedFile)).all()) == 1


def test_resent_readings_in_a_new_file_are_noops_and_changed_ones_are_held(world: World, tmp_path: Path) -> None:
    original = [_good(world, timestamp=f"2026-03-01T0{h}:00:00+00:00", energy_wh=10.0 * h) for h in range(1, 4)]
    ingest_file(_write_json(tmp_path / "a.json", original), world.engine, now=NOW)
    changed = dict(original[2], energy_wh=999.0)
    report = ingest_file(_write_json(tmp_path / "b.json", original[:2] + [changed]), world.engine, now=NOW)

    assert (report.accepted, report.duplicates) == (0, 2)
    assert [r.reason for r in report.rejected] == [AnomalyReason.CONFLICTING_DUPLICATE]
    assert sorted(r.energy_wh for r in _readings(world)) == [10.0, 20.0, 30.0]  # the stored value is kept
    held = _anomalies(world)[0]
    assert json.loads(held.payload or "{}")["received"]["energy_wh"] == 999.0


def test_duplicate_inside_one_file(world: World, tmp_path: Path) -> None:
    reading = _good(world)
    report = ingest_file(
        _write_json(tmp_path / "d.json", [reading, reading, dict(reading, energy_wh=1.0)]), world.engine, now=NOW
    )
    assert (report.accepted, report.duplicates) == (1, 1)
    assert [r.reason for r in report.rejected] == [AnomalyReason.CONFLICTING_DUPLICATE]


def test_csv_with_optional_columns_and_unix_timestamps(world: World, tmp_path: Path) -> None:
    path = tmp_path / "meter.csv"
    path.write_text(
        "community,device,flow,timestamp,energy_wh,power_active_w,voltage_v\n"
        f"{world.community_id},{world.pods['load']},{world.flows['load']},2026-03-01T09:00:00Z,250.0,1000,230.1\n"
        f",{world.pods['load']},,1772356500,260.5,,\n"
        f",{world.pods['production']},,2026-03-01T09:00:00Z,-400,-1600,\n"
        f",{world.pods['load']},,2026-03-01T09:45:00Z,abc,,\n"
    )
    report = ingest_file(path, world.engine, now=NOW)
    assert report.accepted == 3 and [r.where for r in report.rejected] == ["row 5"]
    stored = {(r.device_id, r.energy_wh, r.power_active_w, r.voltage_v) for r in _readings(world)}
    assert (1, 250.0, 1000.0, 230.1) in stored and (1, 260.5, None, None) in stored
    assert min(r.timestamp for r in _readings(world)).isoformat() == "2026-03-01T09:00:00+00:00"


def test_json_document_with_community_for_all_readings(world: World, tmp_path: Path) -> None:
    report = ingest_file(
        _write_json(tmp_path / "c.json", [_good(world)], community=world.community_id), world.engine, now=NOW
    )
    assert report.accepted == 1
    report = ingest_file(_write_json(tmp_path / "e.json", [_good(world)], community=999), world.engine, now=NOW)
    assert [r.reason for r in report.rejected] == [AnomalyReason.UNKNOWN_COMMUNITY]


@pytest.mark.parametrize(
    ("name", "content"), [("broken.json", "{not json"), ("noheader.csv", "a,b\n1,2\n"), ("object.json", '{"rows": []}')]
)
def test_unreadable_file_is_moved_reported_and_recorded(world: World, tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    report = ingest_file(path, world.engine, now=NOW)
    assert report.status == "unreadable" and report.moved_to is not None and report.moved_to.read_text() == content
    assert [a.reason for a in _anomalies(world)] == [AnomalyReason.MALFORMED]
    assert report.report_path is not None and report.report_path.exists()


def test_cli_ingests_a_folder(world: World, tmp_path: Path) -> None:
    from oracle.cli import oracle

    drop = tmp_path / "triage"
    drop.mkdir()
    _write_json(drop / "one.json", [_good(world)])
    _write_json(drop / "two.json", [_good(world, energy_wh=-5.0)])
    url = world.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(oracle, ["ingest", str(drop), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "one.json: ingested; 1 stored" in result.output and "1 readings were rejected" in result.output
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["one.json", "two.json", "two.json.rejected.csv"]
    missing = CliRunner().invoke(oracle, ["ingest", str(tmp_path / "nope"), "--database-url", url])
    assert missing.exit_code != 0 and "does not exist" in missing.output


def test_watch_waits_until_a_file_stops_growing(world: World, tmp_path: Path) -> None:
    from oracle.ingest.watch import scan_once

    drop = tmp_path / "triage"
    drop.mkdir()
    sizes: dict[Path, int] = {}
    _write_json(drop / "w.json", [_good(world)])
    assert scan_once(drop, world.engine, sizes) == []  # first sight: may still be copying
    reports = scan_once(drop, world.engine, sizes)
    assert [r.accepted for r in reports] == [1] and (drop / "processed" / "w.json").exists()


def test_postgres_file_round_trip(postgres_url: str, tmp_path: Path) -> None:
    from data_world import build_world

    from lec.db.session import get_engine, init_db

    engine = init_db(get_engine(postgres_url))
    with engine.begin() as connection:  # the session-wide database may hold rows of other tests
        for table in (
            "anomalies",
            "counterreading",
            "ingested_files",
            "device_flows",
            "devices",
            "flows",
            "communities",
        ):
            connection.execute(sa.text(f"DELETE FROM {table}"))
    world = build_world(engine)
    rows = [_good(world, timestamp=f"2026-03-01T0{h}:00:00+00:00", energy_wh=float(h)) for h in range(5)]
    first = ingest_file(_write_json(tmp_path / "pg.json", rows + [_good(world, energy_wh=-3.0)]), engine, now=NOW)
    assert (first.accepted, len(first.rejected)) == (5, 1)
    second = ingest_file(_write_json(tmp_path / "pg2.json", rows), engine, now=NOW)
    assert (second.accepted, second.duplicates) == (0, 5)
    with Session(engine) as session:
        stored = session.exec(select(CounterReading).order_by(CounterReading.timestamp)).all()
    assert [r.energy_wh for r in stored] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert stored[0].timestamp.isoformat() == "2026-03-01T00:00:00+00:00"
