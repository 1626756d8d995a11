"""Two small communities in the report's schema with what makes cleaning and rewards interesting.

Community 1: a prosumer with a 45-minute gap (imputed), a re-sent reading (the last one wins) and an off-grid
timestamp (snapped); a consumer with a 7-hour gap (left missing); a member with only a grid (exchange) meter;
a consumer whose exchange meter overrides its load meter; a prostormer with PV and a battery; a meter that
reports load and production on two flows (two leaves); an inactive member; a member without any device.
Community 2: two plain members. Readings cover the asked days and 6 h either side.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from lec.calendar import day_grid, period_start
from lec.db.enums import DeviceKind, EnergyProfile, FlowQuantity, ReadingSource
from lec.db.models import Community, CounterReading, Device, Flow, User, UserCommunity

# The tests' Spark: small and quick to start.
SMALL = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.driver.memory": "1g",
    # Short-lived JVMs: the first JIT tier only, one compiler thread, the serial collector (start-up, not peak speed).
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:+UseSerialGC",
    "spark.executor.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:+UseSerialGC",
}

DST_DAY = date(2026, 10, 25)  # autumn DST: 100 quarter hours
NORMAL_DAY = date(2026, 11, 25)
MARGIN = 24  # quarter hours of context either side


def wallet(i: int) -> str:
    return "0x" + f"{0xA0 + i:02x}" * 20


def _timeline(days: list[date]) -> np.ndarray:
    grids = [day_grid(d) for d in sorted(days)]
    first, last = grids[0][0], period_start(max(days) + timedelta(days=1))
    before = first - 900 * np.arange(MARGIN, 0, -1)
    after = last + 900 * np.arange(MARGIN)
    return np.unique(np.concatenate([before, *grids, after]))


def _curve(kind: str, ts: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    hours = (ts % 86400) / 3600.0
    if kind == "load":
        return np.round(60 + 90 * np.exp(-((hours - 19) ** 2) / 6) * scale + rng.integers(0, 30, ts.size))
    if kind == "production":
        return -np.round(np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * 300 * scale)
    if kind == "storage":
        return np.round(np.where((hours > 10) & (hours < 14), 80, np.where(hours > 19, -60, 0)) * scale)
    # exchange: withdrawal + at night, injection − at noon
    return np.round(np.where((hours > 9) & (hours < 15), -150, 120) * scale + rng.integers(0, 20, ts.size))


# (wallet index, profile, active, devices: (pod, kind, [quantities]))
_MEMBERS = {
    1: [
        (0, "prosumer", True, [("IT001E00000000", "load"), ("IT001P00000000", "production")]),
        (1, "consumer", True, [("IT001E00000001", "load")]),
        (2, "prosumer", True, [("IT001X00000002", "exchange")]),
        (3, "consumer", True, [("IT001E00000003", "load"), ("IT001X00000003", "exchange")]),
        (4, "prostormer", True, [("IT001E00000004", "load"), ("IT001P00000004", "production"), ("B-4", "storage")]),
        (5, "prosumer", True, [("IT001M00000005", "load"), ("IT001M00000005", "production")]),
        (6, "consumer", False, [("IT001E00000006", "load")]),
        (7, "consumer", True, []),
    ],
    2: [
        (10, "prosumer", True, [("IT002E00000010", "load"), ("IT002P00000010", "production")]),
        (11, "consumer", True, [("IT002E00000011", "load")]),
    ],
}
_KINDS = {
    "load": DeviceKind.CONSUMPTION_METER,
    "production": DeviceKind.PRODUCTION_METER,
    "exchange": DeviceKind.EXCHANGE_METER,
    "storage": DeviceKind.BATTERY,
}


def populate(session: Session, days: list[date], seed: int = 3) -> dict[int, dict[str, list[str]]]:
    """Both communities with readings of ``days``; returns community → wallet → PODs."""
    rng = np.random.default_rng(seed)
    flows = {q: Flow(name=q, quantity=FlowQuantity(q)) for q in _KINDS}
    session.add_all(flows.values())
    session.flush()
    ts = _timeline(days)
    readings = []
    pods: dict[int, dict[str, list[str]]] = {}
    for chain_id, members in _MEMBERS.items():
        community = Community(name=f"Spark LEC {chain_id}", chain_community_id=chain_id)
        session.add(community)
        session.flush()
        pods[chain_id] = {}
        devices: dict[str, Device] = {}
        for index, profile, active, owned in members:
            user = User(external_id=f"u{index}", name=f"N{index}", surname=f"S{index}", email=f"u{index}@example.org")
            session.add(user)
            session.flush()
            session.add(
                UserCommunity(
                    community_id=community.id,
                    user_id=user.id,
                    wallet=wallet(index),
                    energy_profile=EnergyProfile(profile),
                    active=active,
                )
            )
            pods[chain_id][wallet(index)] = sorted({pod for pod, _ in owned})
            for pod, quantity in owned:
                if pod not in devices:
                    devices[pod] = Device(
                        pod=pod, community_id=community.id, user_id=user.id, kind=_KINDS[quantity], name=pod
                    )
                    session.add(devices[pod])
                    session.flush()
                values = _curve(quantity, ts, 1 + index / 10, rng)
                keep = np.ones(ts.size, dtype=bool)
                stamps = ts.copy()
                if index == 0 and quantity == "load":
                    for d in days:
                        at = int(np.searchsorted(ts, period_start(d))) + 40
                        keep[at : at + 3] = False  # 45 minutes: imputed
                    stamps[MARGIN + 10] += 7 * 60  # off the grid: snapped back
                if index == 1:
                    for d in days:
                        at = int(np.searchsorted(ts, period_start(d))) + 4
                        keep[at : at + 28] = False  # 7 hours: left missing
                for t, v in zip(stamps[keep], values[keep], strict=True):
                    readings.append((devices[pod].id, flows[quantity].id, community.id, int(t), float(v)))
                if index == 0 and quantity == "load":
                    # A later reading 5 minutes into a quarter hour already measured: snapped onto it, and as
                    # the last one received it wins over the first in both engines.
                    late = int(ts[MARGIN + 20]) + 300
                    readings.append((devices[pod].id, flows[quantity].id, community.id, late, 999.0))
    rows = [
        {
            "device_id": d,
            "flow_id": f,
            "community_id": c,
            "timestamp": datetime.fromtimestamp(t, UTC),
            "energy_wh": v,
            "tsi": i,
            "source": ReadingSource.FILE,
        }
        for i, (d, f, c, t, v) in enumerate(readings)
    ]
    session.execute(sa.insert(CounterReading), rows)
    session.commit()
    return pods
