"""The local-day calendar of settlement (DESIGN §5.7): a period is a local day in Europe/Rome.

A day has 92, 96 or 100 quarter hours (the spring and autumn DST days); its period id is the integer
YYYYMMDD and it starts at local midnight. Every part of the platform that asks "which quarter hours make up
this day" — cleaning, KPIs, proofs, the dashboards, the simulator, the scheduler — asks here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

ROME = ZoneInfo("Europe/Rome")
STEP_SECONDS = 900
QUARTERS_PER_HOUR = 4


def period_id(day: date) -> int:
    """The settlement period of a local day as the integer YYYYMMDD."""
    return day.year * 10_000 + day.month * 100 + day.day


def period_day(period: int) -> date:
    """The local day of a period id (inverse of :func:`period_id`)."""
    try:
        return date(period // 10_000, period // 100 % 100, period % 100)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{period} is not a period id of the form YYYYMMDD.") from exc


def period_start(day: date) -> int:
    """Unix time of local midnight in Europe/Rome at the start of ``day``."""
    return int(datetime.combine(day, time(0), tzinfo=ROME).timestamp())


def quarter_hours(day: date) -> int:
    """Number of quarter hours in the local day: 92 on the spring DST day, 100 in autumn, 96 otherwise."""
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ROME).timestamp()
    return int(end - period_start(day)) // STEP_SECONDS


def day_grid(day: date) -> np.ndarray:
    """Unix seconds of the start of every quarter hour of the local day."""
    return period_start(day) + STEP_SECONDS * np.arange(quarter_hours(day), dtype=np.int64)


def day_window(day: date) -> tuple[datetime, datetime]:
    """UTC bounds of a local day: 23, 24 or 25 hours."""
    start = datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=ROME).astimezone(UTC)


def local_day_grid(start: date, days: int) -> pd.DatetimeIndex:
    """UTC starts of every quarter hour of ``days`` local days from ``start``."""
    first = pd.Timestamp(start).tz_localize(ROME)
    end = pd.Timestamp(start + timedelta(days=days)).tz_localize(ROME)
    return pd.date_range(first, end, freq="15min", inclusive="left").tz_convert("UTC")


def local_date(moment: datetime) -> date:
    """The local day an aware instant belongs to."""
    return moment.astimezone(ROME).date()
