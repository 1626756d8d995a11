"""Bodies and replies of the living lab's routes (polls, projects)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from dapp.api.schemas.common import JsonInt, Line, StrictModel

Hex32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
Signature = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65-byte wallet signature, 0x-hex.")]
Option = Annotated[Line, Field(min_length=1, max_length=120)]
Text = Annotated[str, Field(min_length=1, max_length=4000, pattern=r"^[^\x00]*$")]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give the time with its zone, e.g. 2026-12-01T18:00:00+01:00")
    return value


Aware = Annotated[datetime, AfterValidator(_aware)]


class NewPoll(BaseModel):
    model_config = {"extra": "forbid"}

    question: Annotated[Line, Field(min_length=3, max_length=300)]
    options: Annotated[list[Option], Field(min_length=2, max_length=10)]
    starts_at: Aware
    ends_at: Aware


class PollPublic(BaseModel):
    id: int
    community_id: int
    question: str
    options: list[str]
    question_hash: str
    state: Literal["draft", "open", "closed"]
    starts_at: datetime
    ends_at: datetime
    eligible: int
    ballots: int = Field(description="Ballots received so far (one per member).")
    counts: list[int] | None = Field(description="The tally per option, once the poll is closed.")
    ballots_root: str | None
    tally_hash: str | None
    tx_hash: str | None
    chain_id: int | None
    notary: str | None
    my_choice: int | None = Field(default=None, description="Your counted choice (only yours, only to you).")
    may_vote: bool = Field(default=False, description="Whether your wallet is in the poll's membership snapshot.")


class BallotRequest(BaseModel):
    """The EIP-712 typed data to sign with `eth_signTypedData_v4`, as JSON."""

    typed_data: dict[str, Any]
    wallet: str


class NewBallot(StrictModel):
    choice: Annotated[JsonInt, Field(ge=0, le=9)]
    nonce: Annotated[JsonInt, Field(ge=1, le=2**53 - 1)]
    signature: Signature


class BallotAccepted(BaseModel):
    choice: int
    nonce: int
    replaced: bool = Field(description="Whether this ballot replaced an earlier one of yours.")


class BallotReceipt(BaseModel):
    """A voter's private receipt: with the salt, their ballot key and its proof in the notarised tree."""

    format: str
    poll_id: int
    voter: str
    salt: str
    ballot_key: str
    choice: int
    proof: list[str] | None
    ballots_root: str | None
    counted: bool | None = Field(description="Whether the Notary confirms the leaf (None before the close).")


Kind = Literal["sharing", "co-design", "co-governance"]
StateName = Literal["suggested", "open", "active", "completed", "declined"]


class NewProject(BaseModel):
    model_config = {"extra": "forbid"}

    title: Annotated[Line, Field(min_length=3, max_length=160)]
    description: Text
    kind: Kind
    starts_on: date | None = None
    ends_on: date | None = None
    capacity: Annotated[int | None, Field(ge=1, le=100_000)] = None
    expected_benefits: Annotated[str, Field(max_length=4000, pattern=r"^[^\x00]*$")] = ""


class ProjectDecision(BaseModel):
    model_config = {"extra": "forbid"}

    state: StateName
    reason: Annotated[str | None, Field(max_length=4000, pattern=r"^[^\x00]*$")] = None
    benefits_recorded: Annotated[int | None, Field(ge=0, le=10**12)] = None


class ProjectPublic(BaseModel):
    id: int
    community_id: int
    title: str
    description: str
    kind: Kind
    state: StateName
    starts_on: date | None
    ends_on: date | None
    capacity: int | None
    expected_benefits: str
    benefits_recorded: int
    decision_reason: str | None
    participants: int
    joined: bool = False
    suggested_by_me: bool = False


class NewComment(BaseModel):
    model_config = {"extra": "forbid"}

    text: Text


class CommentPublic(BaseModel):
    id: int
    text: str
    created_at: datetime
    mine: bool


class NewRating(StrictModel):
    stars: Annotated[JsonInt, Field(ge=1, le=5)]


class ProjectStatisticsPublic(BaseModel):
    active: int
    completed: int
    suggested: int
    open: int
    declined: int
    adhesion_rate: float | None = Field(description="Share of members in a project; hidden below k members.")
    benefits_recorded: int
    satisfaction: float | None = Field(description="Mean stars of completed projects; hidden below k ratings.")
    ratings: int
    k: int
