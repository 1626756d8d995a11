"""The community admin's onboarding (docs/onboarding.md): import a community's manifest (or preview what the
import would change), and mark an anomaly reviewed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from dapp.api.deps import CommunityAccess, PrincipalDep, SessionDep, community_access
from dapp.api.errors import AUTH_ERRORS, ERRORS
from dapp.api.guards import GuardedRoute
from dapp.api.roles import COMMUNITY_ADMIN, PLATFORM_ADMIN
from dapp.api.schemas.onboarding import AnomalyReview, AnomalyReviewed, ImportOutcome
from dapp.api.services.onboarding import import_as, review_anomaly

router = APIRouter(tags=["onboarding"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute)

Admin = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, PLATFORM_ADMIN))]


@router.post("/onboarding/manifest", response_model=ImportOutcome)
def import_manifest_route(
    principal: PrincipalDep,
    session: SessionDep,
    manifest: Annotated[dict[str, Any], Body(description="The community manifest (docs/onboarding.md).")],
    dry_run: Annotated[bool, Query(description="Only say what the import would change.")] = False,
) -> dict[str, Any]:
    """Create or update a community from its manifest, idempotently, in one transaction (platform admin; the
    community's own admin for an existing community)."""
    return import_as(session, principal, manifest, dry_run)


@router.patch("/communities/{community_id}/anomalies/{anomaly_id}", response_model=AnomalyReviewed)
def review_anomaly_route(access: Admin, session: SessionDep, anomaly_id: int, body: AnomalyReview) -> AnomalyReviewed:
    """Mark an anomaly reviewed or resolved (or open again), with who did it and when (community admin)."""
    assert access.community.id is not None
    anomaly = review_anomaly(session, access.community.id, anomaly_id, body.status, access.principal.subject)
    return AnomalyReviewed(
        id=anomaly.id or 0,
        status=str(anomaly.status.value if hasattr(anomaly.status, "value") else anomaly.status),
        reviewed_at=anomaly.reviewed_at,
        reviewed_by=anomaly.reviewed_by,
    )
