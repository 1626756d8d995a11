"""Community objectives (living lab, issue 14 Build 5): the community admin sets a monthly self-sufficiency target;
members and the admin read each objective with its progress, evaluated over the dashboards' daily rows (sums over
members: no personal data). docs/living-lab.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from dapp.api import aggregates
from dapp.api.deps import CommunityAccess
from dapp.api.services.lab import LabError
from lec.calendar import ROME, period_id
from lec.db.models import LabObjective
from lec.db.types import utcnow
from lec.lab import objectives


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
    row.set_by = access.user.id if access.user else None
    row.created_at = utcnow()
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


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
