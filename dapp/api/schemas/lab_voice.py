"""Bodies and replies of the living lab's messages (inbox) and feedback routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from dapp.api.schemas.common import Line

Text = Annotated[str, Field(min_length=1, max_length=4000, pattern=r"^[^\x00]*$")]
Body = Annotated[str, Field(min_length=1, max_length=20_000, pattern=r"^[^\x00]*$")]


class NewMessage(BaseModel):
    model_config = {"extra": "forbid"}

    subject: Annotated[Line, Field(min_length=3, max_length=160)]
    body: Body
    kind: Literal["message", "newsletter"] = "message"
    project_id: int | None = Field(
        default=None, ge=1, description="Only this project's participants receive it; omitted: every member."
    )
    cluster_id: int | None = Field(default=None, ge=1, description="Only this cluster's active members receive it.")
    recipient_id: int | None = Field(default=None, ge=1, description="Only this member (their user id) receives it.")
    send_at: AwareDatetime | None = Field(
        default=None,
        description="Deliver at this time (a scheduled newsletter); omitted or past: at once. Delivered by the first "
        "inbox read after it or by `lec lab deliver`.",
    )


Category = Literal["newsletter", "project", "announcements"]


class MailPreferences(BaseModel):
    model_config = {"extra": "forbid"}

    email: bool = Field(description="Receive an e-mail copy of the community's messages.")
    muted: list[Category] = Field(
        default_factory=list, max_length=3, description="Categories never e-mailed (they still reach the inbox)."
    )


class MessageSent(BaseModel):
    id: int
    kind: str
    category: Category
    subject: str
    project_id: int | None
    cluster_id: int | None = None
    recipient_id: int | None = None
    send_at: datetime | None = None
    sent_at: datetime | None = Field(default=None, description="None: scheduled, not delivered yet.")
    recipients: int
    read: int = Field(description="Recipients who opened it so far.")
    created_at: datetime


class InboxMessage(BaseModel):
    id: int
    kind: str
    category: Category
    subject: str
    body: str
    project_id: int | None
    created_at: datetime
    read: bool


class Inbox(BaseModel):
    unread: int
    messages: list[InboxMessage]


class NewFeedback(BaseModel):
    model_config = {"extra": "forbid"}

    text: Text
    rating: int = Field(ge=1, le=5, description="1 to 5 stars.")
    project_id: int | None = Field(default=None, ge=1, description="The project it is about; omitted: the community.")


class FeedbackPublic(BaseModel):
    id: int
    project_id: int | None
    text: str
    rating: int
    sentiment: float = Field(description="-1 (negative) … +1 (positive), from the shipped lexicon.")
    label: Literal["positive", "neutral", "negative"]
    language: Literal["it", "en"]
    created_at: datetime
    mine: bool = False


class FeedbackGroup(BaseModel):
    project_id: int | None
    title: str
    count: int
    average_rating: float | None
    average_sentiment: float | None


class FeedbackPoint(BaseModel):
    period: str = Field(description='"2026-11" by month, "2026-W48" by ISO week.')
    project_id: int | None = Field(description="None: the community as a whole.")
    title: str
    count: int
    average_rating: float | None = Field(description="None below k texts.")
    average_sentiment: float | None = Field(description="None below k texts.")


class Theme(BaseModel):
    word: str
    texts: int = Field(description="How many texts use it (shown only from k texts on).")


class FeedbackSummary(BaseModel):
    count: int
    positive: int
    neutral: int
    negative: int
    average_rating: float | None
    average_sentiment: float | None
    groups: list[FeedbackGroup]
    latest: list[FeedbackPublic]
    by: Literal["month", "week"] = "month"
    trend: list[FeedbackPoint] = Field(default_factory=list, description="Per period and target, oldest first.")
    themes: list[Theme] = Field(default_factory=list, description="The most frequent keywords, stop words removed.")
    external: ExternalSummary | None = Field(default=None, description="Voices from the followed RSS/Atom feeds.")


class NewFeed(BaseModel):
    model_config = {"extra": "forbid"}

    url: Annotated[str, Field(min_length=10, max_length=1000, pattern=r"^https?://[^\s\x00]+$")]
    keywords: list[Annotated[str, Field(min_length=2, max_length=80, pattern=r"^[^\x00,]+$")]] = Field(
        min_length=1, max_length=30, description="An entry is kept when its title or text mentions one of them."
    )


class FeedPublic(BaseModel):
    id: int
    url: str
    keywords: list[str]
    title: str
    fetched_at: datetime | None
    error: str | None = Field(description="Why the last fetch failed, if it did.")


class FeedFetched(BaseModel):
    feed_id: int
    added: int = Field(description="New voices kept from this fetch.")


class VoicePublic(BaseModel):
    source: str
    title: str
    text: str
    link: str
    keywords: list[str]
    published_at: datetime | None
    sentiment: float
    label: Literal["positive", "neutral", "negative"]


class ExternalPoint(BaseModel):
    period: str
    count: int
    average_sentiment: float


class ExternalSummary(BaseModel):
    count: int
    positive: int
    neutral: int
    negative: int
    average_sentiment: float | None
    trend: list[ExternalPoint]
    themes: list[Theme]
    latest: list[VoicePublic]


class NewObjective(BaseModel):
    model_config = {"extra": "forbid"}

    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM, this month or a coming one.")]
    target_pct: float = Field(gt=0, le=100, description="Self-sufficiency to reach, in % of the members' consumption.")


class ObjectivePublic(BaseModel):
    id: int
    kind: Literal["self_sufficiency"]
    month: str
    target_pct: float
    achieved_pct: float | None = Field(description="So far in the month; None without data.")
    days_with_data: int
    days_elapsed: int
    days_in_month: int
    status: Literal["not_started", "no_data", "on_track", "behind", "reached", "missed"]


Share = Annotated[float, Field(ge=0, le=100)]


class NewClusterObjective(BaseModel):
    model_config = {"extra": "forbid"}

    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM, this month or a coming one.")]
    target_curve: list[Share] = Field(
        min_length=24,
        max_length=24,
        description="The share (%) of the cluster's daily consumption wanted in each local hour 0…23 (sum 100).",
    )


class ClusterObjectivePublic(BaseModel):
    id: int
    kind: Literal["cluster_curve"] = "cluster_curve"
    month: str
    cluster_id: int
    cluster: str = Field(description="The cluster's description from the clustering.")
    members: int = Field(description="The cluster's active members today.")
    shown: bool = Field(description="False below k active members: then no figure is given.")
    target_curve: list[float]
    target_pct: float = Field(description="The target curve's share of consumption in the PV hours 10–16.")
    achieved_pct: float | None = Field(description="The cluster's share in the PV hours so far; None without data.")
    actual_curve: list[float] | None = Field(description="The cluster's mean day, % per local hour.")
    gaps: list[float] | None = Field(description="actual − target per hour, percentage points.")
    match_pct: float | None = Field(description="How much of the day is already where the target wants it (%).")
    days_with_data: int
    days_elapsed: int
    days_in_month: int
    status: Literal["not_started", "no_data", "on_track", "behind", "reached", "missed", "too_small"]
