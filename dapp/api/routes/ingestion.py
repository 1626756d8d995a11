"""Batch ingestion of meter readings over REST, with the oracle's validation (same rejections as files/MQTT)."""

from __future__ import annotations

from fastapi import APIRouter

from dapp.api.deps import EngineDep, PrincipalDep, SessionDep, load_access
from dapp.api.errors import AUTH_ERRORS, ERRORS
from dapp.api.guards import BatchRoute
from dapp.api.schemas.common import PathId
from dapp.api.schemas.ingestion import IngestResult, ReadingBatch
from dapp.api.services import ingestion

router = APIRouter(
    prefix="/communities", tags=["ingestion"], responses={**AUTH_ERRORS, **ERRORS}, route_class=BatchRoute
)


@router.post("/{community_id}/readings", response_model=IngestResult)
def ingest_readings(
    community_id: PathId, batch: ReadingBatch, principal: PrincipalDep, session: SessionDep, engine: EngineDep
) -> IngestResult:
    """Store a batch of 15-minute readings. A meter gateway (client-credentials token with `meter-gateway`) may
    only send for its own devices; the community admin for any device of the community."""
    return ingestion.ingest(session, engine, load_access(session, principal, community_id), batch.readings)
