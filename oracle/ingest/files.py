"""File ingestion from the triage area (report §4.3.7.1): CSV and JSON files of readings.

A file is ingested once: the SHA-256 of its content is recorded in `ingested_files`, and the same content
dropped again is recognised and not read twice. After ingestion the file moves to `processed/` beside it
(never deleted); when some rows were rejected, `<name>.rejected.csv` is written beside the moved file with
each row's number, reason and message. Valid rows of a file are stored even when other rows are not.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lec.calendar import ROME
from lec.db.enums import AnomalyReason, IngestStatus, ReadingSource
from lec.db.models import IngestedFile
from oracle.ingest import columnar, jsonsafe
from oracle.ingest.store import BatchOutcome, load_catalogue, store_batch
from oracle.readmodel import refresh_touched
from oracle.validation import Catalogue, Reading, Rejection, validate

SUFFIXES = (".csv", ".json")
PROCESSED = "processed"
CHUNK = 50_000  # rows per transaction: bounded memory, and a crash loses at most one chunk's work


@dataclass
class FileReport:
    path: Path
    sha256: str
    status: str  # "ingested", "already ingested", "unreadable"
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    moved_to: Path | None = None
    report_path: Path | None = None

    def summary(self) -> str:
        text = (
            f"{self.path.name}: {self.status}; {self.accepted} stored, {self.duplicates} already stored, "
            f"{len(self.rejected)} rejected"
        )
        if self.report_path:
            text += f" (reasons in {self.report_path})"
        return text


class UnreadableFile(ValueError):
    """The file as a whole cannot be read as readings (bad JSON, no CSV header, unknown extension)."""


def _json_rows(data: bytes) -> tuple[Any, list[Any]]:
    try:
        document = jsonsafe.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise UnreadableFile(f"The file is not valid JSON ({error}); fix it and drop it again.") from error
    if isinstance(document, list):
        return None, document
    if isinstance(document, dict) and isinstance(document.get("readings"), list):
        return document.get("community"), document["readings"]
    raise UnreadableFile('A JSON file must be a list of readings or an object {"community": …, "readings": [...]}.')


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"The CSV file is not UTF-8 ({error}); save it as UTF-8 and drop it again.") from error
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "device" not in reader.fieldnames:
        raise UnreadableFile("The CSV file has no header with a 'device' column; see docs/ingestion.md.")
    return list(reader)


def parse(path: Path, data: bytes) -> tuple[Any, list[Any]]:
    """(community given for the whole file or None, raw rows)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_rows(data)
    if suffix == ".csv":
        return None, _csv_rows(data)
    raise UnreadableFile(f"Unknown file type {suffix!r}; drop .csv or .json files.")


def _validated(
    rows: list[Any], catalogue: Catalogue, community: Any, now: datetime, first_row: int
) -> tuple[list[Reading], list[Rejection]]:
    readings: list[Reading] = []
    rejections: list[Rejection] = []
    for offset, raw in enumerate(rows):
        result = validate(raw, catalogue, now, community=community, where=f"row {first_row + offset}")
        (readings if isinstance(result, Reading) else rejections).append(result)  # type: ignore[arg-type]
    return readings, rejections


def _csv_frame(data: bytes) -> pd.DataFrame | None:
    """The CSV as text columns for the bulk path, or None when pandas cannot read it the way csv does
    (ragged rows, odd encodings): then the csv module reads it, row by row, with the same checks."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=True
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None
    if "device" not in frame.columns or frame.columns.duplicated().any():
        return None
    return frame.fillna("")


def _ingest_frame(
    engine: Engine, frame: pd.DataFrame, catalogue: Catalogue, now: datetime, name: str, outcome: BatchOutcome
) -> None:
    labels = [f"row {n + 2}" for n in range(len(frame))]  # line 1 is the header
    tsi = time.time_ns() // 1_000_000
    for start in range(0, len(frame), CHUNK):
        chunk = frame.iloc[start : start + CHUNK].reset_index(drop=True)
        parts = columnar.split(chunk, catalogue, now)
        slow_rows = chunk.iloc[parts.slow].to_dict("records")
        checked = [
            validate(raw, catalogue, now, where=labels[start + i]) for raw, i in zip(slow_rows, parts.slow, strict=True)
        ]
        readings = [r for r in checked if isinstance(r, Reading)]
        rejections = [r for r in checked if isinstance(r, Rejection)]
        with engine.begin() as connection:
            accepted, duplicates, conflicts = columnar.store_fast(
                connection, parts.fast, ReadingSource.FILE.value, tsi, labels[start : start + CHUNK]
            )
            outcome.merge(store_batch(connection, readings, rejections + conflicts, ReadingSource.FILE, name))
        outcome.accepted += accepted
        outcome.duplicates += duplicates
        if accepted:
            local = pd.DatetimeIndex(parts.fast["timestamp"]).tz_convert(ROME).date
            keys = zip(parts.fast["community_id"].tolist(), local, parts.fast["device_id"].tolist(), strict=True)
            outcome.touched |= {(int(c), d, int(dev)) for c, d, dev in set(keys)}


def _chunks(rows: list[Any]) -> Iterator[tuple[int, list[Any]]]:
    # CSV rows are numbered from 2 (line 1 is the header); JSON readings from 1.
    for start in range(0, len(rows), CHUNK):
        yield start, rows[start : start + CHUNK]


def _destination(path: Path, processed_dir: Path) -> Path:
    target = processed_dir / path.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = processed_dir / f"{path.stem}.{stamp}{path.suffix}"
    return target


def _write_rejection_report(target: Path, rejections: list[Rejection]) -> Path:
    report = target.with_name(target.name + ".rejected.csv")
    with report.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["where", "reason", "message", "reading"])
        for r in rejections:
            writer.writerow([r.where or "", r.reason.value, r.message, r.payload_text()])
    return report


def ingest_file(
    path: Path, engine: Engine, *, move: bool = True, now: datetime | None = None, catalogue: Catalogue | None = None
) -> FileReport:
    """Ingest one file (see the module docstring); returns what happened to its rows."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    report = FileReport(path=path, sha256=digest, status="ingested")
    table = IngestedFile.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        known = connection.execute(sa.select(table.c.ingested_at).where(table.c.sha256 == digest)).first()
    if known is not None:
        report.status = f"already ingested on {known[0]:%Y-%m-%d %H:%M} UTC"
    else:
        catalogue = catalogue or load_catalogue(engine)
        now = now or datetime.now(UTC)
        status = IngestStatus.DONE
        outcome = BatchOutcome()
        try:
            frame = _csv_frame(data) if path.suffix.lower() == ".csv" else None
            if frame is not None:
                _ingest_frame(engine, frame, catalogue, now, path.name, outcome)
            else:
                community, rows = parse(path, data)
                first = 2 if path.suffix.lower() == ".csv" else 1
                for start, chunk in _chunks(rows):
                    readings, rejections = _validated(chunk, catalogue, community, now, first + start)
                    with engine.begin() as connection:
                        outcome.merge(store_batch(connection, readings, rejections, ReadingSource.FILE, path.name))
        except UnreadableFile as error:
            report.status = "unreadable"
            status = IngestStatus.FAILED
            whole = Rejection(reason=AnomalyReason.MALFORMED, message=str(error), raw=path.name, where="file")
            with engine.begin() as connection:
                outcome.merge(store_batch(connection, [], [whole], ReadingSource.FILE, path.name))
        report.accepted, report.duplicates, report.rejected = outcome.accepted, outcome.duplicates, outcome.rejected
        refresh_touched(engine, outcome.touched)  # the dashboards see the file's days at once
        with engine.begin() as connection:
            connection.execute(
                sa.insert(table),
                [
                    {
                        "sha256": digest,
                        "name": path.name[:255],
                        "size": len(data),
                        "status": status,
                        "accepted": outcome.accepted,
                        "duplicates": outcome.duplicates,
                        "rejected": len(outcome.rejected),
                        "ingested_at": datetime.now(UTC),
                    }
                ],
            )
    if move:
        processed_dir = path.parent / PROCESSED
        processed_dir.mkdir(exist_ok=True)
        target = _destination(path, processed_dir)
        shutil.move(str(path), target)
        report.moved_to = target
        if report.rejected:
            report.report_path = _write_rejection_report(target, report.rejected)
    elif report.rejected:
        report.report_path = _write_rejection_report(path, report.rejected)
    return report


def candidate_files(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: the given files, and the .csv/.json files directly inside given folders."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.endswith(".rejected.csv")
                )
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist; give files or folders of readings.")
    return found
