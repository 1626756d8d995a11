"""Data quality and load-curve clusters of a community (report §4.3.9): the oracle's anomalies and its latest
clustering run, read from the tables `oracle.validation` and `lec oracle cluster` write."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from sqlmodel import Session, col, select

from dapp.api.deps import CommunityAccess, CommunityReader, SessionDep, community_access
from dapp.api.errors import AUTH_ERRORS, ERRORS, not_found
from dapp.api.guards import GuardedRoute
from dapp.api.roles import AUDITOR, COMMUNITY_ADMIN, PLATFORM_ADMIN
from dapp.api.schemas.common import Offset, Page
from dapp.api.schemas.quality import AnomalyPublic, ClusterAssignment, ClusteringPublic, ClusterPublic
from lec.db.enums import AnomalyReason, SeriesType
from lec.db.models import (
    Anomaly,
    Cluster,
    ClusterDerivedTimeSeries,
    ClusterDevice,
    ClusterGroup,
    ClusterUser,
    DerivedTimeSeries,
    DerivedTimeSeriesData,
    Device,
)
from oracle.cluster import cluster_spread

router = APIRouter(
    prefix="/communities", tags=["quality"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute
)

Overseer = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, AUDITOR, PLATFORM_ADMIN))]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/{community_id}/anomalies", response_model=Page[AnomalyPublic])
def list_anomalies(
    access: Overseer,
    session: SessionDep,
    reason: Annotated[AnomalyReason | None, Query(description="Only anomalies with this reason code.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AnomalyPublic]:
    """The community's anomalies, newest first (community admin, auditor, platform admin)."""
    where = [Anomaly.community_id == access.community.id]
    if reason is not None:
        where.append(Anomaly.reason == reason)
    total = session.exec(select(sa.func.count()).select_from(Anomaly).where(*where)).one()
    rows = session.exec(
        select(Anomaly, Device.pod)
        .outerjoin(Device, Device.id == Anomaly.device_id)  # type: ignore[arg-type]
        .where(*where)
        .order_by(col(Anomaly.detected_at).desc(), col(Anomaly.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    items = [
        AnomalyPublic(
            id=a.id or 0,
            detected_at=a.detected_at,
            pod=pod or a.device_ref,
            timestamp=a.timestamp,
            reason=a.reason,
            message=a.message,
            status=str(a.status),
        )
        for a, pod in rows
    ]
    return Page[AnomalyPublic](items=items, total=int(total), limit=limit, offset=offset)


def _curves(session: Session, cluster_ids: list[int]) -> dict[tuple[int, SeriesType], list[tuple[str, float]]]:
    rows = session.exec(
        select(
            ClusterDerivedTimeSeries.cluster_id,
            DerivedTimeSeries.series_type,
            DerivedTimeSeriesData.x_value,
            DerivedTimeSeriesData.y_value,
        )
        .join(DerivedTimeSeries, DerivedTimeSeries.id == ClusterDerivedTimeSeries.series_id)  # type: ignore[arg-type]
        .join(DerivedTimeSeriesData, DerivedTimeSeriesData.series_id == DerivedTimeSeries.id)  # type: ignore[arg-type]
        .where(col(ClusterDerivedTimeSeries.cluster_id).in_(cluster_ids))
        .order_by(DerivedTimeSeriesData.x_value)
    ).all()
    curves: dict[tuple[int, SeriesType], list[tuple[str, float]]] = defaultdict(list)
    for cluster_id, kind, x, y in rows:
        curves[(cluster_id, kind)].append((x, y))
    return curves


@router.get("/{community_id}/clusters", response_model=ClusteringPublic)
def latest_clustering(access: CommunityReader, session: SessionDep) -> ClusteringPublic:
    """The community's latest clustering run; a member sees the clusters and only their own assignment."""
    community_id = access.community.id
    group = session.exec(
        select(ClusterGroup)
        .where(ClusterGroup.community_id == community_id)
        .order_by(col(ClusterGroup.last_update).desc(), col(ClusterGroup.id).desc())
    ).first()
    if group is None or group.id is None:
        raise not_found(
            f"Community {community_id} has no clustering yet: the oracle admin runs `lec oracle cluster` to make one."
        )
    clusters = session.exec(select(Cluster).where(Cluster.group_id == group.id).order_by(col(Cluster.id))).all()
    ids = [c.id for c in clusters if c.id is not None]
    assignments = [
        ClusterAssignment(cluster_id=cid, user_id=uid, pod=None, timestamp=ts)
        for cid, uid, ts in session.exec(
            select(ClusterUser.cluster_id, ClusterUser.user_id, ClusterUser.timestamp)
            .where(col(ClusterUser.cluster_id).in_(ids))
            .order_by(col(ClusterUser.id))
        ).all()
    ] + [
        ClusterAssignment(cluster_id=cid, user_id=None, pod=pod, timestamp=ts)
        for cid, pod, ts in session.exec(
            select(ClusterDevice.cluster_id, Device.pod, ClusterDevice.timestamp)
            .join(Device, Device.id == ClusterDevice.device_id)  # type: ignore[arg-type]
            .where(col(ClusterDevice.cluster_id).in_(ids))
            .order_by(col(ClusterDevice.id))
        ).all()
    ]
    sizes: dict[int, int] = defaultdict(int)
    for a in assignments:
        sizes[a.cluster_id] += 1
    curves = _curves(session, ids)
    slots = [x for x, _ in curves.get((ids[0], SeriesType.CLUSTER_MEAN_CURVE), [])] if ids else []
    public = []
    for c in clusters:
        assert c.id is not None  # read from the database
        mean = [y for _, y in curves.get((c.id, SeriesType.CLUSTER_MEAN_CURVE), [])]
        spread = [y for _, y in curves.get((c.id, SeriesType.CLUSTER_STD_CURVE), [])]
        std, cv = cluster_spread(mean, spread)
        public.append(
            ClusterPublic(
                id=c.id,
                description=c.description,
                members=sizes[c.id],
                mean_curve=mean,
                std_curve=spread,
                std=std,
                cv=cv,
            )
        )
    user_id = access.user.id if access.user is not None else None
    own = next((a.cluster_id for a in assignments if user_id is not None and a.user_id == user_id), None)
    # Who is in which cluster is personal data: only the community's overseers see every assignment.
    overseer = access.is_admin or access.principal.has_role(AUDITOR)
    return ClusteringPublic(
        group_id=group.id,
        name=group.name,
        description=group.description,
        parameters=json.loads(group.parameters) if group.parameters else {},
        last_update=group.last_update,
        slots=slots,
        clusters=public,
        assignments=assignments if overseer else None,
        own_cluster_id=own,
    )
