"""Weather data ingested like readings: stored once, bad rows refused as anomalies with their row and reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, select

from lec.cli import lec
from lec.community.importer import import_manifest
from lec.community.manifest import parse_manifest
from lec.db.enums import AnomalyReason
from lec.db.models import Anomaly, WeatherData
from lec.db.session import get_engine, init_db
from oracle.ingest.weather import ingest_weather

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "community-manifest.json"
NOW = datetime(2026, 5, 5, tzinfo=UTC)
CSV = """device,timestamp,temperature_c,ghi_w_m2,cloud_cover
WS-0001,2026-05-04T12:00:00+02:00,21.5,780,0.1
WS-0001,2026-05-04T12:15:00+02:00,21.7,,
WS-0001,2026-05-04T12:30:00+02:00,21.9,2500,0.2
IT001E00000001,2026-05-04T12:30:00+02:00,20,100,0
WS-0001,2026-05-04T12:45:00+02:00,,,
"""


def test_weather_rows_are_stored_once_and_bad_ones_are_anomalies(tmp_path: Path):
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    with Session(engine) as session:
        import_manifest(session, parse_manifest(EXAMPLE.read_text()))
    path = tmp_path / "meteo.csv"
    path.write_text(CSV)
    report = ingest_weather(path, engine, now=NOW)
    assert (report.accepted, report.duplicates) == (2, 0)
    assert [(r.reason, r.where) for r in report.rejected] == [
        (AnomalyReason.OUT_OF_BOUNDS, "row 4"),  # 2 500 W/m² of irradiance
        (AnomalyReason.UNKNOWN_DEVICE, "row 5"),  # a meter is not a weather station
        (AnomalyReason.MALFORMED, "row 6"),  # no value at all
    ]
    again = ingest_weather(path, engine, now=NOW)
    assert (again.accepted, again.duplicates) == (0, 2)
    with Session(engine) as session:
        rows = session.exec(select(WeatherData).order_by(WeatherData.timestamp)).all()
        assert [(r.temperature_c, r.ghi_w_m2, r.cloud_cover) for r in rows] == [(21.5, 780.0, 0.1), (21.7, None, None)]
        anomalies = session.exec(select(Anomaly)).all()
        assert len(anomalies) == 6 and all(a.source_ref.startswith("meteo.csv row") for a in anomalies)


def test_json_weather_through_the_cli(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(lec, ["community", "import", str(EXAMPLE)]).exit_code == 0
    path = tmp_path / "meteo.json"
    path.write_text(json.dumps([{"device": "WS-0001", "timestamp": 1777888800, "temperature_c": 18.0}]))
    result = runner.invoke(lec, ["oracle", "ingest-weather", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 weather rows stored" in result.output
