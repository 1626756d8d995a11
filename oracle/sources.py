"""Reading a community's members, devices and raw readings for a period out of the report's schema."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import numpy as np
from sqlmodel import Session, select

from oracle.clean import MAX_GAP_QUARTERS
from oracle.db.models import Community, CounterReading, Device, Flow, UserCommunity
from oracle.pipeline import DeviceSeries, MemberInput, PeriodError, PeriodInputs
from oracle.proofs.encoding import STEP_SECONDS, period_start, quarter_hours

_ENERGY = ("load", "production", "exchange", "storage")


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
    members = member_devices(session, community)
    margin = MAX_GAP_QUARTERS * STEP_SECONDS
    start = period_start(day) - margin
    end = period_start(day) + quarter_hours(day) * STEP_SECONDS + margin
    flows = {
        f.id: str(f.quantity.value if hasattr(f.quantity, "value") else f.quantity) for f in session.exec(select(Flow))
    }
    rows = session.exec(
        select(CounterReading.device_id, CounterReading.flow_id, CounterReading.timestamp, CounterReading.energy_wh)
        .where(
            CounterReading.community_id == community.id,
            CounterReading.timestamp >= datetime.fromtimestamp(start, UTC),
            CounterReading.timestamp < datetime.fromtimestamp(end, UTC),
        )
        .order_by(CounterReading.tsi, CounterReading.id)  # type: ignore[arg-type]
    ).all()
    series: dict[int, dict[str, tuple[list[int], list[float]]]] = defaultdict(dict)
    for device_id, flow_id, timestamp, energy in rows:
        quantity = flows.get(flow_id)
        if quantity in _ENERGY and energy is not None:
            ts, vals = series[device_id].setdefault(quantity, ([], []))
            ts.append(int(timestamp.timestamp()))
            vals.append(float(energy))
    inputs = []
    for wallet, (membership, devices) in sorted(members.items()):
        device_series = []
        for device in devices:
            quantities = sorted(series.get(device.id, {}))
            for quantity in quantities:
                ts, vals = series[device.id][quantity]
                # A device with several energy flows commits one leaf per flow.
                leaf_id = device.pod if len(quantities) == 1 else f"{device.pod}#{quantity}"
                device_series.append(DeviceSeries(leaf_id, quantity, np.array(ts), np.array(vals)))  # type: ignore[arg-type]
        profile = membership.energy_profile
        inputs.append(
            MemberInput(
                account=wallet,
                profile=str(profile.value if hasattr(profile, "value") else profile),
                active=bool(membership.active),
                devices=device_series,
            )
        )
    return PeriodInputs(community_id=chain_community_id, day=day, members=inputs)
