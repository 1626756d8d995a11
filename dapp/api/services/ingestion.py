"""A batch of meter readings received over REST: who may send it, the oracle's validation, storage, and the
dashboards' read model refreshed for the days it touched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dapp.api import aggregates
from dapp.api.deps import CommunityAccess
from dapp.api.errors import conflict, forbidden
from dapp.api.roles import METER_GATEWAY
from dapp.api.schemas.ingestion import IngestResult, RejectedReading
from lec.calendar import ROME
from lec.db.enums import ReadingSource
from lec.db.models import Device, Supplier
from oracle.ingest.store import load_catalogue, store_batch
from oracle.validation import Reading, Rejection, validate


def gateway_devices(session: Session, client_id: str, community_id: int) -> set[str]:
    """PODs of the community's devices whose gateway is this Keycloak client."""
    query = (
        select(Device.pod)
        .join(Supplier, Supplier.id == Device.supplier_id)
        .where(Supplier.name == client_id, Device.community_id == community_id)
    )  # type: ignore[arg-type]
    return set(session.exec(query).all())


def check_sender(session: Session, access: CommunityAccess, readings: Sequence[dict[str, Any]]) -> None:
    """A meter gateway (client-credentials token with `meter-gateway`) may only send for its own devices; the
    community admin for any device of the community; nobody else."""
    principal = access.principal
    if principal.has_role(METER_GATEWAY) and principal.service_account:
        assert access.community.id is not None
        own = gateway_devices(session, principal.client_id, access.community.id)
        foreign = sorted({str(r.get("device")) for r in readings if str(r.get("device")) not in own})
        if foreign:
            raise forbidden(
                f"This gateway ({principal.client_id}) may only send readings of its own devices; "
                f"not {', '.join(foreign[:5])}. Ask the community admin to assign them to it."
            )
    elif not access.is_admin:
        raise forbidden("Readings are sent by meter gateways or by the community admin.")


def ingest(
    session: Session, engine: Engine, access: CommunityAccess, readings: Sequence[dict[str, Any]]
) -> IngestResult:
    """Validate each reading as files and MQTT are validated, store the good ones (a bad one does not sink the
    batch), then refresh the dashboards' days."""
    community_id = access.community.id
    assert community_id is not None
    check_sender(session, access, readings)
    catalogue = load_catalogue(engine)
    now = datetime.now(UTC)
    good: list[Reading] = []
    bad: list[tuple[int, Rejection]] = []
    for index, raw in enumerate(readings):
        outcome = validate(raw, catalogue, now, community=community_id, where=f"reading {index}")
        if isinstance(outcome, Rejection):
            bad.append((index, outcome))
        elif outcome.community_id != community_id:
            raise conflict(f"Reading {index} belongs to community {outcome.community_id}.")
        else:
            good.append(outcome)
    with engine.begin() as connection:
        result = store_batch(
            connection, good, [r for _, r in bad], ReadingSource.API, source_ref=access.principal.client_id
        )
    conflicts = result.rejected[len(bad) :]
    days = {r.timestamp.astimezone(ROME).date() for r in good}
    if days:
        aggregates.refresh(session, community_id, days)
    rejected = [
        RejectedReading(index=i, reason=r.reason.value, message=r.message, device=r.device_ref) for i, r in bad
    ] + [RejectedReading(index=-1, reason=r.reason.value, message=r.message, device=r.device_ref) for r in conflicts]
    return IngestResult(accepted=result.accepted, duplicates=result.duplicates, rejected=rejected)
