"""A small registered community for ingestion tests: a load, a PV, an exchange meter and a battery.

Imported by name (pytest puts tests/oracle/data on sys.path; a site-packages `tests` shadows ours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import Community, Device, DeviceFlow, Flow

ACTIVATED = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@dataclass
class World:
    engine: sa.Engine
    community_id: int
    flows: dict[str, int]  # quantity -> flow id
    pods: dict[str, str]  # quantity -> device POD


def build_world(engine: sa.Engine) -> World:
    with Session(engine) as session:
        community = Community(name="Comunità di prova", chain_community_id=7)
        session.add(community)
        session.add(Community(name="Altra comunità"))
        session.flush()
        flows: dict[str, int] = {}
        pods: dict[str, str] = {}
        kinds = {
            FlowQuantity.LOAD: DeviceKind.CONSUMPTION_METER,
            FlowQuantity.PRODUCTION: DeviceKind.PRODUCTION_METER,
            FlowQuantity.EXCHANGE: DeviceKind.EXCHANGE_METER,
            FlowQuantity.STORAGE: DeviceKind.BATTERY,
        }
        for n, (quantity, kind) in enumerate(kinds.items(), start=1):
            flow = Flow(name=f"{quantity.value}-15min", quantity=quantity)
            session.add(flow)
            session.flush()
            device = Device(
                pod=f"IT001E0000000{n}",
                community_id=community.id,
                kind=kind,
                name=f"device {n}",
                default_flow_id=flow.id,
                activated_at=ACTIVATED,
                min_energy_wh=-2000.0,
                max_energy_wh=2000.0,
                max_power_w=8000.0,
            )
            session.add(device)
            session.flush()
            session.add(DeviceFlow(device_id=device.id, flow_id=flow.id))
            flows[quantity.value] = flow.id
            pods[quantity.value] = device.pod
        session.commit()
        return World(engine=engine, community_id=community.id, flows=flows, pods=pods)
