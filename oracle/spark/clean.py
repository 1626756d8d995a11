"""Cleaning on Spark: every device-day onto the 15-minute grid by the oracle's own ``clean_day``.

The readings are grouped per device, flow and day in Spark; the grouping the local engine does in numpy
(``oracle.sources.load_inputs``) is reproduced exactly: the readings of a day's cleaning window (the day and
6 h either side), in arrival order, of the energy flows of devices that belong to a member; when a device
reports the same quantity on two flows the later flow wins; a device that reports several quantities
commits one leaf per quantity (``<pod>#<quantity>``). Cleaning itself is ``oracle.clean.clean_day`` called in
a pandas UDF, so the two engines share one rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lec.calendar import STEP_SECONDS, period_start
from oracle.clean import MAX_GAP_QUARTERS, clean_day
from oracle.proofs.encoding import imputed_mask

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

MARGIN_SECONDS = MAX_GAP_QUARTERS * STEP_SECONDS
CLEANED_SCHEMA = (
    "community INT, day DATE, member STRING, profile STRING, active BOOLEAN, leaf_id STRING, quantity STRING, "
    "values ARRAY<BIGINT>, mask BINARY, imputed INT, missing INT"
)


def window_readings(readings: DataFrame, days: list[date]) -> DataFrame:
    """Each reading once for every day whose cleaning window holds it, that day in the column ``day``.

    A reading's window days are its own local ``date`` and the days either side; a join with the windows'
    bounds keeps the ones that really hold it (the day from local midnight − 6 h to the next midnight + 6 h).
    """
    from pyspark.sql import functions as F

    spark = readings.sparkSession
    bounds = [(d, period_start(d) - MARGIN_SECONDS, period_start(d + timedelta(days=1)) + MARGIN_SECONDS) for d in days]
    windows = spark.createDataFrame(bounds, "day DATE, lo BIGINT, hi BIGINT")
    candidates = readings.withColumn(
        "day", F.explode(F.array(F.date_sub("date", 1), F.col("date"), F.date_add("date", 1)))
    )
    return (
        candidates.join(F.broadcast(windows), "day")
        .where((F.col("ts") >= F.col("lo")) & (F.col("ts") < F.col("hi")))
        .drop("lo", "hi", "date")
    )


def device_series(readings: DataFrame, devices: DataFrame, members: DataFrame) -> DataFrame:
    """One row per leaf and day: the raw readings of a member's device (one energy quantity) in arrival order.

    ``readings`` carry ``day`` (:func:`window_readings`); only devices of a member with a wallet count.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys = ["community", "day", "device"]
    grouped = readings.groupBy(*keys, "flow", "quantity").agg(
        F.collect_list("seq").alias("seqs"), F.collect_list("ts").alias("ts"), F.collect_list("energy_wh").alias("vals")
    )
    per_quantity = Window.partitionBy(*keys, "quantity")
    per_device = Window.partitionBy(*keys)
    grouped = (
        grouped.withColumn("last_flow", F.max("flow").over(per_quantity))
        .where(F.col("flow") == F.col("last_flow"))
        .withColumn("quantities", F.count(F.lit(1)).over(per_device))
    )
    owners = devices.where(F.col("member").isNotNull()).join(members, ["community", "member"])
    leaf = F.when(F.col("quantities") == 1, F.col("pod")).otherwise(F.concat("pod", F.lit("#"), "quantity"))
    return grouped.join(owners, ["community", "device"]).select(
        "community", "day", "member", "profile", "active", leaf.alias("leaf_id"), "quantity", "seqs", "ts", "vals"
    )


def clean_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas: each device-day's readings through ``clean_day``; values as committed (int64, MISSING)."""
    for batch in batches:
        values, masks, imputed, missing = [], [], [], []
        for seqs, ts, vals, day in zip(batch["seqs"], batch["ts"], batch["vals"], batch["day"], strict=True):
            order = np.argsort(np.asarray(seqs, dtype=np.int64), kind="stable")
            cleaned = clean_day(np.asarray(ts, dtype=np.int64)[order], np.asarray(vals, dtype=np.float64)[order], day)
            values.append(cleaned.as_int64())
            masks.append(imputed_mask(cleaned.imputed))
            imputed.append(int(cleaned.imputed.sum()))
            missing.append(int(cleaned.missing.sum()))
        out = batch.drop(columns=["seqs", "ts", "vals"])
        out["values"] = values
        out["mask"] = masks
        out["imputed"] = np.asarray(imputed, dtype=np.int32)
        out["missing"] = np.asarray(missing, dtype=np.int32)
        yield out


def cleaned_devices(readings: DataFrame, devices: DataFrame, members: DataFrame, days: list[date]) -> DataFrame:
    """Every leaf's cleaned day: ``CLEANED_SCHEMA``, one row per (community, day, leaf)."""
    series = device_series(window_readings(readings, days), devices, members)
    return series.mapInPandas(clean_batches, CLEANED_SCHEMA)
