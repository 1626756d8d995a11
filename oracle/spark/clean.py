"""Cleaning on Spark: every device-day onto the 15-minute grid by the oracle's own ``clean_day``.

The grouping the local engine does in numpy (``oracle.sources.load_inputs``) is reproduced exactly: the
readings of a day's cleaning window (the day and 6 h either side), in arrival order, of the energy flows of
devices that belong to a member; when a device reports the same quantity on two flows the later flow wins; a
device that reports several quantities commits one leaf per quantity (``<pod>#<quantity>``). Cleaning itself
is ``oracle.clean.clean_day``, called in a pandas UDF, so the two engines share one rule.

Readings are not collected into lists: each partition holds whole devices, sorted, and the UDF cuts the sorted
stream into devices itself (:func:`complete_groups`), so rows stay flat Arrow columns all the way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lec.calendar import STEP_SECONDS, period_start, quarter_hours
from oracle.clean import MAX_GAP_QUARTERS, CleanDay, clean_day, complete_days
from oracle.proofs.encoding import imputed_mask

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

MARGIN_SECONDS = MAX_GAP_QUARTERS * STEP_SECONDS
_DEVICE_KEYS = ("community", "day", "device")
DEVICE_DAYS_SCHEMA = (
    "community INT, day DATE, device BIGINT, quantity STRING, quantities INT, "
    "values ARRAY<BIGINT>, mask BINARY, imputed INT, missing INT"
)
CLEANED_COLUMNS = [
    "community",
    "day",
    "member",
    "profile",
    "active",
    "leaf_id",
    "quantity",
    "values",
    "mask",
    "imputed",
    "missing",
]


def complete_groups(batches: Iterator[pd.DataFrame], keys: Sequence[str]) -> Iterator[pd.DataFrame]:
    """Frames of whole groups out of a partition sorted by ``keys``: the group a batch ends in is held back
    until the next batch shows where it stops."""
    pending: pd.DataFrame | None = None
    for batch in batches:
        if pending is not None and len(pending):
            batch = pd.concat([pending, batch], ignore_index=True)
        if not len(batch):
            continue
        last = np.ones(len(batch), dtype=bool)
        for key in keys:
            column = batch[key].to_numpy()
            last &= column == column[-1]
        # Sorted input: the last group is a suffix of the batch.
        cut = len(batch) - int(np.argmin(last[::-1])) if not last.all() else 0
        pending = batch.iloc[cut:]
        if cut:
            yield batch.iloc[:cut].reset_index(drop=True)
    if pending is not None and len(pending):
        yield pending.reset_index(drop=True)


def changed(frame: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """True at each row whose ``keys`` differ from the previous row's (the first row: True)."""
    change = np.zeros(len(frame), dtype=bool)
    if len(frame):
        change[0] = True
    for key in keys:
        column = frame[key].to_numpy()
        change[1:] |= column[1:] != column[:-1]
    return change


def group_bounds(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal ``keys`` in a sorted frame."""
    starts = np.flatnonzero(changed(frame, keys))
    return list(zip(starts.tolist(), [*starts[1:].tolist(), len(frame)], strict=True))


def window_readings(readings: DataFrame, days: list[date]) -> DataFrame:
    """Each reading once for every day whose cleaning window holds it (the day from local midnight − 6 h to the
    next midnight + 6 h), that day in the column ``day``."""
    from pyspark.sql import functions as F

    spark = readings.sparkSession
    if len(days) == 1:
        day = days[0]
        lo, hi = period_start(day) - MARGIN_SECONDS, period_start(day + timedelta(days=1)) + MARGIN_SECONDS
        return readings.where((F.col("ts") >= lo) & (F.col("ts") < hi)).withColumn("day", F.lit(day)).drop("date")
    bounds = [(d, period_start(d) - MARGIN_SECONDS, period_start(d + timedelta(days=1)) + MARGIN_SECONDS) for d in days]
    windows = spark.createDataFrame(bounds, "day DATE, lo BIGINT, hi BIGINT")

    def local_day(shift: int):  # the local date of ts + shift seconds
        return F.to_date(F.from_utc_timestamp(F.timestamp_seconds(F.col("ts") + shift), "Europe/Rome"))

    candidates = readings.withColumn(
        "day", F.explode(F.array_distinct(F.array(local_day(-MARGIN_SECONDS), "date", local_day(MARGIN_SECONDS))))
    )
    return (
        candidates.join(F.broadcast(windows), "day")
        .where((F.col("ts") >= F.col("lo")) & (F.col("ts") < F.col("hi")))
        .drop("lo", "hi", "date")
    )


_EPOCH = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=4096)
def _day(day: date | int) -> tuple[date, int, int, bytes]:
    """A day (a date, or days since 1970-01-01 as ``member_readings`` sends it: no date object per reading), its
    local midnight, quarter hours and the imputed mask of a day with nothing imputed."""
    if not isinstance(day, date):
        day = date.fromordinal(_EPOCH + int(day))
    n = quarter_hours(day)
    return day, period_start(day), n, imputed_mask(np.zeros(n, dtype=bool))


def clean_frame(frame: pd.DataFrame, keys: Sequence[str] = _DEVICE_KEYS, carry: Sequence[str] = ()) -> pd.DataFrame:
    """One row per device-day and quantity of a frame of whole device-days sorted by ``keys`` (which end with the
    device), then flow and arrival, cleaned by ``clean_day``; values as committed (int64, MISSING where unknown).
    ``carry`` columns are copied from each device-day's first row (the member's, when the frame is by member).
    Complete one-flow device-days (most) take ``oracle.clean.complete_days``, clean_day's shortcut, all at once."""
    columns = {k: frame[k].to_numpy() for k in (*keys, *carry)}
    day_of = frame["day"].to_numpy()
    flows = frame["flow"].to_numpy()
    quantities = frame["quantity"].to_numpy()
    ts = frame["ts"].to_numpy(dtype=np.int64)
    vals = frame["energy_wh"].to_numpy(dtype=np.float64)
    bounds = np.asarray(group_bounds(frame, keys), dtype=np.int64).reshape(-1, 2)
    firsts = bounds[:, 0]
    calendar = [_day(d) for d in day_of[firsts]]
    quarters = np.array([c[2] for c in calendar], dtype=np.int64)
    complete, picked = complete_days(ts, vals, firsts, np.array([c[1] for c in calendar], dtype=np.int64), quarters)
    flow_changes = np.zeros(len(frame), dtype=np.int64)
    flow_changes[1:] = flows[1:] != flows[:-1]
    flow_changes[firsts] = 0
    fast = complete & (np.add.reduceat(flow_changes, firsts) == 0 if len(firsts) else complete)
    offsets = np.concatenate(([0], np.cumsum(quarters[complete])))
    where = dict(zip(np.flatnonzero(complete).tolist(), offsets[:-1].tolist(), strict=True))
    out: dict[str, list] = {k: [] for k in (*keys, *carry, "quantity", "quantities")}
    out.update(values=[], mask=[], imputed=[], missing=[])
    for g, (start, stop) in enumerate(bounds.tolist()):
        day = calendar[g][0]
        cleaned: list[tuple[str, np.ndarray, CleanDay | None]]
        if fast[g]:
            at = where[g]
            cleaned = [(str(quantities[start]), np.rint(vals[picked[at : at + quarters[g]]]).astype(np.int64), None)]
        else:
            # Flows in ascending order, each in arrival order: the later flow of a quantity wins.
            by_quantity: dict[str, tuple[int, int]] = {}
            cuts = [start, *(start + 1 + np.flatnonzero(flows[start + 1 : stop] != flows[start : stop - 1])), stop]
            for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
                by_quantity[str(quantities[lo])] = (int(lo), int(hi))
            cleaned = []
            for quantity in sorted(by_quantity):
                lo, hi = by_quantity[quantity]
                result = clean_day(ts[lo:hi], vals[lo:hi], day)
                cleaned.append((quantity, result.as_int64(), result))
        for quantity, committed, one in cleaned:
            for key, column in columns.items():
                out[key].append(day if key == "day" else column[start])
            out["quantity"].append(quantity)
            out["quantities"].append(len(cleaned))
            out["values"].append(committed)
            if one is None:  # a complete day: nothing imputed, nothing missing
                out["mask"].append(calendar[g][3])
                out["imputed"].append(0)
                out["missing"].append(0)
            else:
                out["mask"].append(imputed_mask(one.imputed))
                out["imputed"].append(int(one.imputed.sum()))
                out["missing"].append(int(one.missing.sum()))
    return pd.DataFrame(out)


def clean_partitions(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas over readings sorted by (community, day, device, flow, seq): one row per device-day and
    quantity (:func:`clean_frame`)."""
    for frame in complete_groups(batches, _DEVICE_KEYS):
        yield clean_frame(frame)


def cleaned_devices(
    readings: DataFrame, devices: DataFrame, members: DataFrame, days: list[date], partitions: int
) -> DataFrame:
    """Every leaf's cleaned day, one row per (community, day, leaf), columns ``CLEANED_COLUMNS``; only devices of
    a member with a wallet count."""
    from pyspark.sql import functions as F

    window = window_readings(readings, days).select(*_DEVICE_KEYS, "flow", "quantity", "ts", "energy_wh", "seq")
    sorted_readings = window.repartition(partitions, *_DEVICE_KEYS).sortWithinPartitions(*_DEVICE_KEYS, "flow", "seq")
    device_days = sorted_readings.mapInPandas(clean_partitions, DEVICE_DAYS_SCHEMA)
    owners = devices.where(F.col("member").isNotNull()).join(members, ["community", "member"])
    leaf = F.when(F.col("quantities") == 1, F.col("pod")).otherwise(F.concat("pod", F.lit("#"), "quantity"))
    return device_days.join(owners, ["community", "device"]).withColumn("leaf_id", leaf).select(*CLEANED_COLUMNS)


def member_readings(
    readings: DataFrame, devices: DataFrame, members: DataFrame, days: list[date], partitions: int
) -> DataFrame:
    """The cleaning windows' readings of every device of a member with a wallet, laid out for a member pass
    that cleans them itself: whole members per partition, sorted by (community, member, day, device, flow, seq).
    One shuffle, where :func:`cleaned_devices` then ``by_member`` take two. ``members`` has the column ``index``
    (an integer per member): readings carry it as ``member``, and their day as days since 1970-01-01, so no
    string or date object is made per reading."""
    from pyspark.sql import functions as F

    owners = (
        devices.where(F.col("member").isNotNull())
        .join(F.broadcast(members), ["community", "member"])
        .select("community", "device", F.col("index").alias("member"))
    )
    window = window_readings(readings, days).select(
        "community", F.unix_date("day").alias("day"), "device", "flow", "quantity", "ts", "energy_wh", "seq"
    )
    return (
        window.join(F.broadcast(owners), ["community", "device"])
        .repartition(partitions, "community", "member")
        .sortWithinPartitions("community", "member", "day", "device", "flow", "seq")
    )
