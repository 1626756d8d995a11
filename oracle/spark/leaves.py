"""The salted device-day leaves on Spark: ``oracle.proofs.encoding.data_leaf`` in a pandas UDF.

The salts come from the oracle's database for this job only (a DataFrame joined on the leaf id, never
written to the lake); each worker ABI-encodes and hashes its devices' days (keccak in C), and the driver
gets back one ``(leaf id, deviceKey, readingsHash)`` per device to build the tree with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lec.calendar import quarter_hours
from oracle.proofs.encoding import DeviceDay, data_leaf

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SALTS_SCHEMA = "community INT, day DATE, leaf_id STRING, salt BINARY"
LEAVES_SCHEMA = "community INT, day DATE, leaf_id STRING, device_key STRING, readings_hash STRING"


def imputed_flags(mask: bytes, n: int) -> np.ndarray:
    """The imputed flags of ``n`` quarter hours back from the committed mask (bit k of byte k // 8)."""
    bits = np.unpackbits(np.frombuffer(bytes(mask), dtype=np.uint8), bitorder="little")
    return bits[:n].astype(bool)


def leaf_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas: the data leaf of every device-day in the batch."""
    for batch in batches:
        keys, digests = [], []
        for leaf_id, values, mask, salt, day in zip(
            batch["leaf_id"], batch["values"], batch["mask"], batch["salt"], batch["day"], strict=True
        ):
            n = quarter_hours(day)
            device = DeviceDay(leaf_id, np.asarray(values, dtype=np.int64), imputed_flags(mask, n))
            key, digest = data_leaf(bytes(salt), day, device)
            keys.append(key)
            digests.append(digest)
        yield pd.DataFrame(
            {
                "community": batch["community"],
                "day": batch["day"],
                "leaf_id": batch["leaf_id"],
                "device_key": keys,
                "readings_hash": digests,
            }
        )


def salts_frame(spark: SparkSession, salts: Mapping[tuple[int, date], Mapping[str, bytes]]) -> DataFrame:
    """The salts of this job as a DataFrame: (community, day) → leaf id → salt."""
    rows = [
        (community, day, leaf_id, salt)
        for (community, day), by_leaf in salts.items()
        for leaf_id, salt in by_leaf.items()
    ]
    frame = pd.DataFrame(rows, columns=["community", "day", "leaf_id", "salt"])
    return spark.createDataFrame(frame, SALTS_SCHEMA)


def data_leaves(cleaned: DataFrame, salts: DataFrame) -> DataFrame:
    """``LEAVES_SCHEMA``: one leaf per cleaned device-day that has a salt."""
    joined = cleaned.select("community", "day", "leaf_id", "values", "mask").join(
        salts, ["community", "day", "leaf_id"]
    )
    return joined.mapInPandas(leaf_batches, LEAVES_SCHEMA)
