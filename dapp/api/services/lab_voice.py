"""The living lab's messages and the community's voice: the admin writes to every member, a cluster's members, a
project's participants or one member, at once or at a scheduled time (each recipient's inbox gets the message
exactly once, at delivery; members who opted in get an e-mail copy unless they muted its category), members read
their own inbox; members
leave feedback on the community or a project, scored with the shipped lexicon (`lec.lab.sentiment`), and the admin
sees counts, averages and the latest texts (never their authors). docs/living-lab.md."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from dapp.api.deps import CommunityAccess
from dapp.api.services.lab import LabError, get_project
from lec.db.models import (
    Cluster,
    ClusterUser,
    Community,
    LabClusterObjective,
    LabFeed,
    LabFeedback,
    LabInboxItem,
    LabMailPreference,
    LabMessage,
    LabObjective,
    LabProject,
    LabProjectMember,
    LabVoice,
    User,
    UserCommunity,
)
from lec.db.types import utcnow
from lec.lab import feeds, mail, sentiment, themes
from lec.lab.projects import K_ANONYMITY, ProjectState
from lec.settings import Settings

log = logging.getLogger(__name__)

LATEST = 10


# ------------------------------------------------------------------------------------------------- messages


CATEGORIES = ("newsletter", "project", "announcements")


def category_of(kind: str, project_id: int | None) -> str:
    """What a member can mute: newsletters, their projects' messages, or the community's announcements (the rest)."""
    if kind == "newsletter":
        return "newsletter"
    return "project" if project_id is not None else "announcements"


def _recipients(session: Session, message: LabMessage) -> list[int]:
    """The community's active members, narrowed to a project's participants, a cluster's members or one member."""
    query = select(UserCommunity.user_id).where(
        UserCommunity.community_id == message.community_id,
        UserCommunity.active == True,  # noqa: E712  (SQL, not Python)
    )
    if message.project_id is not None:
        query = query.join(
            LabProjectMember,
            (LabProjectMember.user_id == UserCommunity.user_id) & (LabProjectMember.project_id == message.project_id),  # type: ignore[arg-type]
        )
    if message.cluster_id is not None:
        query = query.join(
            ClusterUser,
            (ClusterUser.user_id == UserCommunity.user_id) & (ClusterUser.cluster_id == message.cluster_id),  # type: ignore[arg-type]
        )
    if message.recipient_id is not None:
        query = query.where(UserCommunity.user_id == message.recipient_id)
    return sorted(set(session.exec(query).all()))


def _check_audience(
    session: Session, access: CommunityAccess, project_id: int | None, cluster_id: int | None, recipient_id: int | None
) -> None:
    if sum(x is not None for x in (project_id, cluster_id, recipient_id)) > 1:
        raise LabError("Choose one audience: a project, a cluster or one member (or none of them for everyone).", 422)
    if project_id is not None:
        get_project(session, access, project_id)
    if cluster_id is not None:
        cluster = session.get(Cluster, cluster_id)
        if cluster is None or cluster.community_id != access.community.id:
            raise LabError(f"There is no cluster {cluster_id} in this community.", 404)
    if recipient_id is not None:
        member = session.exec(
            select(UserCommunity).where(
                UserCommunity.community_id == access.community.id, UserCommunity.user_id == recipient_id
            )
        ).first()
        if member is None or not member.active:
            raise LabError(f"Person {recipient_id} is not an active member of this community.", 404)


def send_message(
    session: Session,
    access: CommunityAccess,
    subject: str,
    body: str,
    kind: str,
    project_id: int | None,
    *,
    cluster_id: int | None = None,
    recipient_id: int | None = None,
    send_at: datetime | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> LabMessage:
    """Writes a message; delivered at once (inbox, then e-mail copies) unless `send_at` is still in the future, in
    which case the first read of an inbox or `lec lab deliver` after that time delivers it."""
    _check_audience(session, access, project_id, cluster_id, recipient_id)
    now = now or utcnow()
    assert access.community.id is not None
    message = LabMessage(
        community_id=access.community.id,
        sender_id=access.user.id if access.user else None,
        project_id=project_id,
        cluster_id=cluster_id,
        recipient_id=recipient_id,
        kind=kind,
        category=category_of(kind, project_id),
        subject=subject.strip(),
        body=body.strip(),
        send_at=send_at
        if send_at is not None and send_at > now
        else now,  # a crash before delivery: the next run delivers it
    )
    if (send_at is None or send_at <= now) and not _recipients(session, message):
        raise LabError(
            "Nobody would receive this message: the project has no participants yet."
            if project_id is not None
            else "Nobody would receive this message: the cluster has no active member."
            if cluster_id is not None
            else "Nobody would receive this message: the community has no active members yet."
        )
    session.add(message)
    session.commit()
    session.refresh(message)
    if send_at is None or send_at <= now:
        deliver(session, message, settings, now)
    return message


def deliver(session: Session, message: LabMessage, settings: Settings | None, now: datetime | None = None) -> int:
    """Puts the message in each recipient's inbox, exactly once: `sent_at` is claimed by one conditional UPDATE,
    so of two deliveries racing only one fills the inboxes. Then e-mails the copies. Returns the recipients
    (0 when it was already delivered)."""
    now = now or utcnow()
    claimed = session.exec(  # type: ignore[call-overload]
        sa.update(LabMessage)
        .where(col(LabMessage.id) == message.id, col(LabMessage.sent_at).is_(None))
        .values(sent_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        return 0
    users = _recipients(session, message)
    assert message.id is not None
    session.add_all(LabInboxItem(message_id=message.id, user_id=u) for u in users)
    session.exec(  # type: ignore[call-overload]
        sa.update(LabMessage).where(col(LabMessage.id) == message.id).values(recipients=len(users))
    )
    session.commit()
    session.refresh(message)
    if settings is not None:
        email_copies(session, message, settings, now)
    return len(users)


def deliver_due(
    session: Session, settings: Settings | None, now: datetime | None = None, community_id: int | None = None
) -> list[LabMessage]:
    """Delivers every scheduled message whose time has come (in one community, or in all): run by the first read
    of an inbox and by `lec lab deliver` (cron, demo). Returns the ones this call delivered."""
    now = now or utcnow()
    query = select(LabMessage).where(col(LabMessage.sent_at).is_(None), col(LabMessage.send_at) <= now)
    if community_id is not None:
        query = query.where(LabMessage.community_id == community_id)
    done = []
    for message in session.exec(query.order_by(col(LabMessage.send_at), col(LabMessage.id))).all():
        if deliver(session, message, settings, now):
            done.append(message)
    return done


def email_copies(session: Session, message: LabMessage, settings: Settings, now: datetime | None = None) -> int:
    """E-mails the message to its recipients who opted in and did not mute its category, once each: the copies
    are claimed (emailed_at set) before they are sent and released again if the server refuses them."""
    if not mail.enabled(settings):
        return 0
    now = now or utcnow()
    rows = session.exec(
        select(LabInboxItem, User, LabMailPreference)
        .join(User, User.id == LabInboxItem.user_id)  # type: ignore[arg-type]
        .join(
            LabMailPreference,
            (LabMailPreference.user_id == LabInboxItem.user_id)  # type: ignore[arg-type]
            & (LabMailPreference.community_id == message.community_id),
        )
        .where(LabInboxItem.message_id == message.id, col(LabInboxItem.emailed_at).is_(None))
        .order_by(col(LabInboxItem.user_id))
    ).all()
    chosen = [
        (item, user)
        for item, user, pref in rows
        if pref.email and message.category not in muted(pref) and _mailable(user.email)
    ]
    claimed = []
    for item, user in chosen:
        taken = session.exec(  # type: ignore[call-overload]
            sa.update(LabInboxItem)
            .where(
                col(LabInboxItem.message_id) == item.message_id,
                col(LabInboxItem.user_id) == item.user_id,
                col(LabInboxItem.emailed_at).is_(None),
            )
            .values(emailed_at=now)
        )
        if taken.rowcount == 1:
            claimed.append((item, user))
    session.commit()
    community = session.get(Community, message.community_id)
    name = community.name if community else "LEC"
    sent = mail.send(
        settings, [mail.compose(settings, u.email, message.subject, message.body, name) for _, u in claimed]
    )
    for item, _ in claimed[sent:]:  # refused: release them for the next delivery
        session.exec(  # type: ignore[call-overload]
            sa.update(LabInboxItem)
            .where(col(LabInboxItem.message_id) == item.message_id, col(LabInboxItem.user_id) == item.user_id)
            .values(emailed_at=None)
        )
    session.commit()
    if sent < len(claimed):
        log.warning("%d of %d e-mail copies of message %s were refused", len(claimed) - sent, len(claimed), message.id)
    return sent


def _mailable(address: str | None) -> bool:
    """An address a copy can go to: one @, no spaces or line breaks (a header cannot carry them)."""
    return bool(address) and address.count("@") == 1 and not any(c.isspace() for c in address)  # type: ignore[union-attr]


def muted(pref: LabMailPreference | None) -> set[str]:
    return {c for c in (pref.muted if pref else "").split(",") if c}


def preferences(session: Session, access: CommunityAccess) -> LabMailPreference:
    assert access.community.id is not None and access.user is not None and access.user.id is not None
    pref = session.get(LabMailPreference, (access.community.id, access.user.id))
    return pref or LabMailPreference(community_id=access.community.id, user_id=access.user.id)


def set_preferences(session: Session, access: CommunityAccess, email: bool, mute: list[str]) -> LabMailPreference:
    if access.user is None:
        raise LabError("Only a person has an inbox.", 403)
    unknown = set(mute) - set(CATEGORIES)
    if unknown:
        raise LabError(f"Unknown category {sorted(unknown)[0]!r}: choose among {', '.join(CATEGORIES)}.", 422)
    pref = preferences(session, access)
    pref.email = email
    pref.muted = ",".join(c for c in CATEGORIES if c in mute)
    session.add(pref)
    session.commit()
    session.refresh(pref)
    return pref


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
        .order_by(col(LabMessage.sent_at).desc(), col(LabMessage.id).desc())
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


# ------------------------------------------------------------------------------------------------- external voices

MAX_FEEDS = 20


def _keywords(words: list[str]) -> list[str]:
    clean: list[str] = []
    for w in words:
        w = " ".join(w.split()).strip(" ,")
        if w and w.lower() not in {c.lower() for c in clean}:
            clean.append(w)
    return clean


def add_feed(session: Session, access: CommunityAccess, url: str, keywords: list[str]) -> LabFeed:
    words = _keywords(keywords)
    if not words:
        raise LabError("Give at least one keyword: the feed's entries are kept only when they mention one.", 422)
    if len(",".join(words)) > 1000:
        raise LabError("Too many keywords: keep them under 1000 characters in all.", 422)
    if not url.startswith(("http://", "https://")):
        raise LabError("A feed address starts with http:// or https://.", 422)
    existing = session.exec(select(LabFeed).where(LabFeed.community_id == access.community.id)).all()
    if len(existing) >= MAX_FEEDS:
        raise LabError(f"A community follows at most {MAX_FEEDS} feeds: remove one first.")
    if any(f.url == url for f in existing):
        raise LabError("The community already follows this feed.")
    assert access.community.id is not None
    feed = LabFeed(community_id=access.community.id, url=url, keywords=",".join(words))
    session.add(feed)
    session.commit()
    session.refresh(feed)
    return feed


def list_feeds(session: Session, access: CommunityAccess) -> list[LabFeed]:
    return list(
        session.exec(select(LabFeed).where(LabFeed.community_id == access.community.id).order_by(col(LabFeed.id))).all()
    )


def get_feed(session: Session, access: CommunityAccess, feed_id: int) -> LabFeed:
    feed = session.get(LabFeed, feed_id)
    if feed is None or feed.community_id != access.community.id:
        raise LabError(f"There is no feed {feed_id} in this community.", 404)
    return feed


def remove_feed(session: Session, access: CommunityAccess, feed_id: int) -> None:
    """Stops following a feed; the voices already read stay (without their feed)."""
    feed = get_feed(session, access, feed_id)
    for voice in session.exec(select(LabVoice).where(LabVoice.feed_id == feed_id)).all():
        voice.feed_id = None
        session.add(voice)
    session.delete(feed)
    session.commit()


def store_voices(
    session: Session, community_id: int, posts: list[feeds.Post], keywords: list[str], feed_id: int | None = None
) -> int:
    """Keeps the posts that mention a keyword, scored, once per (community, entry); returns how many are new."""
    known = set(session.exec(select(LabVoice.guid).where(LabVoice.community_id == community_id)).all())
    added = 0
    for voice in feeds.voices(posts, keywords):
        post = voice.post
        if post.guid in known:
            continue
        known.add(post.guid)
        session.add(
            LabVoice(
                community_id=community_id,
                feed_id=feed_id,
                guid=post.guid,
                source=post.source,
                title=post.title,
                text=post.text,
                link=post.link,
                keywords=",".join(voice.keywords)[:1000],
                published_at=post.published,
                sentiment=voice.sentiment.score,
                label=voice.sentiment.label,
                language=voice.sentiment.language,
            )
        )
        added += 1
    session.commit()
    return added


def fetch_feed(session: Session, feed: LabFeed, settings: Settings, content: bytes | None = None) -> int:
    """Reads the feed (its URL, or `content` already fetched) and stores its new voices; a failure is recorded on
    the feed (`error`) and raised as a LabError with the sentence."""
    try:
        data = content if content is not None else feeds.fetch(feed.url, allow_private=settings.lab_feeds_allow_private)
        posts = feeds.parse(data, source=feed.url)
    except feeds.FeedError as exc:
        feed.error = str(exc)[:300]
        feed.fetched_at = utcnow()
        session.add(feed)
        session.commit()
        raise LabError(f"Feed {feed.id}: {exc}", 502) from exc
    added = store_voices(session, feed.community_id, posts, feed.keywords.split(","), feed.id)
    feed.title = (posts[0].source if posts else feed.title)[:200]
    feed.error = None
    feed.fetched_at = utcnow()
    session.add(feed)
    session.commit()
    return added


def fetch_all(session: Session, settings: Settings) -> dict[int, int | str]:
    """Every community's feeds (run by `lec lab feeds` from cron): feed id → new voices, or the error sentence."""
    out: dict[int, int | str] = {}
    for feed in session.exec(select(LabFeed).order_by(col(LabFeed.id))).all():
        assert feed.id is not None
        try:
            out[feed.id] = fetch_feed(session, feed, settings)
        except LabError as exc:
            out[feed.id] = str(exc)
    return out


@dataclass(frozen=True)
class External:
    count: int
    labels: Counter[str]
    average_sentiment: float | None
    trend: list[tuple[str, int, float]]  # period, count, mean sentiment
    themes: list[tuple[str, int]]
    latest: list[LabVoice]


def external_summary(session: Session, access: CommunityAccess, by: str = "month") -> External:
    """The external voices: public posts by third parties, so no k-threshold on them (there is no member to hide)."""
    rows = list(
        session.exec(
            select(LabVoice)
            .where(LabVoice.community_id == access.community.id)
            .order_by(col(LabVoice.published_at).desc(), col(LabVoice.id).desc())
        ).all()
    )
    # the keywords (each of their words) are in every entry: not a theme — the feeds' and those each voice was kept
    # for (a voice read from a file by `lec lab feeds --file` has no feed)
    said = [f.keywords for f in list_feeds(session, access)] + [r.keywords for r in rows]
    own = {w.lower() for words in said for k in words.split(",") for w in k.split()}
    cells: dict[str, list[float]] = {}
    for r in rows:
        cells.setdefault(themes.period_of(r.published_at or r.created_at, by), []).append(r.sentiment)
    return External(
        count=len(rows),
        labels=Counter(r.label for r in rows),
        average_sentiment=round(sum(r.sentiment for r in rows) / len(rows), 3) if rows else None,
        trend=[(k, len(v), round(sum(v) / len(v), 3)) for k, v in sorted(cells.items())],
        themes=[
            (w, n) for w, n in themes.top_themes((f"{r.title} {r.text}" for r in rows), THEMES * 2, 2) if w not in own
        ][:THEMES],
        latest=rows[:LATEST],
    )


# ------------------------------------------------------------------------------------------------- privacy


def forget_voice(session: Session, user_id: int) -> None:
    """Right to be forgotten: the person's inbox, mail preferences and feedback are deleted, and the messages
    written to them alone; messages they sent as admin stay with the community, without their name. The caller
    commits."""
    for message in session.exec(select(LabMessage).where(LabMessage.recipient_id == user_id)).all():
        for item in session.exec(select(LabInboxItem).where(LabInboxItem.message_id == message.id)).all():
            session.delete(item)
        session.delete(message)  # a message to that one person only goes with them
    session.flush()
    for model in (LabInboxItem, LabFeedback, LabMailPreference):
        for row in session.exec(select(model).where(model.user_id == user_id)).all():  # type: ignore[attr-defined]
            session.delete(row)
    for message in session.exec(select(LabMessage).where(LabMessage.sender_id == user_id)).all():
        message.sender_id = None
        session.add(message)
    for kind in (LabObjective, LabClusterObjective):
        for objective in session.exec(select(kind).where(kind.set_by == user_id)).all():  # type: ignore[attr-defined]
            objective.set_by = None  # the community's objectives stay, without who set them
            session.add(objective)
