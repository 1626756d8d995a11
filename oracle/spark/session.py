"""The Spark session of the scale-out engine: Delta Lake enabled, its jars from the cache `make` filled.

Spark is told about the jars with ``spark.jars`` (files on disk), never ``spark.jars.packages``: that would
make Ivy resolve and download them when a job starts. Under ``spark-submit`` the submitter owns the master,
the jars and the memory; the oracle then only asks for what Delta needs.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from lec.settings import get_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The jars tools/spark/spark.sh fetches (Delta 4.4.0 built for Spark 4.2; PostgreSQL's JDBC driver).
REQUIRED_JARS = ("delta-spark_4.2_2.13-", "delta-storage-")
DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


class SparkSetupError(RuntimeError):
    """Spark cannot start as configured; the message says what to install or set."""


def jar_paths(folder: Path) -> list[Path]:
    """The cached jars, checked: a missing Delta jar is a sentence, not a ClassNotFoundException later."""
    jars = sorted(folder.glob("*.jar"))
    missing = [prefix for prefix in REQUIRED_JARS if not any(j.name.startswith(prefix) for j in jars)]
    if missing:
        raise SparkSetupError(
            f"The Delta Lake jars ({', '.join(p + '*.jar' for p in missing)}) are not in {folder}: run "
            "`make spark-deps` (or set LEC_SPARK_JARS to the folder that holds them)."
        )
    return jars


def session_conf(master: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Everything the oracle sets on a session it starts itself."""
    settings = get_settings()
    partitions = str(settings.spark_shuffle_partitions)
    conf = {
        "spark.master": master or settings.spark_master,
        "spark.app.name": "lec-oracle",
        "spark.jars": ",".join(str(j) for j in jar_paths(settings.spark_jars)),
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.pyspark.python": sys.executable,
        "spark.sql.shuffle.partitions": partitions,
        "spark.default.parallelism": partitions,
        # Delta lists files and rebuilds table state with these; the defaults (10 000 and 50 tasks) are for
        # clusters, and cost minutes of empty tasks on a small machine.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": partitions,
        "spark.databricks.delta.snapshotPartitions": partitions,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
        **DELTA_CONF,
    }
    conf.update(settings.spark_conf)
    conf.update(extra or {})
    return conf


def spark_session(master: str | None = None, extra: Mapping[str, str] | None = None) -> SparkSession:
    """The active session if there is one (a test's, or the one spark-submit made), else a new one."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder
    if get_settings().spark_submit_gateway is not None:
        conf: Mapping[str, str] = {**DELTA_CONF, **(extra or {})}
    else:
        conf = session_conf(master, extra)
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if get_settings().spark_submit_gateway is None:
        # PySpark starts its workers with PYSPARK_PYTHON or whatever `python3` is on the PATH; the oracle's own
        # interpreter (with the project installed) is the one that can run its functions.
        session.sparkContext.pythonExec = sys.executable
    session.sparkContext.setLogLevel("ERROR")
    return session
