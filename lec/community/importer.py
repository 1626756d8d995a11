"""Import a community manifest into the database: create or update, idempotently, in one transaction.

Rows are found by their natural keys — the community by its on-chain id, suppliers and flows by name, a member
by its wallet in the community, a device by its POD, a plant by its id in the community — so importing the
same manifest twice changes nothing, and an edited manifest updates only what changed. Nothing is ever
deleted here (removing a member is the right-to-be-forgotten flow). Any fault rolls the whole import back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlmodel import Session, SQLModel, select

from lec.community.manifest import (
    QUANTITY_OF_KIND,
    Fault,
    Manifest,
    ManifestError,
    device_flows,
    effective_flows,
)
from lec.db.enums import (
    AccountConsumption,
    Channel,
    DeviceKind,
    EnergyProfile,
    FlowQuantity,
    Frequency,
    GdprClassification,
    MeasurementTableId,
    MemberKind,
)
from lec.db.models import (
    Community,
    CommunityProfile,
    Device,
    DeviceFlow,
    Flow,
    FlowCommunity,
    MemberPoint,
    Plant,
    Supplier,
    SupplierCommunity,
    User,
    UserCommunity,
)

_FLAG = {
    "none": AccountConsumption.NONE,
    "consumption": AccountConsumption.CONSUMPTION,
    "production": AccountConsumption.PRODUCTION,
}


@dataclass
class ImportReport:
    """What an import did, by kind of row: created, updated, unchanged."""

    community_id: int = 0
    chain_community_id: int = 0
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "community_id": self.community_id,
            "chain_community_id": self.chain_community_id,
            "created": dict(sorted(self.created.items())),
            "updated": dict(sorted(self.updated.items())),
            "unchanged": dict(sorted(self.unchanged.items())),
            "changed": self.changed,
        }


def _apply(
    session: Session,
    report: ImportReport,
    kind: str,
    row: SQLModel | None,
    new: SQLModel | None,
    values: dict[str, Any],
) -> Any:
    """Create ``new`` when ``row`` is None, else set ``values`` on ``row``; count what happened."""
    if row is None:
        assert new is not None
        session.add(new)
        session.flush()
        report.created[kind] += 1
        return new
    changed = False
    for name, value in values.items():
        current = getattr(row, name)
        if hasattr(current, "value") and not hasattr(value, "value"):
            current = current.value
        if current != value:
            setattr(row, name, value)
            changed = True
    if changed:
        session.add(row)
        session.flush()
        report.updated[kind] += 1
    else:
        report.unchanged[kind] += 1
    return row


def _id(row: Any) -> int:
    """The key of a row already flushed."""
    assert row.id is not None
    return int(row.id)


def import_manifest(session: Session, manifest: Manifest, dry_run: bool = False) -> ImportReport:
    """Write the manifest in the session's transaction and commit it; on any fault roll back and raise.
    ``dry_run``: do it all, report what would change, and roll back (the dApp's preview)."""
    try:
        report = _import(session, manifest)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except Exception:
        session.rollback()
        raise
    return report


def _import(session: Session, manifest: Manifest) -> ImportReport:
    spec = manifest.community
    report = ImportReport(chain_community_id=spec.chain_id)
    community = session.exec(select(Community).where(Community.chain_community_id == spec.chain_id)).first()
    same_name = session.exec(select(Community).where(Community.name == spec.name)).first()
    if same_name is not None and community is not None and same_name.id != community.id:
        raise ManifestError([Fault("community.name", "name_taken", {"name": spec.name})])
    if community is None and same_name is not None:
        if same_name.chain_community_id not in (None, spec.chain_id):
            raise ManifestError(
                [
                    Fault(
                        "community.name",
                        "name_on_chain",
                        {"name": spec.name, "other": str(same_name.chain_community_id), "chain_id": str(spec.chain_id)},
                    )
                ]
            )
        community = same_name
    values: dict[str, Any] = {
        "name": spec.name,
        "chain_community_id": spec.chain_id,
        "description": spec.description,
        "latitude": spec.latitude,
        "longitude": spec.longitude,
    }
    community = _apply(
        session, report, "community", community, Community(**values) if community is None else None, values
    )
    community_id = community.id
    assert community_id is not None
    report.community_id = community_id
    profile_values: dict[str, Any] = {
        "zone": spec.zone,
        "region": spec.region,
        "split_key": spec.split_key,
        "producers_pct": spec.producers_pct,
        "allocation": spec.allocation,
    }
    profile = session.get(CommunityProfile, community_id)
    _apply(
        session,
        report,
        "profile",
        profile,
        CommunityProfile(community_id=community_id, **profile_values) if profile is None else None,
        profile_values,
    )

    suppliers_spec, flows_spec = effective_flows(manifest)
    suppliers: dict[str, Supplier] = {}
    for s in suppliers_spec:
        row = session.exec(select(Supplier).where(Supplier.name == s.name)).first()
        values = {"name": s.name, "description": s.description, "url": s.url}
        suppliers[s.name] = _apply(
            session, report, "supplier", row, Supplier(**values) if row is None else None, values
        )
        if session.get(SupplierCommunity, (community_id, suppliers[s.name].id)) is None:
            session.add(SupplierCommunity(community_id=community_id, supplier_id=_id(suppliers[s.name])))
    flows: dict[str, Flow] = {}
    for i, f in enumerate(flows_spec):
        quantity = FlowQuantity(f.quantity)
        flow_row = session.exec(select(Flow).where(Flow.name == f.name)).first()
        values = {
            "name": f.name,
            "supplier_id": suppliers[f.supplier].id,
            "quantity": quantity,
            "channel": Channel(f.channel),
            "frequency": Frequency(f.frequency),
            "description": f.description,
            "measurement_table_id": (
                MeasurementTableId.WEATHERDATA
                if quantity is FlowQuantity.WEATHER
                else MeasurementTableId.COUNTERREADING
            ).value,
            "gdpr_classification": (
                GdprClassification.NOT_PERSONAL if quantity is FlowQuantity.WEATHER else GdprClassification.PERSONAL
            ),
        }
        if flow_row is not None and FlowQuantity(flow_row.quantity) is not quantity:
            raise ManifestError(
                [
                    Fault(
                        f"flows[{i}].quantity",
                        "flow_carries",
                        {"flow": f.name, "carries": FlowQuantity(flow_row.quantity).value},
                    )
                ]
            )
        new = Flow(**values, start_time=datetime(2020, 1, 1, tzinfo=UTC)) if flow_row is None else None
        flows[f.name] = _apply(session, report, "flow", flow_row, new, values)
        link = session.get(FlowCommunity, (community_id, flows[f.name].id))
        flag = _FLAG[f.accountconsumption]
        _apply(
            session,
            report,
            "flow_community",
            link,
            FlowCommunity(community_id=community_id, flow_id=_id(flows[f.name]), account_consumption=flag)
            if link is None
            else None,
            {"account_consumption": flag},
        )

    users: dict[str, int] = {}
    for m in manifest.members:
        wallet = to_checksum_address(m.account)
        membership = session.exec(
            select(UserCommunity).where(UserCommunity.community_id == community_id, UserCommunity.wallet == wallet)
        ).first()
        if membership is None:
            user = session.exec(select(User).where(User.external_id == f"manifest:{spec.chain_id}:{wallet}")).first()
            user = _apply(
                session,
                report,
                "user",
                user,
                User(
                    external_id=f"manifest:{spec.chain_id}:{wallet}",
                    name=m.name or "",
                    surname=m.surname or "",
                    email=m.email or "",
                )
                if user is None
                else None,
                {},
            )
            user_id = user.id
        else:
            user_id = membership.user_id
            user = session.get(User, user_id)
            personal = {
                k: v for k, v in (("name", m.name), ("surname", m.surname), ("email", m.email)) if v is not None
            }
            _apply(session, report, "user", user, None, personal)
        values = {"member_kind": MemberKind(m.kind), "energy_profile": EnergyProfile(m.profile), "wallet": wallet}
        _apply(
            session,
            report,
            "member",
            membership,
            UserCommunity(community_id=community_id, user_id=user_id, **values) if membership is None else None,
            values,
        )
        point = session.get(MemberPoint, (community_id, user_id))
        point_values: dict[str, Any] = {"pod": m.pod, "substation": m.substation}
        _apply(
            session,
            report,
            "member_point",
            point,
            MemberPoint(community_id=community_id, user_id=user_id, **point_values) if point is None else None,
            point_values,
        )
        users[m.account.lower()] = user_id

    for i, d in enumerate(manifest.devices):
        own_flows = device_flows(d, flows_spec)
        accounting = [f for f in own_flows if f.accountconsumption != "none"] or own_flows
        device_row = session.exec(select(Device).where(Device.pod == d.id)).first()
        if device_row is not None and device_row.community_id != community_id:
            raise ManifestError([Fault(f"devices[{i}].id", "device_elsewhere", {"value": d.id})])
        values = {
            "community_id": community_id,
            "user_id": users[d.member.lower()] if d.member else None,
            "kind": DeviceKind(d.kind),
            "name": d.name or f"{d.kind.replace('_', ' ')} {d.id}",
            "default_flow_id": flows[accounting[0].name].id,
            "supplier_id": flows[accounting[0].name].supplier_id,
            "max_power_w": d.max_power_w,
            "latitude": d.latitude,
            "longitude": d.longitude,
        }
        if QUANTITY_OF_KIND[d.kind] == "production":
            values["max_energy_wh"] = 0.0
        if QUANTITY_OF_KIND[d.kind] == "load":
            values["min_energy_wh"] = 0.0
        device = _apply(
            session, report, "device", device_row, Device(pod=d.id, **values) if device_row is None else None, values
        )
        for f in own_flows:
            if session.get(DeviceFlow, (device.id, flows[f.name].id)) is None:
                session.add(DeviceFlow(device_id=_id(device), flow_id=_id(flows[f.name])))
                report.created["device_flow"] += 1

    for p in manifest.plants:
        plant_row = session.exec(select(Plant).where(Plant.community_id == community_id, Plant.ref == p.id)).first()
        values = {
            "user_id": users[p.member.lower()],
            "source": p.source,
            "power_w": round(p.kw * 1000),
            "commissioned": p.commissioned,
            "new_plant": p.new_plant,
            "pnrr_grant_bps": round(p.pnrr_grant_pct * 100),
            "substation": p.substation,
        }
        _apply(
            session,
            report,
            "plant",
            plant_row,
            Plant(community_id=community_id, ref=p.id, **values) if plant_row is None else None,
            values,
        )
    return report
