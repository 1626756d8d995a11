"""The living lab's messages and the community's voice: the community admin writes messages and newsletters to
every member or to a project's participants, and each member reads their own inbox (read / unread); members leave
feedback with a 1–5 rating, scored for sentiment in Italian or English, and the admin reads the summary.
docs/living-lab.md."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status

from dapp.api.deps import CommunityAccess, CommunityAdmin, SessionDep, SettingsDep, community_access
from dapp.api.errors import AUTH_ERRORS, ERRORS
from dapp.api.guards import GuardedRoute
from dapp.api.roles import COMMUNITY_ADMIN, TOKEN_HOLDER
from dapp.api.schemas.common import PathId
from dapp.api.schemas.lab_voice import (
    ClusterObjectivePublic,
    ExternalPoint,
    ExternalSummary,
    FeedbackGroup,
    FeedbackPoint,
    FeedbackPublic,
    FeedbackSummary,
    FeedFetched,
    FeedPublic,
    Inbox,
    InboxMessage,
    MailPreferences,
    MessageSent,
    NewClusterObjective,
    NewFeed,
    NewFeedback,
    NewMessage,
    NewObjective,
    ObjectivePublic,
    Theme,
    VoicePublic,
)
from dapp.api.services import lab_objectives, lab_voice
from dapp.api.services.lab import LabError
from lec.db.models import LabFeed, LabFeedback, LabMessage

router = APIRouter(tags=["living lab"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute)

# Who has an inbox in the community: its members and its admin (each reads only their own).
Reader = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN))]
# Who gives feedback: the community's members.
Member = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER))]


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except LabError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from exc


def _sent(session: SessionDep, m: LabMessage) -> MessageSent:
    assert m.id is not None
    return MessageSent(
        id=m.id,
        kind=m.kind,
        category=m.category,  # type: ignore[arg-type]
        subject=m.subject,
        project_id=m.project_id,
        cluster_id=m.cluster_id,
        recipient_id=m.recipient_id,
        send_at=m.send_at,
        sent_at=m.sent_at,
        recipients=m.recipients,
        read=lab_voice.read_count(session, m),
        created_at=m.created_at,
    )


def _feedback(f: LabFeedback, uid: int | None) -> FeedbackPublic:
    return FeedbackPublic(
        id=f.id or 0,
        project_id=f.project_id,
        text=f.text,
        rating=f.rating,
        sentiment=f.sentiment,
        label=f.label,  # type: ignore[arg-type]
        language=f.language,  # type: ignore[arg-type]
        created_at=f.created_at,
        mine=uid is not None and f.user_id == uid,
    )


@router.post("/communities/{community_id}/messages", status_code=status.HTTP_201_CREATED, response_model=MessageSent)
def send_message(body: NewMessage, access: CommunityAdmin, session: SessionDep, settings: SettingsDep) -> MessageSent:
    """Send a message or newsletter to every active member, a cluster's members, a project's participants or one
    member, now or at `send_at`: it lands exactly once in each recipient's inbox, with an e-mail copy for those who
    opted in and did not mute its category."""
    with _refusals():
        message = lab_voice.send_message(
            session,
            access,
            body.subject,
            body.body,
            body.kind,
            body.project_id,
            cluster_id=body.cluster_id,
            recipient_id=body.recipient_id,
            send_at=body.send_at,
            settings=settings,
        )
    return _sent(session, message)


@router.get("/communities/{community_id}/messages", response_model=list[MessageSent])
def sent_messages(access: CommunityAdmin, session: SessionDep) -> list[MessageSent]:
    """The messages sent in the community, newest first, with how many recipients opened each."""
    return [_sent(session, m) for m in lab_voice.sent_messages(session, access)]


@router.get("/communities/{community_id}/inbox", response_model=Inbox)
def read_inbox(access: Reader, session: SessionDep, settings: SettingsDep) -> Inbox:
    """Your own inbox in this community, newest first, with the unread count (scheduled messages whose time has
    come are delivered first)."""
    lab_voice.deliver_due(session, settings, community_id=access.community.id)
    items = lab_voice.inbox(session, access)
    messages = [
        InboxMessage(
            id=m.id or 0,
            kind=m.kind,
            category=m.category,  # type: ignore[arg-type]
            subject=m.subject,
            body=m.body,
            project_id=m.project_id,
            created_at=m.created_at,
            read=i.read_at is not None,
        )
        for m, i in items
    ]
    return Inbox(unread=sum(not m.read for m in messages), messages=messages)


@router.get("/communities/{community_id}/inbox/preferences", response_model=MailPreferences)
def mail_preferences(access: Reader, session: SessionDep) -> MailPreferences:
    """Your choices for this community's messages: e-mail copies (off until you opt in) and muted categories."""
    pref = lab_voice.preferences(session, access)
    return MailPreferences(email=pref.email, muted=sorted(lab_voice.muted(pref)))  # type: ignore[arg-type]


@router.put("/communities/{community_id}/inbox/preferences", response_model=MailPreferences)
def set_mail_preferences(body: MailPreferences, access: Reader, session: SessionDep) -> MailPreferences:
    """Opt in or out of e-mail copies, and mute categories (newsletter, project, announcements): a muted category
    is never e-mailed, and still reaches your inbox."""
    with _refusals():
        pref = lab_voice.set_preferences(session, access, body.email, list(body.muted))
    return MailPreferences(email=pref.email, muted=sorted(lab_voice.muted(pref)))  # type: ignore[arg-type]


@router.post("/communities/{community_id}/inbox/{message_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def mark_read(message_id: PathId, access: Reader, session: SessionDep) -> None:
    """Mark a message of your inbox as read."""
    with _refusals():
        lab_voice.mark_read(session, access, message_id, read=True)


@router.delete("/communities/{community_id}/inbox/{message_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def mark_unread(message_id: PathId, access: Reader, session: SessionDep) -> None:
    """Mark a message of your inbox as unread again."""
    with _refusals():
        lab_voice.mark_read(session, access, message_id, read=False)


@router.post("/communities/{community_id}/feedback", status_code=status.HTTP_201_CREATED, response_model=FeedbackPublic)
def give_feedback(body: NewFeedback, access: Member, session: SessionDep) -> FeedbackPublic:
    """Tell the community (or one project) what you think: a text and 1 to 5 stars. Its sentiment is computed
    from the text with the shipped Italian/English lexicon."""
    with _refusals():
        row = lab_voice.give_feedback(session, access, body.text, body.rating, body.project_id)
    return _feedback(row, row.user_id)


@router.get("/communities/{community_id}/feedback/mine", response_model=list[FeedbackPublic])
def my_feedback(access: Member, session: SessionDep) -> list[FeedbackPublic]:
    """The feedback you gave in this community, newest first."""
    uid = access.user.id if access.user else None
    return [_feedback(f, uid) for f in lab_voice.my_feedback(session, access)]


@router.get("/communities/{community_id}/feedback/summary", response_model=FeedbackSummary)
def feedback_summary(
    access: CommunityAdmin, session: SessionDep, by: Literal["month", "week"] = "month"
) -> FeedbackSummary:
    """For the community admin: how many texts, how many positive/neutral/negative, the average rating and
    sentiment (overall, per project, and per month or week; hidden below k texts), the most frequent themes
    (keywords used by at least k texts) and the latest texts, without their authors."""
    s = lab_voice.summary(session, access, by=by)
    e = lab_voice.external_summary(session, access, by=by)
    return FeedbackSummary(
        count=s.count,
        positive=s.labels["positive"],
        neutral=s.labels["neutral"],
        negative=s.labels["negative"],
        average_rating=s.average_rating,
        average_sentiment=s.average_sentiment,
        groups=[FeedbackGroup(**g.__dict__) for g in s.groups],
        latest=[_feedback(f, None) for f in s.latest],
        by=by,
        trend=[FeedbackPoint(**p.__dict__) for p in s.trend],
        themes=[Theme(word=w, texts=n) for w, n in s.themes],
        external=ExternalSummary(
            count=e.count,
            positive=e.labels["positive"],
            neutral=e.labels["neutral"],
            negative=e.labels["negative"],
            average_sentiment=e.average_sentiment,
            trend=[ExternalPoint(period=p, count=n, average_sentiment=m) for p, n, m in e.trend],
            themes=[Theme(word=w, texts=n) for w, n in e.themes],
            latest=[
                VoicePublic(
                    source=v.source,
                    title=v.title,
                    text=v.text,
                    link=v.link,
                    keywords=[k for k in v.keywords.split(",") if k],
                    published_at=v.published_at,
                    sentiment=v.sentiment,
                    label=v.label,  # type: ignore[arg-type]
                )
                for v in e.latest
            ],
        ),
    )


def _feed(f: LabFeed) -> FeedPublic:
    assert f.id is not None
    return FeedPublic(
        id=f.id,
        url=f.url,
        keywords=[k for k in f.keywords.split(",") if k],
        title=f.title,
        fetched_at=f.fetched_at,
        error=f.error,
    )


@router.post("/communities/{community_id}/voices/feeds", status_code=status.HTTP_201_CREATED, response_model=FeedPublic)
def add_feed(body: NewFeed, access: CommunityAdmin, session: SessionDep) -> FeedPublic:
    """Follow an RSS/Atom feed: its entries that mention one of the keywords become external voices (read when
    you press fetch, and by `lec lab feeds` from cron)."""
    with _refusals():
        return _feed(lab_voice.add_feed(session, access, body.url, list(body.keywords)))


@router.get("/communities/{community_id}/voices/feeds", response_model=list[FeedPublic])
def list_feeds(access: CommunityAdmin, session: SessionDep) -> list[FeedPublic]:
    """The feeds the community follows, with when each was last read and why it failed, if it did."""
    return [_feed(f) for f in lab_voice.list_feeds(session, access)]


@router.delete("/communities/{community_id}/voices/feeds/{feed_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_feed(feed_id: PathId, access: CommunityAdmin, session: SessionDep) -> None:
    """Stop following a feed (the voices already read stay)."""
    with _refusals():
        lab_voice.remove_feed(session, access, feed_id)


@router.post("/communities/{community_id}/voices/feeds/{feed_id}/fetch", response_model=FeedFetched)
def fetch_feed(feed_id: PathId, access: CommunityAdmin, session: SessionDep, settings: SettingsDep) -> FeedFetched:
    """Read the feed now; each entry is kept once, however often it is read."""
    with _refusals():
        added = lab_voice.fetch_feed(session, lab_voice.get_feed(session, access, feed_id), settings)
    return FeedFetched(feed_id=feed_id, added=added)


# Who reads the community's objectives: its members and its admin (community totals only).
Community = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN))]


def _objective(e: lab_objectives.Evaluated) -> ObjectivePublic:
    o, p = e.objective, e.progress
    assert o.id is not None
    return ObjectivePublic(
        id=o.id,
        kind=o.kind,  # type: ignore[arg-type]
        month=o.month,
        target_pct=o.target_pct,
        achieved_pct=p.achieved_pct,
        days_with_data=p.days_with_data,
        days_elapsed=p.days_elapsed,
        days_in_month=p.days_in_month,
        status=p.status,  # type: ignore[arg-type]
    )


@router.put("/communities/{community_id}/objectives", response_model=ObjectivePublic)
def set_objective(body: NewObjective, access: CommunityAdmin, session: SessionDep) -> ObjectivePublic:
    """Set (or change) the community's self-sufficiency target for a month: this one or a coming one."""
    with _refusals():
        row = lab_objectives.set_objective(session, access, body.month, body.target_pct)
    return next(_objective(e) for e in lab_objectives.evaluated(session, access) if e.objective.id == row.id)


@router.get("/communities/{community_id}/objectives", response_model=list[ObjectivePublic])
def list_objectives(access: Community, session: SessionDep) -> list[ObjectivePublic]:
    """The community's objectives, newest month first, with the progress so far (sums over members)."""
    return [_objective(e) for e in lab_objectives.evaluated(session, access)]


def _cluster_objective(e: lab_objectives.EvaluatedCurve) -> ClusterObjectivePublic:
    o, c = e.objective, e.progress
    assert o.id is not None and e.cluster.id is not None
    if c is None:  # fewer than k active members: nothing but the target
        return ClusterObjectivePublic(
            id=o.id, month=o.month, cluster_id=e.cluster.id, cluster=e.cluster.description, members=e.members,
            shown=False, target_curve=e.target, target_pct=e.target_pv_pct, achieved_pct=None, actual_curve=None,
            gaps=None, match_pct=None, days_with_data=0, days_elapsed=0, days_in_month=e.days_in_month,
            status="too_small",
        )  # fmt: skip
    p = c.progress
    return ClusterObjectivePublic(
        id=o.id,
        month=o.month,
        cluster_id=e.cluster.id,
        cluster=e.cluster.description,
        members=e.members,
        shown=True,
        target_curve=e.target,
        target_pct=p.target_pct,
        achieved_pct=p.achieved_pct,
        actual_curve=c.actual,
        gaps=c.gaps,
        match_pct=c.match_pct,
        days_with_data=p.days_with_data,
        days_elapsed=p.days_elapsed,
        days_in_month=p.days_in_month,
        status=p.status,  # type: ignore[arg-type]
    )


@router.put("/communities/{community_id}/objectives/clusters/{cluster_id}", response_model=ClusterObjectivePublic)
def set_cluster_objective(
    cluster_id: PathId, body: NewClusterObjective, access: CommunityAdmin, session: SessionDep
) -> ClusterObjectivePublic:
    """Set (or change) a consumption cluster's target curve for a month: the share of its daily consumption wanted
    in each local hour. Refused for a cluster of fewer than k active members."""
    with _refusals():
        row = lab_objectives.set_cluster_objective(session, access, cluster_id, body.month, body.target_curve)
    return next(
        _cluster_objective(e) for e in lab_objectives.evaluated_clusters(session, access) if e.objective.id == row.id
    )


@router.get("/communities/{community_id}/objectives/clusters", response_model=list[ClusterObjectivePublic])
def list_cluster_objectives(access: Community, session: SessionDep) -> list[ClusterObjectivePublic]:
    """The clusters' target curves with their progress: every cluster's for the admin, the caller's own cluster's
    for a member; below k active members only the target is shown."""
    return [_cluster_objective(e) for e in lab_objectives.evaluated_clusters(session, access)]
