"""The living lab: one-member-one-vote polls with EIP-712 ballots and a notarised tally, and neighbourhood projects.

A member asks for the typed data of a ballot, signs it in the wallet (`eth_signTypedData_v4`, no gas) and posts the
signature; the community admin opens a poll (the membership snapshot) and closes it after its end time (the tally
and the root of the salted ballot leaves go to the Notary). docs/living-lab.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from dapp.api.deps import CommunityAccess, CommunityAdmin, CommunityReader, SessionDep, SettingsDep, community_access
from dapp.api.errors import AUTH_ERRORS, CHAIN_DOWN, ERRORS
from dapp.api.guards import GuardedRoute
from dapp.api.roles import COMMUNITY_ADMIN, TOKEN_HOLDER
from dapp.api.schemas.common import PathId
from dapp.api.schemas.lab import (
    BallotAccepted,
    BallotReceipt,
    BallotRequest,
    CommentPublic,
    NewBallot,
    NewComment,
    NewPoll,
    NewProject,
    NewRating,
    PollPublic,
    ProjectDecision,
    ProjectPublic,
    ProjectStatisticsPublic,
)
from dapp.api.services import lab
from lec.db.models import LabPoll, LabProject
from lec.db.types import utcnow
from lec.lab.projects import K_ANONYMITY

router = APIRouter(tags=["living lab"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute)

# Who votes and takes part: the community's members (holders of a wallet there).
Member = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER))]
# Who writes in projects: members and the community admin.
Participant = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN))]


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except lab.LabError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from exc


def _poll_public(session: SessionDep, access: CommunityAccess, poll: LabPoll) -> PollPublic:
    wallet = access.member.wallet if access.member else None
    mine = lab.my_ballot(session, poll, wallet)
    assert poll.id is not None
    return PollPublic(
        id=poll.id,
        community_id=poll.community_id,
        question=poll.question,
        options=lab.options_of(poll),
        question_hash=poll.question_hash,
        state=poll.state,  # type: ignore[arg-type]
        starts_at=poll.starts_at,
        ends_at=poll.ends_at,
        eligible=poll.eligible,
        ballots=lab.ballot_count(session, poll),
        counts=lab.counts_of(poll),
        ballots_root=poll.ballots_root,
        tally_hash=poll.tally_hash,
        tx_hash=poll.tx_hash,
        chain_id=poll.chain_id,
        notary=poll.notary,
        my_choice=mine.choice if mine else None,
        may_vote=lab.in_snapshot(session, poll, wallet),
    )


@router.get("/communities/{community_id}/polls", response_model=list[PollPublic])
def list_polls(access: CommunityReader, session: SessionDep) -> list[PollPublic]:
    """The community's polls, newest first, with their tallies once closed."""
    return [_poll_public(session, access, p) for p in lab.list_polls(session, access)]


@router.post("/communities/{community_id}/polls", status_code=status.HTTP_201_CREATED, response_model=PollPublic)
def create_poll(body: NewPoll, access: CommunityAdmin, session: SessionDep) -> PollPublic:
    """Write a poll (a draft): its question, 2 to 10 options and its voting window."""
    with _refusals():
        poll = lab.create_poll(session, access, body.question, body.options, body.starts_at, body.ends_at)
    return _poll_public(session, access, poll)


@router.get("/communities/{community_id}/polls/{poll_id}", response_model=PollPublic)
def read_poll(poll_id: PathId, access: CommunityReader, session: SessionDep) -> PollPublic:
    """One poll; to a member also their own counted choice and whether they may vote."""
    with _refusals():
        return _poll_public(session, access, lab.get_poll(session, access, poll_id))


@router.post("/communities/{community_id}/polls/{poll_id}/open", response_model=PollPublic, responses=CHAIN_DOWN)
def open_poll(poll_id: PathId, access: CommunityAdmin, session: SessionDep, settings: SettingsDep) -> PollPublic:
    """Open a draft: the active members with a wallet, now, are the poll's voters (the membership snapshot)."""
    with _refusals():
        poll = lab.open_poll(session, settings, access, lab.get_poll(session, access, poll_id))
    return _poll_public(session, access, poll)


@router.get("/communities/{community_id}/polls/{poll_id}/ballot-request", response_model=BallotRequest)
def ballot_request(
    poll_id: PathId, access: Member, session: SessionDep, choice: Annotated[int, Query(ge=0, le=9)]
) -> BallotRequest:
    """The EIP-712 typed data for your ballot, to sign in your wallet with `eth_signTypedData_v4`."""
    with _refusals():
        poll = lab.get_poll(session, access, poll_id)
        typed = lab.ballot_request(access, poll, choice, utcnow())
    return BallotRequest(
        typed_data=typed, wallet=access.member.wallet if access.member and access.member.wallet else ""
    )


@router.post("/communities/{community_id}/polls/{poll_id}/ballots", response_model=BallotAccepted)
def submit_ballot(poll_id: PathId, body: NewBallot, access: Member, session: SessionDep) -> BallotAccepted:
    """Send your signed ballot; a later one replaces it until the poll closes."""
    with _refusals():
        poll = lab.get_poll(session, access, poll_id)
        ballot, replaced = lab.submit_ballot(session, access, poll, body.choice, body.nonce, body.signature, utcnow())
    return BallotAccepted(choice=ballot.choice, nonce=ballot.nonce, replaced=replaced)


@router.post("/communities/{community_id}/polls/{poll_id}/close", response_model=PollPublic, responses=CHAIN_DOWN)
def close_poll(poll_id: PathId, access: CommunityAdmin, session: SessionDep, settings: SettingsDep) -> PollPublic:
    """After the end time: tally, build the salted ballots tree and notarise its root and the tally on chain.
    Closing again after a failure finishes the notarisation without sending it twice."""
    with _refusals():
        poll = lab.close_poll(session, settings, access, lab.get_poll(session, access, poll_id), utcnow())
    return _poll_public(session, access, poll)


@router.get("/communities/{community_id}/polls/{poll_id}/bundle")
def poll_bundle(poll_id: PathId, access: CommunityReader, session: SessionDep) -> dict[str, Any]:
    """The public bundle of a closed poll: tally and every leaf (ballot key, choice), never who voted what.
    `lec verify` recomputes the tally and the root from it and checks them against the Notary."""
    with _refusals():
        return lab.public_bundle(session, access, lab.get_poll(session, access, poll_id))


@router.get("/communities/{community_id}/polls/{poll_id}/receipt", response_model=BallotReceipt)
def ballot_receipt(poll_id: PathId, access: Member, session: SessionDep, settings: SettingsDep) -> BallotReceipt:
    """Your own ballot's receipt: its salt, key, choice and, after the close, its proof and the Notary's answer."""
    with _refusals():
        r = lab.receipt(session, settings, access, lab.get_poll(session, access, poll_id))
    assert r.ballot.salt is not None and r.ballot.voter is not None and r.poll.id is not None
    return BallotReceipt(
        format=lab.RECEIPT_FORMAT,
        poll_id=r.poll.id,
        voter=r.ballot.voter,
        salt=r.ballot.salt,
        ballot_key=r.ballot.ballot_key,
        choice=r.ballot.choice,
        proof=r.proof,
        ballots_root=r.poll.ballots_root,
        counted=r.counted,
    )


# ------------------------------------------------------------------------------------------------- projects


def _project_public(session: SessionDep, access: CommunityAccess, project: LabProject) -> ProjectPublic:
    uid = access.user.id if access.user else None
    assert project.id is not None
    return ProjectPublic(
        id=project.id,
        community_id=project.community_id,
        title=project.title,
        description=project.description,
        kind=project.kind,  # type: ignore[arg-type]
        state=project.state,  # type: ignore[arg-type]
        starts_on=project.starts_on,
        ends_on=project.ends_on,
        capacity=project.capacity,
        expected_benefits=project.expected_benefits,
        benefits_recorded=project.benefits_recorded,
        decision_reason=project.decision_reason,
        participants=lab.participants(session, project),
        joined=lab.is_participant(session, project, uid),
        suggested_by_me=uid is not None and project.proposed_by == uid,
    )


@router.get("/communities/{community_id}/projects", response_model=list[ProjectPublic])
def list_projects(access: CommunityReader, session: SessionDep) -> list[ProjectPublic]:
    """The community's projects (suggestions only to the admin and to whoever made them)."""
    return [_project_public(session, access, p) for p in lab.list_projects(session, access)]


@router.post("/communities/{community_id}/projects", status_code=status.HTTP_201_CREATED, response_model=ProjectPublic)
def create_project(body: NewProject, access: Participant, session: SessionDep) -> ProjectPublic:
    """The admin defines a project (open at once); a member suggests one (the admin accepts or declines it)."""
    return _project_public(session, access, lab.create_project(session, access, body.model_dump()))


@router.post("/communities/{community_id}/projects/{project_id}/decision", response_model=ProjectPublic)
def decide(project_id: PathId, body: ProjectDecision, access: CommunityAdmin, session: SessionDep) -> ProjectPublic:
    """Move a project: accept a suggestion (open), decline it with a reason, start it (active), complete it
    (with the benefits recorded)."""
    with _refusals():
        project = lab.decide(
            session, lab.get_project(session, access, project_id), body.state, body.reason, body.benefits_recorded
        )
    return _project_public(session, access, project)


@router.post("/communities/{community_id}/projects/{project_id}/participants", response_model=ProjectPublic)
def join(project_id: PathId, access: Member, session: SessionDep) -> ProjectPublic:
    """Join an open or active project (while it has places)."""
    with _refusals():
        project = lab.get_project(session, access, project_id)
        lab.join(session, access, project)
    return _project_public(session, access, project)


@router.delete("/communities/{community_id}/projects/{project_id}/participants", response_model=ProjectPublic)
def leave(project_id: PathId, access: Member, session: SessionDep) -> ProjectPublic:
    """Leave a project you take part in (before it is over)."""
    with _refusals():
        project = lab.get_project(session, access, project_id)
        lab.leave(session, access, project)
    return _project_public(session, access, project)


@router.get("/communities/{community_id}/projects/{project_id}/comments", response_model=list[CommentPublic])
def read_comments(project_id: PathId, access: CommunityReader, session: SessionDep) -> list[CommentPublic]:
    """A project's comments, oldest first (authors are not named)."""
    with _refusals():
        project = lab.get_project(session, access, project_id)
    uid = access.user.id if access.user else None
    return [
        CommentPublic(id=c.id or 0, text=c.text, created_at=c.created_at, mine=c.user_id == uid)
        for c in lab.comments(session, project)
    ]


@router.post(
    "/communities/{community_id}/projects/{project_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentPublic,
)
def add_comment(project_id: PathId, body: NewComment, access: Participant, session: SessionDep) -> CommentPublic:
    """Comment on a project."""
    with _refusals():
        row = lab.comment(session, access, lab.get_project(session, access, project_id), body.text)
    return CommentPublic(id=row.id or 0, text=row.text, created_at=row.created_at, mine=True)


@router.put("/communities/{community_id}/projects/{project_id}/rating", status_code=status.HTTP_204_NO_CONTENT)
def rate(project_id: PathId, body: NewRating, access: Member, session: SessionDep) -> None:
    """Rate a completed project you took part in (1 to 5 stars; rating again replaces your stars)."""
    with _refusals():
        lab.rate(session, access, lab.get_project(session, access, project_id), body.stars)


@router.get("/communities/{community_id}/projects-statistics", response_model=ProjectStatisticsPublic)
def statistics(access: CommunityReader, session: SessionDep) -> ProjectStatisticsPublic:
    """The report's indicators: projects active/completed/suggested, adhesion rate, benefits, satisfaction."""
    stats = lab.statistics(session, access)
    return ProjectStatisticsPublic(**stats.__dict__, k=K_ANONYMITY)
