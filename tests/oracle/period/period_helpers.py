"""Helpers of the period tests: a small community in the report's schema."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

PROFILES = ["prosumer", "consumer", "prosumer", "consumer", "prostormer", "consumer"]


def populate_community(session, members: list[str], day: date, seed: int = 7) -> dict[str, list[str]]:
    """A community in the report's schema: each member a home meter, prosumers also a PV meter.

    Readings cover the day and 6 h either side, with a 45-minute gap (imputed) and a 7-hour gap (missing).
    Returns each member's device PODs.
    """
    from lec.calendar import day_grid
    from lec.db.enums import DeviceKind, EnergyProfile, FlowQuantity
    from lec.db.models import Community, CounterReading, Device, Flow, User, UserCommunity

    rng = np.random.default_rng(seed)
    community = Community(name="Test LEC", chain_community_id=1)
    load_flow = Flow(name="home load", quantity=FlowQuantity.LOAD)
    pv_flow = Flow(name="pv production", quantity=FlowQuantity.PRODUCTION)
    session.add_all([community, load_flow, pv_flow])
    session.flush()
    grid = day_grid(day)
    ts = np.concatenate([grid[0] - 900 * np.arange(24, 0, -1), grid, grid[-1] + 900 * np.arange(1, 25)])
    hours = ((ts - grid[0]) / 3600.0) % 24
    pods: dict[str, list[str]] = {}
    for i, wallet in enumerate(members):
        user = User(external_id=f"u{i}", name=f"Name{i}", surname=f"Surname{i}", email=f"u{i}@example.org")
        session.add(user)
        session.flush()
        profile = PROFILES[i]
        session.add(
            UserCommunity(
                community_id=community.id, user_id=user.id, wallet=wallet, energy_profile=EnergyProfile(profile)
            )
        )
        meters = [(f"IT001E{i:08d}", DeviceKind.CONSUMPTION_METER, load_flow)]
        if profile != "consumer":
            meters.append((f"IT001P{i:08d}", DeviceKind.PRODUCTION_METER, pv_flow))
        pods[wallet] = [m[0] for m in meters]
        for pod, kind, flow in meters:
            device = Device(pod=pod, community_id=community.id, user_id=user.id, kind=kind, name=pod)
            session.add(device)
            session.flush()
            if flow is load_flow:
                values = 60 + 90 * np.exp(-((hours - 20) ** 2) / 6) + rng.integers(0, 30, ts.size)
            else:
                values = -np.round(np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * (250 + 40 * i))
            keep = np.ones(ts.size, dtype=bool)
            if i == 0 and flow is load_flow:
                keep[24 + 40 : 24 + 43] = False  # 45 minutes: interpolated
            if i == 1:
                keep[24 + 4 : 24 + 32] = False  # 7 hours: left missing
            for t, v in zip(ts[keep], values[keep], strict=True):
                session.add(
                    CounterReading(
                        device_id=device.id,
                        flow_id=flow.id,
                        community_id=community.id,
                        timestamp=datetime.fromtimestamp(int(t), UTC),
                        energy_wh=float(round(v)),
                        tsi=int(t) * 1000,
                    )
                )
    session.commit()
    return pods
