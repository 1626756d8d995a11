"""The living lab's messages and the community's voice: the admin writes to every member or to a project's
participants (each recipient's inbox gets the message once, at sending), members read their own inbox; members
leave feedback on the community or a project, scored with the shipped lexicon (`lec.lab.sentiment`), and the admin
sees counts, averages and the latest texts (never their authors). docs/living-lab.md."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from dapp.api.deps import CommunityAccess
from dapp.api.services.lab import LabError, get_project
from lec.db.models import LabFeedback, LabInboxItem, LabMessage, LabProject, LabProjectMember, UserCommunity
from lec.db.types import utcnow
from lec.lab import sentiment, themes
from lec.lab.projects import K_ANONYMITY, ProjectState

LATEST = 10


# ------------------------------------------------------------------------------------------------- messages


def _recipients(session: Session, access: CommunityAccess, project: LabProject | None) -> list[int]:
    """The active members of the community; with a project, only those of them who take part in it."""
    query = select(UserCommunity.user_id).where(
        UserCommunity.community_id == access.community.id,
        UserCommunity.active == True,  # noqa: E712  (SQL, not Python)
    )
    if project is not None:
        query = query.join(
            LabProjectMember,
            (LabProjectMember.user_id == UserCommunity.user_id) & (LabProjectMember.project_id == project.id),  # type: ignore[arg-type]
        )
    return sorted(set(session.exec(query).all()))


def send_message(
    session: Session, access: CommunityAccess, subject: str, body: str, kind: str, project_id: int | None
) -> LabMessage:
    project = get_project(session, access, project_id) if project_id is not None else None
    users = _recipients(session, access, project)
    if not users:
        raise LabError(
            "Nobody would receive this message: the project has no participants yet."
            if project is not None
            else "Nobody would receive this message: the community has no active members yet."
        )
    assert access.community.id is not None
    message = LabMessage(
        community_id=access.community.id,
        sender_id=access.user.id if access.user else None,
        project_id=project_id,
        kind=kind,
        subject=subject.strip(),
        body=body.strip(),
        recipients=len(users),
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    session.add_all(LabInboxItem(message_id=message.id, user_id=u) for u in users)
    session.commit()
    session.refresh(message)
    return message


def read_count(session: Session, message: LabMessage) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(LabInboxItem)
            .where(LabInboxItem.message_id == message.id, col(LabInboxItem.read_at).is_not(None))
        ).one()
    )


def sent_messages(session: Session, access: CommunityAccess) -> list[LabMessage]:
    return list(
        session.exec(
            select(LabMessage).where(LabMessage.community_id == access.community.id).order_by(col(LabMessage.id).desc())
        ).all()
    )


def inbox(session: Session, access: CommunityAccess) -> list[tuple[LabMessage, LabInboxItem]]:
    """The caller's own messages in this community, newest first."""
    if access.user is None:
        return []
    rows = session.exec(
        select(LabMessage, LabInboxItem)
        .join(LabInboxItem, LabInboxItem.message_id == LabMessage.id)  # type: ignore[arg-type]
        .where(LabInboxItem.user_id == access.user.id, LabMessage.community_id == access.community.id)
        .order_by(col(LabMessage.id).desc())
    ).all()
    return [(m, i) for m, i in rows]


def mark_read(session: Session, access: CommunityAccess, message_id: int, read: bool = True) -> LabInboxItem:
    """Marks one message of the caller's own inbox read (or unread again); another person's is not found."""
    message = session.get(LabMessage, message_id)
    item = session.get(LabInboxItem, (message_id, access.user.id if access.user else -1))
    if message is None or item is None or message.community_id != access.community.id:
        raise LabError(f"There is no message {message_id} in your inbox.", 404)
    if read and item.read_at is None:
        item.read_at = utcnow()
    elif not read:
        item.read_at = None
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


# ------------------------------------------------------------------------------------------------- feedback


def give_feedback(
    session: Session, access: CommunityAccess, text: str, rating: int, project_id: int | None
) -> LabFeedback:
    if project_id is not None:
        project = get_project(session, access, project_id)
        if project.state in (ProjectState.SUGGESTED, ProjectState.DECLINED):
            raise LabError(f"Feedback goes to projects that run or ran; this one is {project.state}.")
    assert access.community.id is not None and access.user is not None
    scored = sentiment.analyse(text)
    row = LabFeedback(
        community_id=access.community.id,
        project_id=project_id,
        user_id=access.user.id,
        text=text.strip(),
        rating=rating,
        sentiment=scored.score,
        label=scored.label,
        language=scored.language,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def my_feedback(session: Session, access: CommunityAccess) -> list[LabFeedback]:
    if access.user is None:
        return []
    return list(
        session.exec(
            select(LabFeedback)
            .where(LabFeedback.community_id == access.community.id, LabFeedback.user_id == access.user.id)
            .order_by(col(LabFeedback.id).desc())
        ).all()
    )


@dataclass(frozen=True)
class Group:
    project_id: int | None
    title: str
    count: int
    average_rating: float | None
    average_sentiment: float | None


@dataclass(frozen=True)
class Point:
    """One period of one target (the community or a project): how many texts, their mean rating and sentiment
    (None below K_ANONYMITY texts)."""

    period: str
    project_id: int | None
    title: str
    count: int
    average_rating: float | None
    average_sentiment: float | None


@dataclass(frozen=True)
class Summary:
    count: int
    labels: Counter[str]
    average_rating: float | None
    average_sentiment: float | None
    groups: list[Group]
    latest: list[LabFeedback]
    trend: list[Point]
    themes: list[tuple[str, int]]
    by: str = "month"


THEMES = 12


def _mean(values: list[float], digits: int) -> float | None:
    """The mean, or None over fewer than K_ANONYMITY texts (a group that small is not shown)."""
    return round(sum(values) / len(values), digits) if len(values) >= K_ANONYMITY else None


def _trend(rows: list[LabFeedback], titles: dict[int | None, str], by: str) -> list[Point]:
    cells: dict[tuple[str, int | None], list[LabFeedback]] = {}
    for row in rows:
        cells.setdefault((themes.period_of(row.created_at, by), row.project_id), []).append(row)
    return [
        Point(
            period,
            target,
            titles.get(target, "") if target is not None else "",
            len(items),
            _mean([float(r.rating) for r in items], 2),
            _mean([r.sentiment for r in items], 3),
        )
        for (period, target), items in sorted(
            cells.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None, kv[0][1] or 0)
        )
    ]


def summary(session: Session, access: CommunityAccess, since: datetime | None = None, by: str = "month") -> Summary:
    query = select(LabFeedback).where(LabFeedback.community_id == access.community.id)
    if since is not None:
        query = query.where(LabFeedback.created_at >= since)
    rows = list(session.exec(query.order_by(col(LabFeedback.id).desc())).all())
    titles = {
        p.id: p.title
        for p in session.exec(select(LabProject).where(LabProject.community_id == access.community.id)).all()
    }
    by_target: dict[int | None, list[LabFeedback]] = {}
    for row in rows:
        by_target.setdefault(row.project_id, []).append(row)
    groups = [
        Group(
            target,
            titles.get(target, "") if target is not None else "",
            len(items),
            _mean([float(r.rating) for r in items], 2),
            _mean([r.sentiment for r in items], 3),
        )
        for target, items in sorted(by_target.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0))
    ]
    return Summary(
        count=len(rows),
        labels=Counter(r.label for r in rows),
        average_rating=_mean([float(r.rating) for r in rows], 2),
        average_sentiment=_mean([r.sentiment for r in rows], 3),
        groups=groups,
        latest=rows[:LATEST],
        trend=_trend(rows, titles, by),  # type: ignore[arg-type]
        themes=themes.top_themes((r.text for r in rows), THEMES, min_texts=K_ANONYMITY),
        by=by,
    )


# ------------------------------------------------------------------------------------------------- privacy


def forget_voice(session: Session, user_id: int) -> None:
    """Right to be forgotten: the person's inbox and feedback are deleted; messages they sent as admin stay with
    the community, without their name. The caller commits."""
    for model in (LabInboxItem, LabFeedback):
        for row in session.exec(select(model).where(model.user_id == user_id)).all():  # type: ignore[attr-defined]
            session.delete(row)
    for message in session.exec(select(LabMessage).where(LabMessage.sender_id == user_id)).all():
        message.sender_id = None
        session.add(message)
