"""Data quality (anomalies) and load-curve clusters of a community."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from lec.db.enums import AnomalyReason


class AnomalyPublic(BaseModel):
    """One anomaly without personal data: the device's POD (or the id as received), never the payload."""

    id: int
    detected_at: datetime
    pod: str | None
    timestamp: datetime | None
    reason: AnomalyReason
    message: str
    status: str


class ClusterPublic(BaseModel):
    id: int
    description: str
    members: int
    mean_curve: list[float]
    std_curve: list[float]
    std: float  # mean of the std curve
    cv: float  # coefficient of variation: mean std over mean level (0 for a flat or empty cluster)


class ClusterAssignment(BaseModel):
    cluster_id: int
    user_id: int | None
    pod: str | None
    timestamp: int | None


class ClusteringPublic(BaseModel):
    group_id: int
    name: str
    description: str
    parameters: dict[str, Any]
    last_update: datetime
    slots: list[str]
    clusters: list[ClusterPublic]
    assignments: list[ClusterAssignment] | None  # every assignment, for overseers; None for a member
    own_cluster_id: int | None  # the caller's cluster, when the caller is assigned to one
