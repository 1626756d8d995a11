"""Writing KPI series and clusterings into the report's derived-series and cluster tables (18–26).

A series is identified by its name within a community: writing it again replaces its points, so the daily
schedule (`update_scheduling`, a CRON expression) refreshes series in place instead of piling up copies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from lec.db.enums import Frequency, PeriodType, SeriesType
from lec.db.models import (
    Cluster,
    ClusterDerivedTimeSeries,
    ClusterGroup,
    ClusterUser,
    DerivedTimeSeries,
    DerivedTimeSeriesData,
    DerivedTimeSeriesUser,
)
from oracle.cluster import Clustering

DAILY_SCHEDULE = "30 1 * * *"  # the time `lec oracle schedule` runs by default


def _slot_labels() -> list[str]:
    return [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)]


def save_series(
    session: Session,
    community_id: int,
    name: str,
    series_type: SeriesType,
    points: Sequence[tuple[str, float]],
    period_type: PeriodType | None = None,
    frequency: Frequency | None = None,
    description: str | None = None,
    user_ids: Sequence[int] = (),
    schedule: str | None = DAILY_SCHEDULE,
) -> DerivedTimeSeries:
    """Create or refresh the series ``name`` of the community with ``points`` (x label, y value)."""
    series = session.exec(
        select(DerivedTimeSeries).where(DerivedTimeSeries.community_id == community_id, DerivedTimeSeries.name == name)
    ).first()
    if series is None:
        series = DerivedTimeSeries(name=name, community_id=community_id, series_type=series_type)
        session.add(series)
    series.period_type = period_type
    series.frequency = frequency
    series.description = description
    series.entity = "active energy"
    series.unit = "Wh"
    series.last_update = datetime.now(UTC)
    series.update_scheduling = schedule
    session.flush()
    assert series.id is not None  # flushed
    session.exec(sa.delete(DerivedTimeSeriesData).where(DerivedTimeSeriesData.series_id == series.id))  # type: ignore[call-overload,arg-type]
    session.execute(
        sa.insert(DerivedTimeSeriesData),
        [{"series_id": series.id, "x_value": x, "y_value": float(y)} for x, y in points],
    )
    existing = {
        link.user_id
        for link in session.exec(select(DerivedTimeSeriesUser).where(DerivedTimeSeriesUser.series_id == series.id))
    }
    for user_id in user_ids:
        if user_id not in existing:
            session.add(DerivedTimeSeriesUser(series_id=series.id, user_id=user_id))
    return series


def save_kpi_series(
    session: Session,
    community_id: int,
    label: str,
    timestamps: np.ndarray,
    load: np.ndarray,
    user_ids: Sequence[int] = (),
) -> list[DerivedTimeSeries]:
    """Daily and hourly load and the mean daily curve of ``label`` (the community or one member)."""
    from oracle.kpi import daily_and_hourly, mean_daily_curve

    daily, hourly = daily_and_hourly(timestamps, load)
    curve = mean_daily_curve(timestamps, load)
    return [
        save_series(
            session,
            community_id,
            f"{label} daily load",
            SeriesType.KPI,
            [(str(d), v) for d, v in daily.items()],
            PeriodType.DAY,
            Frequency.DAY,
            user_ids=user_ids,
        ),
        save_series(
            session,
            community_id,
            f"{label} hourly load",
            SeriesType.KPI,
            [(pd.Timestamp(t).isoformat(), v) for t, v in hourly.items()],
            PeriodType.CUSTOM,
            Frequency.HOUR,
            user_ids=user_ids,
        ),
        save_series(
            session,
            community_id,
            f"{label} mean daily curve",
            SeriesType.MEAN_DAILY_CURVE,
            list(zip(_slot_labels(), curve, strict=True)),
            PeriodType.CUSTOM,
            Frequency.QUARTER_HOUR,
            user_ids=user_ids,
        ),
    ]


def save_clustering(
    session: Session,
    community_id: int,
    name: str,
    result: Clustering,
    user_ids: Sequence[int],
    parameters: dict,
) -> ClusterGroup:
    """One clustering run: its group, each cluster with its mean and std curves, and the assignments.

    The same run again (same name, parameters, clusters and assignments — `make demo` a second time) returns
    the group already saved and writes nothing."""
    same = _same_clustering(session, community_id, name, result, user_ids, parameters)
    if same is not None:
        return same
    group = ClusterGroup(
        name=name[:32],
        description=f"k-means of mean daily load curves ({parameters.get('metric')})",
        community_id=community_id,
        parameters=json.dumps(parameters, sort_keys=True),
        update_scheduling=DAILY_SCHEDULE,
    )
    session.add(group)
    session.flush()
    assert group.id is not None  # flushed
    labels = _slot_labels()
    for j in range(len(result.sizes)):
        cluster = Cluster(group_id=group.id, community_id=community_id, description=_descriptions(result)[j])
        session.add(cluster)
        session.flush()
        assert cluster.id is not None  # flushed
        for kind, curve in (
            (SeriesType.CLUSTER_MEAN_CURVE, result.mean_curves[j]),
            (SeriesType.CLUSTER_STD_CURVE, result.std_curves[j]),
        ):
            series = save_series(
                session,
                community_id,
                f"{name} #{group.id} cluster {j} {kind.value}",
                kind,
                list(zip(labels, curve, strict=True)),
                PeriodType.CUSTOM,
                Frequency.QUARTER_HOUR,
                schedule=None,
            )
            assert series.id is not None
            session.add(ClusterDerivedTimeSeries(cluster_id=cluster.id, series_id=series.id))
        for user_id, label in zip(user_ids, result.labels, strict=True):
            if int(label) == j:
                session.add(ClusterUser(cluster_id=cluster.id, user_id=user_id))
    session.flush()
    return group


def _descriptions(result: Clustering) -> list[str]:
    return [f"cluster {j}: {int(result.sizes[j])} members, CV {result.cv[j]:.3f}" for j in range(len(result.sizes))]


def _same_clustering(
    session: Session,
    community_id: int,
    name: str,
    result: Clustering,
    user_ids: Sequence[int],
    parameters: dict,
) -> ClusterGroup | None:
    wanted = {(int(label), user_id) for user_id, label in zip(user_ids, result.labels, strict=True)}
    groups = session.exec(
        select(ClusterGroup).where(
            ClusterGroup.community_id == community_id,
            ClusterGroup.name == name[:32],
            ClusterGroup.parameters == json.dumps(parameters, sort_keys=True),
        )
    ).all()
    for group in groups:
        clusters = session.exec(select(Cluster).where(Cluster.group_id == group.id).order_by(Cluster.id)).all()  # type: ignore[arg-type]
        if [c.description for c in clusters] != _descriptions(result):
            continue
        index = {c.id: j for j, c in enumerate(clusters)}
        links = session.exec(select(ClusterUser).where(col(ClusterUser.cluster_id).in_(list(index)))).all()
        if {(index[link.cluster_id], link.user_id) for link in links} == wanted:
            return group
    return None
