"""One Spark session for every Spark test (local[2], two shuffle partitions, no UI), a world of two communities
exported to a Delta Lake once for all of them, and a Spark standalone master with one worker on loopback for the
cluster test."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from spark_world import DST_DAY, NORMAL_DAY, SMALL, populate

from oracle.sources import open_session
from tests.support.ports import free_port


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The tests' one SparkSession; every engine call finds it as the active session."""
    from oracle.spark.session import spark_session

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = spark_session("local[2]", {**SMALL, "spark.sql.warehouse.dir": str(warehouse)})
    yield session
    session.stop()


@dataclass
class World:
    data_dir: Path
    lake: str
    pods: dict[int, dict[str, list[str]]]


@pytest.fixture(scope="session")
def world(spark, tmp_path_factory) -> Iterator[World]:
    """Both communities of spark_world in a SQLite database of their own, exported to the lake once. The
    configuration points at them only while they are written: tests ask for ``in_world`` or a copy."""
    from lec.db.session import dispose_engines
    from lec.settings import lake_uri
    from oracle.spark import lake

    folder = tmp_path_factory.mktemp("spark-world")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEC_DATA_DIR", str(folder))
        mp.delenv("DATABASE_URL", raising=False)
        mp.delenv("LEC_LAKE", raising=False)
        with open_session() as session:
            pods = populate(session, [DST_DAY, NORMAL_DAY])
            lake.export(spark, session, [1, 2])
        uri = lake_uri()
        dispose_engines()
    yield World(folder, uri, pods)


@pytest.fixture
def in_world(world, monkeypatch) -> World:
    """The world's database and lake as the current configuration."""
    monkeypatch.setenv("LEC_DATA_DIR", str(world.data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("LEC_LAKE", raising=False)
    return world


@pytest.fixture
def db_copy(world, tmp_path, monkeypatch) -> Path:
    """A copy of the world's database, as the current configuration, that a test may change."""
    from lec.db.session import dispose_engines

    target = tmp_path / "db"
    shutil.copytree(world.data_dir, target, ignore=shutil.ignore_patterns("lake"))
    monkeypatch.setenv("LEC_DATA_DIR", str(target))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("LEC_LAKE", raising=False)
    yield target
    dispose_engines()


@pytest.fixture
def lake_copy(world, tmp_path) -> str:
    """A copy of the world's lake a test may change."""
    target = tmp_path / "lake"
    shutil.copytree(world.lake, target)
    return str(target)


# ---- a standalone cluster on loopback -------------------------------------------------------------------


@dataclass
class StandaloneCluster:
    url: str
    ui_port: int


def _wait_for_worker(ui_port: int, processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    import json
    import urllib.request

    # Readiness poll with a generous ceiling: JVM start-up on a busy machine, not a timed assertion.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"A Spark daemon stopped while starting:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as answer:
                if any(w["state"] == "ALIVE" for w in json.load(answer)["workers"]):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("The Spark master and worker did not come up within 180 s.")


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory) -> Iterator[StandaloneCluster]:
    """A master and one worker (1 core, 1 GiB) from the PySpark distribution, on free loopback ports."""
    import os

    import pyspark

    home = Path(pyspark.__file__).parent
    state = tmp_path_factory.mktemp("spark-cluster")
    port, ui_port = free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(state)}
    spark_class = str(home / "bin" / "spark-class")
    commands = {
        "master": [
            spark_class,
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui_port),
        ],
        "worker": [
            spark_class,
            "org.apache.spark.deploy.worker.Worker",
            "--host",
            "127.0.0.1",
            "--cores",
            "1",
            "--memory",
            "1g",
            "--webui-port",
            str(free_port()),
            "--work-dir",
            str(state / "work"),
            f"spark://127.0.0.1:{port}",
        ],
    }
    processes, logs = [], []
    try:
        for name, command in commands.items():
            log = state / f"{name}.log"
            with log.open("wb") as out:
                processes.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env))
            logs.append(log)
        _wait_for_worker(ui_port, processes, logs)
        yield StandaloneCluster(f"spark://127.0.0.1:{port}", ui_port)
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
