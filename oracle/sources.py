"""Reading a community's members, devices and raw readings for a period out of the report's schema."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from lec.calendar import STEP_SECONDS, period_start, quarter_hours
from lec.db.models import Community, CounterReading, Device, Flow, UserCommunity
from lec.db.session import init_db
from oracle.clean import MAX_GAP_QUARTERS
from oracle.pipeline import DeviceSeries, MemberInput, PeriodError, PeriodInputs

_ENERGY = ("load", "production", "exchange", "storage")


_COLUMNS = ["id", "device_id", "flow_id", "timestamp", "energy_wh"]


def _fetch_frame(session: Session, stmt: sa.Select, community_id: int, start: int, end: int) -> pd.DataFrame:
    """The readings as a DataFrame. On SQLite the query goes straight to the driver: SQLAlchemy's per-row
    processing would be most of a 10 000-member run. Timestamps there are naive UTC text, so they compare
    as strings."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        cursor = connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            "SELECT id, device_id, flow_id, timestamp, energy_wh FROM counterreading "
            "WHERE community_id = ? AND timestamp >= ? AND timestamp < ? AND energy_wh IS NOT NULL",
            (
                community_id,
                datetime.fromtimestamp(start, UTC).strftime(fmt),
                datetime.fromtimestamp(end, UTC).strftime(fmt),
            ),
        )
        return pd.DataFrame.from_records(cursor.fetchall(), columns=_COLUMNS)
    return pd.DataFrame.from_records(connection.execute(stmt).all(), columns=_COLUMNS)


def _unix_seconds(stamps: pd.Series) -> np.ndarray:
    """Unix seconds of timestamps as the driver returns them: naive UTC text (SQLite) or aware datetimes."""
    parsed = pd.to_datetime(stamps, utc=True, format="ISO8601" if isinstance(stamps.iloc[0], str) else None)
    return (parsed.astype("int64") // 1_000_000_000).to_numpy()


def open_session() -> Session:
    """A session on the platform's database (``DATABASE_URL``), its tables created if missing. Objects stay
    readable after commit: the oracle's jobs keep using the rows they wrote."""
    return Session(init_db(), expire_on_commit=False)


def community_row(session: Session, chain_community_id: int) -> Community:
    row = session.exec(select(Community).where(Community.chain_community_id == chain_community_id)).first()
    if row is None:
        raise PeriodError(
            f"Community {chain_community_id} is not in the database: create it (with its on-chain id) first."
        )
    return row


def member_devices(session: Session, community: Community) -> dict[str, tuple[UserCommunity, list[Device]]]:
    """Each member wallet with its membership row and its devices in the community."""
    memberships = session.exec(
        select(UserCommunity).where(UserCommunity.community_id == community.id, UserCommunity.wallet.is_not(None))  # type: ignore[union-attr]
    ).all()
    devices = session.exec(select(Device).where(Device.community_id == community.id)).all()
    by_user: dict[int, list[Device]] = defaultdict(list)
    for device in devices:
        if device.user_id is not None:
            by_user[device.user_id].append(device)
    return {str(m.wallet): (m, sorted(by_user[m.user_id], key=lambda d: d.pod)) for m in memberships}


def load_inputs(session: Session, chain_community_id: int, day: date) -> PeriodInputs:
    """The period's inputs: every member with a wallet, its devices and their readings of the day
    plus 6 h either side (context for cleaning the day's edges)."""
    community = community_row(session, chain_community_id)
    assert community.id is not None  # a row read from the database has its key
    members = member_devices(session, community)
    margin = MAX_GAP_QUARTERS * STEP_SECONDS
    start = period_start(day) - margin
    end = period_start(day) + quarter_hours(day) * STEP_SECONDS + margin
    flows = {
        f.id: str(f.quantity.value if hasattr(f.quantity, "value") else f.quantity) for f in session.exec(select(Flow))
    }
    stmt = sa.select(  # type: ignore[call-overload]
        CounterReading.id,
        CounterReading.device_id,
        CounterReading.flow_id,
        # Raw column values, parsed below in one vectorised call: per-row datetime conversion would cost
        # seconds for a community of 10 000 members.
        sa.type_coerce(CounterReading.timestamp, sa.String),
        CounterReading.energy_wh,
    ).where(
        CounterReading.community_id == community.id,
        CounterReading.timestamp >= datetime.fromtimestamp(start, UTC),
        CounterReading.timestamp < datetime.fromtimestamp(end, UTC),
        CounterReading.energy_wh.is_not(None),  # type: ignore[union-attr]
    )
    frame = _fetch_frame(session, stmt, community.id, start, end)
    series: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = defaultdict(dict)
    if len(frame):
        seconds = _unix_seconds(frame["timestamp"])
        devices_arr = frame["device_id"].to_numpy(dtype=np.int64)
        flows_arr = frame["flow_id"].to_numpy(dtype=np.int64)
        values = frame["energy_wh"].to_numpy(dtype=np.float64)
        # Group by (device, flow), in order of arrival (row id) inside each group: cleaning keeps the last
        # reading of a quarter hour. Sorting here rather than in SQL spares the database a sort of every row.
        order = np.lexsort((frame["id"].to_numpy(dtype=np.int64), flows_arr, devices_arr))
        keys = np.stack([devices_arr[order], flows_arr[order]], axis=1)
        bounds = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
        for chunk in np.split(order, bounds):
            quantity = flows.get(int(flows_arr[chunk[0]]))
            if quantity in _ENERGY:
                series[int(devices_arr[chunk[0]])][quantity] = (seconds[chunk], values[chunk])
    inputs = []
    for wallet, (membership, devices) in sorted(members.items()):
        device_series = []
        for device in devices:
            by_quantity = series.get(device.id or 0, {})
            quantities = sorted(by_quantity)
            for quantity in quantities:
                ts, vals = by_quantity[quantity]
                # A device with several energy flows commits one leaf per flow.
                leaf_id = device.pod if len(quantities) == 1 else f"{device.pod}#{quantity}"
                device_series.append(DeviceSeries(leaf_id, quantity, ts, vals))  # type: ignore[arg-type]
        profile = membership.energy_profile
        inputs.append(
            MemberInput(
                account=wallet,
                profile=str(profile.value if hasattr(profile, "value") else profile),
                active=bool(membership.active),
                devices=device_series,
            )
        )
    return PeriodInputs(chain_community_id=chain_community_id, day=day, members=inputs)
