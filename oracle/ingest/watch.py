"""Watching the triage folder: every file that stops growing is ingested, then moved to processed/."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from oracle.ingest.files import FileReport, candidate_files, ingest_file


def scan_once(folder: Path, engine: Engine, sizes: dict[Path, int]) -> list[FileReport]:
    """Ingest the files whose size did not change since the previous scan (so half-copied files wait).

    ``sizes`` carries the sizes seen by the previous scan and is updated in place.
    """
    reports = []
    current = {path: path.stat().st_size for path in candidate_files([folder])}
    for path, size in current.items():
        if sizes.get(path) == size:
            reports.append(ingest_file(path, engine))
    sizes.clear()
    sizes.update({p: s for p, s in current.items() if p.exists()})
    return reports


def watch(
    folder: Path,
    engine: Engine,
    interval: float,
    on_report: Callable[[FileReport], None],
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    sizes: dict[Path, int] = {}
    while not should_stop():
        for report in scan_once(folder, engine, sizes):
            on_report(report)
        time.sleep(interval)
