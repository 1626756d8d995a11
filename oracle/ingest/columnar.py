"""The bulk path for CSV files: the checks of :func:`oracle.validation.validate`, vectorised with pandas.

Only rows that are plainly valid take this path: every column in its plain form (ISO 8601 with an offset,
plain decimals), a registered device, its default or one of its flows, within time, sign and bounds. Any
row with anything unusual — and every row sharing a (device, flow, timestamp) with another row of the chunk —
is handed back to the caller, who runs the per-row :func:`validate` on it. So a reading is accepted here
only if `validate` would accept it with the same values (tests/oracle/data/test_columnar.py checks this),
and every rejection reason and message still comes from `validate`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lec.db.enums import AnomalyReason
from lec.db.models import CounterReading
from oracle.validation import _FIXED_RANGES, _SIGN, CLOCK_SKEW, OPTIONAL_FIELDS, Catalogue, Rejection

_ISO_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})$"
_PLAIN_DECIMAL = r"^-?\d{1,15}(?:\.\d{1,15})?$"
VALUE_COLUMNS = ("energy_wh", *OPTIONAL_FIELDS)


@dataclass
class Split:
    fast: pd.DataFrame  # device_id, flow_id, community_id, timestamp, energy_wh, optional columns, row
    slow: list[int]  # positions (in the chunk) for the per-row validation


def _arrow_strings() -> bool:
    # pyarrow makes the string checks vectorised C++; it comes with streamlit but is optional here (a pyarrow
    # built for another numpy fails to import), and the pure-Python strings give the same answers, slower.
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


_ARROW = _arrow_strings()
_STRINGS = "string[pyarrow]" if _ARROW else "string[python]"


def _bool(mask: pd.Series) -> np.ndarray:
    return mask.fillna(False).to_numpy(dtype=bool)


def _numbers(text: pd.Series, where: np.ndarray) -> np.ndarray:
    if _ARROW:
        # Arrow's correctly rounded decimal parse: for plain decimals the same double as Python's float().
        return text.where(where, None).astype("float64[pyarrow]").to_numpy(dtype="float64", na_value=np.nan)
    return np.array([float(v) if ok else np.nan for v, ok in zip(text.tolist(), where, strict=True)], dtype=float)


def split(chunk: pd.DataFrame, catalogue: Catalogue, now: datetime) -> Split:
    """Separate plainly valid rows (vectorised) from the rest. `chunk` holds the CSV's text columns."""
    n = len(chunk)
    empty = pd.Series([""] * n, dtype=_STRINGS)
    text = {
        c: chunk[c].reset_index(drop=True).astype(_STRINGS) if c in chunk else empty
        for c in ("device", "community", "flow", "timestamp", *VALUE_COLUMNS)
    }

    infos = list(catalogue.devices.values())
    position = pd.Index([d.pod for d in infos], dtype=object).get_indexer(text["device"].to_numpy(dtype=object))
    known = position >= 0

    def column(values: list[float | None]) -> np.ndarray:
        table = np.array([np.nan if v is None else float(v) for v in values] + [np.nan], dtype="float64")
        return table[np.where(known, position, len(values))]

    device_id = column([d.id for d in infos])
    device_community = column([d.community_id for d in infos])
    default_flow = column([d.default_flow_id for d in infos])
    min_e, max_e, max_p = (
        column([getattr(d, a) for d in infos]) for a in ("min_energy_wh", "max_energy_wh", "max_power_w")
    )
    activated = pd.to_datetime(pd.Series([d.activated_at for d in infos] + [None], dtype=object), utc=True)
    # Naive UTC datetime64 on both sides, so the comparison is one vectorised operation.
    activated_at = activated.dt.tz_localize(None).to_numpy("datetime64[ns]")[np.where(known, position, len(infos))]
    ok = known.copy()

    if "community" in chunk:
        community = text["community"]
        community_num = _numbers(community, _bool(community.str.fullmatch(r"\d{1,15}")))
        ok &= _bool(community == "") | (community_num == device_community)

    flow_id = default_flow
    if "flow" in chunk:
        flow = text["flow"]
        flow_num = _numbers(flow, _bool(flow.str.fullmatch(r"\d{1,15}")))
        flow_id = np.where(_bool(flow == ""), default_flow, flow_num)
    pairs = {(float(d.id), float(f)) for d in infos for f in d.flow_ids}
    ok &= np.fromiter(((dev, fl) in pairs for dev, fl in zip(device_id, flow_id, strict=True)), dtype=bool, count=n)

    stamp_text = text["timestamp"]
    ok &= _bool(stamp_text.str.match(_ISO_WITH_OFFSET))
    stamps = pd.to_datetime(stamp_text.where(ok, None), format="ISO8601", utc=True, errors="coerce")
    ok &= _bool(stamps.notna()) & _bool(stamps <= pd.Timestamp(now + CLOCK_SKEW))
    ok &= np.isnat(activated_at) | (stamps.dt.tz_localize(None).to_numpy("datetime64[ns]") >= activated_at)

    values: dict[str, np.ndarray] = {}
    for name in VALUE_COLUMNS:
        if name not in chunk and name != "energy_wh":  # a column the file does not have: all absent
            values[name] = np.full(n, np.nan)
            continue
        raw = text[name]
        plain = _bool(raw.str.match(_PLAIN_DECIMAL))
        ok &= plain if name == "energy_wh" else plain | _bool(raw == "")
        values[name] = _numbers(raw, plain)

    quantity = [catalogue.flows.get(int(f)) if f == f else None for f in flow_id]
    sign = np.fromiter((_SIGN.get(q, 0) if q is not None else 0 for q in quantity), dtype=float, count=n)
    with np.errstate(invalid="ignore"):
        for name in ("energy_wh", "power_active_w"):
            ok &= ~((values[name] * sign) < 0)
        energy = values["energy_wh"]
        ok &= ~(energy < min_e) & ~(energy > max_e)
        ok &= ~(np.abs(values["power_active_w"]) > max_p)
        for name, (low, high) in _FIXED_RANGES.items():
            v = values[name]
            ok &= np.isnan(v) | ((v >= low) & (v <= high))

    fast = pd.DataFrame(
        {
            "device_id": device_id,
            "flow_id": flow_id,
            "community_id": device_community,
            "timestamp": stamps.array,
            **values,
            "timestamp_text": stamp_text.to_numpy(dtype=object),
            "row": np.arange(n),
        }
    )[ok]
    fast = fast.astype({"device_id": "int64", "flow_id": "int64", "community_id": "int64"})
    # Rows sharing a key inside the chunk go the careful way (first wins, conflicts are held for review).
    repeated = fast.duplicated(["device_id", "flow_id", "timestamp"], keep=False).to_numpy()
    slow = sorted(set(np.flatnonzero(~ok).tolist()) | set(fast["row"].to_numpy()[repeated].tolist()))
    return Split(fast=fast[~repeated].reset_index(drop=True), slow=slow)


def _existing(connection: Connection, fast: pd.DataFrame) -> pd.DataFrame:
    table = CounterReading.__table__  # type: ignore[attr-defined]
    query = sa.select(
        table.c.device_id, table.c.flow_id, table.c.timestamp, *[table.c[c].label(f"stored_{c}") for c in VALUE_COLUMNS]
    ).where(
        table.c.device_id.in_(sorted(int(d) for d in fast["device_id"].unique())),
        table.c.timestamp >= fast["timestamp"].min().to_pydatetime(),
        table.c.timestamp <= fast["timestamp"].max().to_pydatetime(),
    )
    rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=["device_id", "flow_id", "timestamp", *[f"stored_{c}" for c in VALUE_COLUMNS]])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.astype({"device_id": "int64", "flow_id": "int64"})


def store_fast(
    connection: Connection, fast: pd.DataFrame, source: str, tsi: int, row_label: Sequence[str] | None = None
) -> tuple[int, int, list[Rejection]]:
    """Write the fast rows that are new; returns (accepted, exact duplicates, conflicting duplicates)."""
    if fast.empty:
        return 0, 0, []
    existing = _existing(connection, fast)
    merged = fast.merge(existing, on=["device_id", "flow_id", "timestamp"], how="left", indicator=True)
    known = (merged["_merge"] == "both").to_numpy()
    same = np.ones(len(merged), dtype=bool)
    for c in VALUE_COLUMNS:
        a, b = merged[c].to_numpy(), merged[f"stored_{c}"].to_numpy(dtype="float64")
        same &= (a == b) | (np.isnan(a) & np.isnan(b))
    new = merged[~known]
    conflicts = [
        Rejection(
            reason=AnomalyReason.CONFLICTING_DUPLICATE,
            message=(
                f"A reading for the same device, flow and time ({row.timestamp.isoformat()}) is already stored "
                f"with different values (stored energy_wh {row.stored_energy_wh}, received {row.energy_wh}); "
                "the stored one is kept and this one is held for review."
            ),
            raw={
                "received": {c: _none(getattr(row, c)) for c in VALUE_COLUMNS},
                "stored": {c: _none(getattr(row, f"stored_{c}")) for c in VALUE_COLUMNS},
                "timestamp": row.timestamp.isoformat(),
            },
            device_id=int(row.device_id),
            community_id=int(row.community_id),
            flow_id=int(row.flow_id),
            timestamp=row.timestamp.to_pydatetime(),
            where=row_label[int(row.row)] if row_label is not None else None,
        )
        for row in merged[known & ~same].itertuples()
    ]
    if not new.empty:
        _write(connection, new, source, tsi)
    return len(new), int((known & same).sum()), conflicts


def _none(value: float | None) -> float | None:
    return None if value is None or value != value else float(value)  # NaN → None


def _write(connection: Connection, new: pd.DataFrame, source: str, tsi: int) -> None:
    columns = ["device_id", "flow_id", "community_id", "timestamp", *VALUE_COLUMNS]
    if connection.dialect.name == "postgresql":
        out = new[columns].copy()
        # The sender's own ISO 8601 text (validated above): PostgreSQL parses offsets itself.
        out["timestamp"] = new["timestamp_text"]
        out["tsi"] = tsi
        out["source"] = source
        buffer = io.StringIO()
        # repr-exact floats: pandas writes the shortest string that reads back to the same double.
        out.to_csv(buffer, index=False, header=False, na_rep="", float_format=None)
        raw = connection.connection.driver_connection
        assert raw is not None  # a live psycopg connection inside the caller's transaction
        names = ", ".join([*columns, "tsi", "source"])
        try:
            # A savepoint: if another ingester stored one of these rows since our look-up, the COPY fails
            # on the unique key and the conflict-tolerant INSERT below takes over.
            with (
                raw.transaction(),
                raw.cursor() as cursor,
                cursor.copy(f"COPY counterreading ({names}) FROM STDIN (FORMAT csv)") as copy,
            ):
                copy.write(buffer.getvalue())
            return
        except Exception as error:  # psycopg.errors.UniqueViolation, imported lazily with the driver
            if type(error).__name__ != "UniqueViolation":
                raise
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS lec_incoming (LIKE counterreading INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            with cursor.copy(f"COPY lec_incoming ({names}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            cursor.execute(
                f"INSERT INTO counterreading ({names}) SELECT {names} FROM lec_incoming "
                "ON CONFLICT (device_id, timestamp, flow_id) DO NOTHING"
            )
        return
    # SQLAlchemy's SQLite DATETIME text (naive UTC), formatted in one vectorised call.
    iso = np.datetime_as_string(
        new["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]"), unit="us"
    )
    stamps = np.char.replace(iso, "T", " ").tolist()
    value_lists = [new[c].astype(object).where(new[c].notna(), None).tolist() for c in VALUE_COLUMNS]
    rows = list(
        zip(
            new["device_id"].tolist(),
            new["flow_id"].tolist(),
            new["community_id"].tolist(),
            stamps,
            *value_lists,
            [tsi] * len(new),
            [source] * len(new),
            strict=True,
        )
    )
    connection.exec_driver_sql(
        f"INSERT INTO counterreading ({', '.join([*columns, 'tsi', 'source'])}) "
        f"VALUES ({', '.join('?' for _ in range(len(columns) + 2))}) "
        "ON CONFLICT (device_id, timestamp, flow_id) DO NOTHING",
        rows,
    )
