"""The onboarding routes' use cases: who may import a manifest, the import itself (or its preview), and the review
of an anomaly."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from dapp.api.deps import authorise, load_access
from dapp.api.errors import invalid, not_found
from dapp.api.roles import COMMUNITY_ADMIN, PLATFORM_ADMIN
from dapp.api.security import Principal
from lec.community.importer import import_manifest
from lec.community.manifest import ManifestError, validate_manifest
from lec.db.enums import AnomalyStatus
from lec.db.models import Anomaly, Community
from lec.db.types import utcnow


def import_as(session: Session, principal: Principal, data: Any, dry_run: bool) -> dict[str, Any]:
    """A platform admin imports any manifest; a community admin only their own community's (found by its
    on-chain id), so a new community is always a platform admin's act."""
    try:
        manifest = validate_manifest(data)
    except ManifestError as exc:
        raise invalid(str(exc)) from exc
    chain_id = manifest.community.chain_id
    community = session.exec(select(Community).where(Community.chain_community_id == chain_id)).first()
    if not principal.has_role(PLATFORM_ADMIN):
        if community is None or community.id is None:
            raise not_found(
                f"Community {chain_id} is not on the platform yet: a platform admin imports its first manifest."
            )
        authorise(load_access(session, principal, community.id), (COMMUNITY_ADMIN,))
    try:
        report = import_manifest(session, manifest, dry_run=dry_run)
    except ManifestError as exc:
        raise invalid(str(exc)) from exc
    return {**report.as_dict(), "dry_run": dry_run}


def review_anomaly(session: Session, community_id: int, anomaly_id: int, status: str, reviewer: str) -> Anomaly:
    anomaly = session.get(Anomaly, anomaly_id)
    if anomaly is None or anomaly.community_id != community_id:
        raise not_found(f"Community {community_id} has no anomaly {anomaly_id}.")
    anomaly.status = AnomalyStatus(status)
    anomaly.reviewed_at = None if status == "open" else utcnow()
    anomaly.reviewed_by = None if status == "open" else reviewer
    session.add(anomaly)
    session.commit()
    session.refresh(anomaly)
    return anomaly
