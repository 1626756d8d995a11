"""The living lab's tables (owner: the living lab, `lec/lab`): polls with their membership snapshot and ballots,
neighbourhood projects with participants, comments and ratings; messages with each member's inbox; feedback with its
sentiment.

Right to be forgotten: a person's ballot keeps only its leaf `(ballot_key, choice)` once their salt, signature,
wallet and user id are erased (the notarised tally stays valid and can no longer be linked to them); their
project memberships, comments, ratings, inbox items and feedback are deleted, and the messages they sent lose their
sender (`dapp/api/services/lab.py::forget_person`).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lec.db.types import UtcDateTime, utcnow

MAX_TITLE = 160
MAX_TEXT = 4_000


class LabPoll(SQLModel, table=True):
    __tablename__ = "lab_polls"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    question: str = Field(max_length=MAX_TITLE * 2)
    options: str = Field(sa_type=sa.Text, description="JSON list of the options' texts, in order.")
    question_hash: str = Field(max_length=66)
    state: str = Field(default="draft", max_length=16, index=True)
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime = Field(sa_type=UtcDateTime)
    eligible: int = Field(default=0, description="Members in the snapshot taken when the poll opened.")
    chain_id: int | None = Field(default=None, description="The chain a ballot names (set when the poll opens).")
    notary: str | None = Field(
        default=None, max_length=42, description="The Notary a ballot names and the tally goes to."
    )
    counts: str | None = Field(default=None, sa_type=sa.Text, description="JSON tally per option, at close.")
    ballots_root: str | None = Field(default=None, max_length=66)
    tally_hash: str | None = Field(default=None, max_length=66)
    tree: str | None = Field(default=None, sa_type=sa.Text, description="standard-v1 dump of the ballots tree.")
    tx_hash: str | None = Field(default=None, max_length=66)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class LabPollVoter(SQLModel, table=True):
    """The membership snapshot: the wallets of the community's active members when the poll opened."""

    __tablename__ = "lab_poll_voters"

    poll_id: int = Field(foreign_key="lab_polls.id", primary_key=True)
    wallet: str = Field(max_length=42, primary_key=True)


class LabBallot(SQLModel, table=True):
    """The ballot counted for one voter (a later one replaces it until close)."""

    __tablename__ = "lab_ballots"
    __table_args__ = (sa.UniqueConstraint("poll_id", "voter"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="lab_polls.id", index=True)
    voter: str | None = Field(default=None, max_length=42, description="Erased with the person.")
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    choice: int
    nonce: int = Field(sa_type=sa.BigInteger)
    signature: str | None = Field(default=None, max_length=132)
    salt: str | None = Field(default=None, max_length=66)
    ballot_key: str = Field(max_length=66)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabProject(SQLModel, table=True):
    __tablename__ = "lab_projects"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    title: str = Field(max_length=MAX_TITLE)
    description: str = Field(max_length=MAX_TEXT)
    kind: str = Field(max_length=16)
    state: str = Field(max_length=16, index=True)
    starts_on: date | None = None
    ends_on: date | None = None
    capacity: int | None = None
    expected_benefits: str = Field(default="", max_length=MAX_TEXT)
    benefits_recorded: int = 0
    proposed_by: int | None = Field(default=None, foreign_key="users.id")
    decision_reason: str | None = Field(default=None, max_length=MAX_TEXT)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabProjectMember(SQLModel, table=True):
    __tablename__ = "lab_project_members"

    project_id: int = Field(foreign_key="lab_projects.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabProjectComment(SQLModel, table=True):
    __tablename__ = "lab_project_comments"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="lab_projects.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    text: str = Field(max_length=MAX_TEXT)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabProjectRating(SQLModel, table=True):
    __tablename__ = "lab_project_ratings"

    project_id: int = Field(foreign_key="lab_projects.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    stars: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabMessage(SQLModel, table=True):
    """A message or newsletter the community admin sends to every member, a cluster's members, a project's
    participants or one member. Each recipient gets one `LabInboxItem` when it is delivered (once: `sent_at` is
    claimed by a single conditional update); a newsletter with `send_at` in the future waits until then. The text
    stays with the community."""

    __tablename__ = "lab_messages"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    sender_id: int | None = Field(default=None, foreign_key="users.id", description="Erased with the person.")
    project_id: int | None = Field(default=None, foreign_key="lab_projects.id")
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id")
    recipient_id: int | None = Field(default=None, foreign_key="users.id", description="One member; erased with them.")
    kind: str = Field(default="message", max_length=16, description="message | newsletter")
    category: str = Field(default="announcements", max_length=16, description="newsletter | project | announcements")
    subject: str = Field(max_length=MAX_TITLE)
    body: str = Field(sa_type=sa.Text)
    recipients: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    send_at: datetime | None = Field(
        default=None, sa_type=UtcDateTime, description="Scheduled delivery; None: at once."
    )
    sent_at: datetime | None = Field(
        default=None, sa_type=UtcDateTime, index=True, description="None: not delivered yet."
    )


class LabInboxItem(SQLModel, table=True):
    """One message in one member's inbox, with the time they read it (None: unread)."""

    __tablename__ = "lab_inbox"

    message_id: int = Field(foreign_key="lab_messages.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)
    read_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    emailed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, description="When it was e-mailed, once.")


class LabMailPreference(SQLModel, table=True):
    """A member's choices for the community's messages: e-mail copies (off unless they opt in) and the muted
    categories (never e-mailed; they still land in the inbox). Deleted with the person."""

    __tablename__ = "lab_mail_preferences"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)
    email: bool = False
    muted: str = Field(default="", max_length=64, description="Comma-separated: newsletter, project, announcements.")


class LabFeedback(SQLModel, table=True):
    """A member's feedback on the community or one project: text, 1–5 rating and the sentiment computed when it
    was written (`lec.lab.sentiment`). Deleted with the person."""

    __tablename__ = "lab_feedback"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="lab_projects.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    text: str = Field(max_length=MAX_TEXT)
    rating: int
    sentiment: float
    label: str = Field(max_length=16)
    language: str = Field(max_length=2)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabFeed(SQLModel, table=True):
    """An RSS/Atom feed the community admin follows for external voices, with the keywords that make an entry
    relevant (comma-separated: the community's name, its neighbourhood, its projects…)."""

    __tablename__ = "lab_feeds"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    url: str = Field(max_length=1000)
    keywords: str = Field(max_length=1000)
    title: str = Field(default="", max_length=200)
    fetched_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    error: str | None = Field(default=None, max_length=300, description="Why the last fetch failed, if it did.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabVoice(SQLModel, table=True):
    """An external voice: a feed entry that mentions the community's keywords, with its sentiment. Public text
    written by third parties; stored once per entry (community, guid)."""

    __tablename__ = "lab_voices"
    __table_args__ = (sa.UniqueConstraint("community_id", "guid"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    feed_id: int | None = Field(default=None, foreign_key="lab_feeds.id")
    guid: str = Field(max_length=512)
    source: str = Field(max_length=200)
    title: str = Field(max_length=300)
    text: str = Field(sa_type=sa.Text)
    link: str = Field(max_length=1000)
    keywords: str = Field(max_length=1000)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sentiment: float
    label: str = Field(max_length=16)
    language: str = Field(max_length=2)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabObjective(SQLModel, table=True):
    """A community objective for one month (`lec.lab.objectives`): setting it again replaces the target."""

    __tablename__ = "lab_objectives"
    __table_args__ = (sa.UniqueConstraint("community_id", "kind", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    kind: str = Field(default="self_sufficiency", max_length=32)
    month: str = Field(max_length=7, description="YYYY-MM")
    target_pct: float
    set_by: int | None = Field(default=None, foreign_key="users.id", description="Erased with the person.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LabClusterObjective(SQLModel, table=True):
    """A consumption cluster's target curve for one month (`lec.lab.objectives.evaluate_curve`): 24 shares of the
    daily consumption per local hour, as JSON; setting it again replaces the curve."""

    __tablename__ = "lab_cluster_objectives"
    __table_args__ = (sa.UniqueConstraint("cluster_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    cluster_id: int = Field(foreign_key="clusters.id")
    month: str = Field(max_length=7, description="YYYY-MM")
    target_curve: str = Field(max_length=400, description="JSON list of 24 shares (%), local hours 0…23.")
    set_by: int | None = Field(default=None, foreign_key="users.id", description="Erased with the person.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
