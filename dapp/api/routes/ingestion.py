"""Batch ingestion of meter readings over REST, with the oracle's validation (same rejections as files/MQTT)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlmodel import select

from dapp.api import aggregates
from dapp.api.deps import (
    METER_GATEWAY,
    EngineDep,
    PrincipalDep,
    SessionDep,
    forbidden,
    load_access,
)
from dapp.api.routes.identity import ERRORS
from dapp.api.schemas import AUTH_ERRORS, PathId, StrictModel
from lec.calendar import ROME
from lec.db.enums import ReadingSource
from lec.db.models import Device, Supplier
from oracle.ingest.store import load_catalogue, store_batch
from oracle.validation import Reading, Rejection, validate

router = APIRouter(prefix="/communities", tags=["ingestion"], responses={**AUTH_ERRORS, **ERRORS})

MAX_BATCH = 5000


class ReadingBatch(StrictModel):
    # Readings stay loosely typed here on purpose: the oracle's validation decides, reading by reading, and
    # answers each bad one with its reason, as for files and MQTT; good readings in the batch are kept.
    readings: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH)]


class RejectedReading(BaseModel):
    index: int
    reason: str
    message: str
    device: str | None


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: list[RejectedReading]


def gateway_devices(session: SessionDep, client_id: str, community_id: PathId) -> set[str]:
    """PODs of the community's devices whose gateway is this Keycloak client."""
    query = (
        select(Device.pod)
        .join(Supplier, Supplier.id == Device.supplier_id)
        .where(Supplier.name == client_id, Device.community_id == community_id)
    )  # type: ignore[arg-type]
    return set(session.exec(query).all())


@router.post("/{community_id}/readings", response_model=IngestResult)
def ingest_readings(
    community_id: PathId, batch: ReadingBatch, principal: PrincipalDep, session: SessionDep, engine: EngineDep
) -> IngestResult:
    """Store a batch of 15-minute readings. A meter gateway (client-credentials token with `meter-gateway`) may
    only send for its own devices; the community admin for any device of the community."""
    access = load_access(session, principal, community_id)
    if principal.has_role(METER_GATEWAY) and principal.service_account:
        own = gateway_devices(session, principal.client_id, community_id)
        foreign = sorted({str(r.get("device")) for r in batch.readings if str(r.get("device")) not in own})
        if foreign:
            raise forbidden(
                f"This gateway ({principal.client_id}) may only send readings of its own devices; "
                f"not {', '.join(foreign[:5])}. Ask the community admin to assign them to it."
            )
    elif not access.is_admin:
        raise forbidden("Readings are sent by meter gateways or by the community admin.")
    catalogue = load_catalogue(engine)
    now = datetime.now(UTC)
    good: list[Reading] = []
    bad: list[tuple[int, Rejection]] = []
    for index, raw in enumerate(batch.readings):
        outcome = validate(raw, catalogue, now, community=community_id, where=f"reading {index}")
        if isinstance(outcome, Rejection):
            bad.append((index, outcome))
        elif outcome.community_id != community_id:
            raise HTTPException(409, detail=f"Reading {index} belongs to community {outcome.community_id}.")
        else:
            good.append(outcome)
    with engine.begin() as connection:
        result = store_batch(connection, good, [r for _, r in bad], ReadingSource.API, source_ref=principal.client_id)
    conflicts = result.rejected[len(bad) :]
    days = {r.timestamp.astimezone(ROME).date() for r in good}
    if days:
        aggregates.refresh(session, community_id, days)
    rejected = [
        RejectedReading(index=i, reason=r.reason.value, message=r.message, device=r.device_ref) for i, r in bad
    ] + [RejectedReading(index=-1, reason=r.reason.value, message=r.message, device=r.device_ref) for r in conflicts]
    return IngestResult(accepted=result.accepted, duplicates=result.duplicates, rejected=rejected)
