"""Community objectives (living lab, issue 14 Build 5): the community admin sets a monthly self-sufficiency target
and, for a consumption cluster, a monthly target curve; members and the admin read each objective with its progress
— self-sufficiency over the dashboards' daily rows, a cluster's curve over its members' readings (sums over
members: no personal data; a cluster of fewer than k active members is never shown). docs/living-lab.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlmodel import Session, col, select

from dapp.api import aggregates
from dapp.api.deps import CommunityAccess
from dapp.api.services.lab import LabError
from lec.calendar import ROME, period_id
from lec.db.models import Cluster, ClusterUser, LabClusterObjective, LabObjective, UserCommunity
from lec.db.types import utcnow
from lec.lab import objectives
from lec.lab.projects import K_ANONYMITY
from oracle.kpi import mean_daily_curve
from oracle.readmodel import members_load

ObjectiveRow = TypeVar("ObjectiveRow", LabObjective, LabClusterObjective)


@dataclass(frozen=True)
class Evaluated:
    objective: LabObjective
    progress: objectives.Progress


def set_objective(session: Session, access: CommunityAccess, month: str, target_pct: float) -> LabObjective:
    """Sets (or replaces) the month's self-sufficiency target; a month already over cannot be given one."""
    try:
        first, last = objectives.month_bounds(month)
    except ValueError as exc:
        raise LabError(str(exc), 422) from exc
    if last < today():
        raise LabError(f"{month} is over: set objectives for this month or a coming one.", 422)
    assert access.community.id is not None
    row = session.exec(
        select(LabObjective).where(
            LabObjective.community_id == access.community.id,
            LabObjective.kind == "self_sufficiency",
            LabObjective.month == first.strftime("%Y-%m"),
        )
    ).first() or LabObjective(community_id=access.community.id, month=first.strftime("%Y-%m"), target_pct=target_pct)
    row.target_pct = target_pct
    return _saved(session, row, access)


def today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ROME).date()


def evaluated(session: Session, access: CommunityAccess, now: datetime | None = None) -> list[Evaluated]:
    """The community's objectives, newest month first, each with its progress as of today (Italian time)."""
    assert access.community.id is not None
    rows = session.exec(
        select(LabObjective)
        .where(LabObjective.community_id == access.community.id)
        .order_by(col(LabObjective.month).desc())
    ).all()
    out = []
    for row in rows:
        first, last = objectives.month_bounds(row.month)
        days = aggregates.community_daily(session, access.community.id, period_id(first), period_id(last))
        sums = [(d["day"], d["load_wh"], d["self_consumption_wh"]) for d in days]
        out.append(Evaluated(row, objectives.evaluate(row.target_pct, row.month, sums, today(now))))
    return out


# ---- a cluster's target curve ------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluatedCurve:
    objective: LabClusterObjective
    cluster: Cluster
    members: int  # the cluster's active members today
    progress: objectives.CurveProgress | None  # None: fewer than K_ANONYMITY members, nothing is shown

    @property
    def target(self) -> list[float]:
        return [float(x) for x in json.loads(self.objective.target_curve)]

    @property
    def target_pv_pct(self) -> float:
        return round(objectives.pv_share(self.target), 2)

    @property
    def days_in_month(self) -> int:
        return objectives.month_bounds(self.objective.month)[1].day


def cluster_members(session: Session, cluster: Cluster) -> list[int]:
    """The cluster's members who are active in its community today (the latest assignment of each)."""
    rows = session.exec(
        select(ClusterUser.user_id)
        .join(
            UserCommunity,
            (UserCommunity.user_id == ClusterUser.user_id) & (UserCommunity.community_id == cluster.community_id),  # type: ignore[arg-type]
        )
        .where(ClusterUser.cluster_id == cluster.id, UserCommunity.active == True)  # noqa: E712  (SQL)
    ).all()
    return sorted(set(rows))


def _cluster(session: Session, access: CommunityAccess, cluster_id: int) -> Cluster:
    cluster = session.get(Cluster, cluster_id)
    if cluster is None or cluster.community_id != access.community.id:
        raise LabError(f"There is no cluster {cluster_id} in this community.", 404)
    return cluster


def set_cluster_objective(
    session: Session, access: CommunityAccess, cluster_id: int, month: str, target_curve: list[float]
) -> LabClusterObjective:
    """Sets (or replaces) a cluster's target curve for a month (this one or a coming one). A cluster of fewer than
    K_ANONYMITY active members cannot be given one: its progress could never be shown."""
    try:
        first, last = objectives.month_bounds(month)
        curve = objectives.check_target_curve(target_curve)
    except ValueError as exc:
        raise LabError(str(exc), 422) from exc
    if last < today():
        raise LabError(f"{month} is over: set objectives for this month or a coming one.", 422)
    cluster = _cluster(session, access, cluster_id)
    if len(cluster_members(session, cluster)) < K_ANONYMITY:
        raise LabError(
            f"This cluster has fewer than {K_ANONYMITY} active members: its consumption would point at them, so it "
            "cannot have an objective of its own.",
            409,
        )
    assert access.community.id is not None
    key = first.strftime("%Y-%m")
    row = session.exec(
        select(LabClusterObjective).where(
            LabClusterObjective.cluster_id == cluster_id, LabClusterObjective.month == key
        )
    ).first() or LabClusterObjective(
        community_id=access.community.id, cluster_id=cluster_id, month=key, target_curve=""
    )
    row.target_curve = json.dumps(curve)
    return _saved(session, row, access)


def _curve_progress(
    session: Session, row: LabClusterObjective, users: list[int], day: date
) -> objectives.CurveProgress:
    first, last = objectives.month_bounds(row.month)
    end = min(last, day)
    days = [first + timedelta(days=i) for i in range((end - first).days + 1)]
    stamps, load, with_data = members_load(session, row.community_id, users, days)
    curve = [float(x) for x in mean_daily_curve(stamps, load)] if with_data else None
    return objectives.evaluate_curve(json.loads(row.target_curve), curve, row.month, with_data, day)


def evaluated_clusters(session: Session, access: CommunityAccess, now: datetime | None = None) -> list[EvaluatedCurve]:
    """The community's cluster objectives, newest month first: all of them for its admin, those of the caller's own
    clusters for a member; the progress as of today (Italian time), hidden below K_ANONYMITY active members."""
    assert access.community.id is not None
    query = (
        select(LabClusterObjective, Cluster)
        .join(Cluster, Cluster.id == LabClusterObjective.cluster_id)  # type: ignore[arg-type]
        .where(LabClusterObjective.community_id == access.community.id)
        .order_by(col(LabClusterObjective.month).desc(), col(LabClusterObjective.cluster_id))
    )
    if not access.is_admin:
        mine = select(ClusterUser.cluster_id).where(ClusterUser.user_id == (access.user.id if access.user else -1))
        query = query.where(col(LabClusterObjective.cluster_id).in_(mine))
    out = []
    for row, cluster in session.exec(query).all():
        users = cluster_members(session, cluster)
        progress = _curve_progress(session, row, users, today(now)) if len(users) >= K_ANONYMITY else None
        out.append(EvaluatedCurve(row, cluster, len(users), progress))
    return out


def _saved(session: Session, row: ObjectiveRow, access: CommunityAccess) -> ObjectiveRow:
    """Stamp an objective with who set it and when, and store it (both kinds of objective)."""
    row.set_by = access.user.id if access.user else None
    row.created_at = utcnow()
    session.add(row)
    session.commit()
    session.refresh(row)
    return row
