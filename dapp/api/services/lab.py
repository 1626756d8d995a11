"""The living lab's use cases over the database and the chain: polls (snapshot, ballots, close with the notarised
tally, receipts and the public bundle) and neighbourhood projects. The rules are `lec.lab`'s; the ballots' Merkle
tree is the proofs' StandardMerkleTree (`oracle.proofs.merkle`), so the Notary's `MerkleProof` checks it.

Close is crash-safe in the period run's order: the tally, the tree and its root are committed before the
transaction; the transaction's hash is committed as soon as it is sent; a close run again after a crash finds
the result on chain (or waits for the known transaction) instead of sending another.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlmodel import Session, col, func, select
from web3.exceptions import ContractLogicError

from dapp.api import chain as chain_api
from dapp.api.deps import CommunityAccess
from lec.chain.client import ChainError
from lec.db.models import (
    LabBallot,
    LabPoll,
    LabPollVoter,
    LabProject,
    LabProjectComment,
    LabProjectMember,
    LabProjectRating,
    UserCommunity,
)
from lec.db.types import utcnow
from lec.lab import polls as rules
from lec.lab import projects as project_rules
from lec.lab.polls import BallotRefused, PollIdentity, PollState
from lec.lab.projects import ProjectRuleError, ProjectState
from lec.settings import Settings
from oracle.proofs.merkle import StandardMerkleTree

log = logging.getLogger(__name__)

BUNDLE_FORMAT = "lec-poll-bundle"
RECEIPT_FORMAT = "lec-poll-receipt"
BUNDLE_VERSION = 1


class LabError(ValueError):
    """A request the living lab's rules refuse; `status` is the HTTP status to answer with."""

    def __init__(self, sentence: str, status: int = 409, reason: str = "") -> None:
        super().__init__(sentence)
        self.status = status
        self.reason = reason


# ---------------------------------------------------------------------------------------------------- polls


def options_of(poll: LabPoll) -> list[str]:
    return list(json.loads(poll.options))


def counts_of(poll: LabPoll) -> list[int] | None:
    return list(json.loads(poll.counts)) if poll.counts else None


def identity(poll: LabPoll, chain_community_id: int) -> PollIdentity:
    assert poll.id is not None and poll.chain_id is not None and poll.notary is not None
    return PollIdentity(poll.chain_id, poll.notary, chain_community_id, poll.id, poll.question_hash)


def _chain_community(access: CommunityAccess) -> int:
    cid = access.community.chain_community_id
    if cid is None:
        raise LabError("This community is not on the chain yet, so its polls cannot be notarised.", 409)
    return cid


def get_poll(session: Session, access: CommunityAccess, poll_id: int) -> LabPoll:
    poll = session.get(LabPoll, poll_id)
    if poll is None or poll.community_id != access.community.id:
        raise LabError(f"There is no poll {poll_id} in this community.", 404)
    return poll


def list_polls(session: Session, access: CommunityAccess) -> list[LabPoll]:
    return list(
        session.exec(
            select(LabPoll).where(LabPoll.community_id == access.community.id).order_by(col(LabPoll.id).desc())
        ).all()
    )


def create_poll(
    session: Session,
    access: CommunityAccess,
    question: str,
    options: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
) -> LabPoll:
    try:
        cleaned = rules.check_options(options)
    except ValueError as exc:
        raise LabError(str(exc), 422) from exc
    if ends_at <= starts_at:
        raise LabError("The poll must end after it starts.", 422)
    assert access.community.id is not None
    poll = LabPoll(
        community_id=access.community.id,
        question=question.strip(),
        options=json.dumps(cleaned, ensure_ascii=False),
        question_hash=rules.question_hash(question.strip(), cleaned),
        starts_at=starts_at,
        ends_at=ends_at,
    )
    session.add(poll)
    session.commit()
    session.refresh(poll)
    return poll


def open_poll(session: Session, settings: Settings, access: CommunityAccess, poll: LabPoll) -> LabPoll:
    """Takes the membership snapshot (active members with a wallet, now) and opens the poll to their ballots."""
    if poll.state != PollState.DRAFT:
        raise LabError(f"The poll is already {poll.state}: a poll opens once.")
    _chain_community(access)
    try:
        client = chain_api.connect(settings)
    except ChainError as exc:
        raise _chain_error(exc) from exc
    wallets = session.exec(
        select(UserCommunity.wallet).where(
            UserCommunity.community_id == access.community.id,
            UserCommunity.active == True,  # noqa: E712  (SQL, not Python)
            col(UserCommunity.wallet).is_not(None),
        )
    ).all()
    snapshot = sorted({to_checksum_address(w) for w in wallets if w})
    assert poll.id is not None
    session.add_all([LabPollVoter(poll_id=poll.id, wallet=w) for w in snapshot])
    poll.state = PollState.OPEN
    poll.eligible = len(snapshot)
    poll.chain_id = client.chain_id
    poll.notary = str(client.notary.address)
    session.add(poll)
    session.commit()
    session.refresh(poll)
    return poll


def in_snapshot(session: Session, poll: LabPoll, wallet: str | None) -> bool:
    if wallet is None:
        return False
    return session.get(LabPollVoter, (poll.id, to_checksum_address(wallet))) is not None


def my_ballot(session: Session, poll: LabPoll, wallet: str | None) -> LabBallot | None:
    if wallet is None:
        return None
    return session.exec(
        select(LabBallot).where(LabBallot.poll_id == poll.id, LabBallot.voter == to_checksum_address(wallet))
    ).first()


def ballot_count(session: Session, poll: LabPoll) -> int:
    return int(session.exec(select(func.count()).select_from(LabBallot).where(LabBallot.poll_id == poll.id)).one())


def ballot_request(access: CommunityAccess, poll: LabPoll, choice: int, now: datetime) -> dict[str, Any]:
    """The typed data the caller's wallet signs for `choice`; its nonce is the time in milliseconds, so a later
    ballot always carries a larger one."""
    if poll.state != PollState.OPEN:
        raise LabError("The poll is not open for ballots.", 409, "not-open")
    if not 0 <= choice < len(options_of(poll)):
        raise LabError("That choice is not one of the poll's options.", 422, "bad-choice")
    nonce = int(now.timestamp() * 1000)
    return rules.typed_data(identity(poll, _chain_community(access)), choice, nonce)


def submit_ballot(
    session: Session, access: CommunityAccess, poll: LabPoll, choice: int, nonce: int, signature: str, now: datetime
) -> tuple[LabBallot, bool]:
    """Checks and counts a ballot (replacing the caller's earlier one); a fresh salt for every ballot."""
    wallet = access.member.wallet if access.member else None
    if poll.state == PollState.DRAFT:
        raise LabError("The poll is not open yet: come back when voting starts.", 409, "not-open")
    try:
        signer = rules.recover_voter(identity(poll, _chain_community(access)), choice, nonce, signature)
        previous = my_ballot(session, poll, signer)
        snapshot = [signer] if in_snapshot(session, poll, signer) else []
        window = rules.Window(PollState(poll.state), poll.starts_at, poll.ends_at)
        rules.check_ballot(
            window,
            now,
            len(options_of(poll)),
            choice,
            nonce,
            signer,
            wallet,
            snapshot,
            previous.nonce if previous else None,
        )
    except BallotRefused as exc:
        status = 403 if exc.reason in ("not-in-snapshot", "signature-mismatch") else 409
        raise LabError(str(exc), status, exc.reason) from exc
    salt = rules.new_salt()
    assert poll.id is not None
    ballot = previous or LabBallot(poll_id=poll.id, voter=signer, choice=choice, nonce=nonce, ballot_key="")
    ballot.user_id = access.user.id if access.user else None
    ballot.choice, ballot.nonce, ballot.signature = choice, nonce, signature
    ballot.salt = "0x" + salt.hex()
    ballot.ballot_key = rules.ballot_key(salt, signer, poll.id)
    ballot.received_at = now
    session.add(ballot)
    session.commit()
    return ballot, previous is not None


def _leaves(session: Session, poll: LabPoll) -> list[tuple[str, int]]:
    rows = session.exec(select(LabBallot).where(LabBallot.poll_id == poll.id).order_by(col(LabBallot.ballot_key))).all()
    return [(b.ballot_key, b.choice) for b in rows]


def close_poll(session: Session, settings: Settings, access: CommunityAccess, poll: LabPoll, now: datetime) -> LabPoll:
    """Tallies the ballots, builds the salted ballots tree and notarises its root and the tally hash."""
    if poll.state == PollState.DRAFT:
        raise LabError("The poll never opened: there is nothing to close.")
    if poll.state == PollState.OPEN and now < poll.ends_at:
        raise LabError("Voting is still open until the poll's end time: it closes after that, not before.")
    chain_community_id = _chain_community(access)
    if poll.state == PollState.OPEN:
        leaves = _leaves(session, poll)
        counts = rules.tally((c for _, c in leaves), len(options_of(poll)))
        poll.counts = json.dumps(counts)
        poll.tally_hash = rules.tally_hash(identity(poll, chain_community_id), poll.eligible, counts)
        if leaves:
            tree = StandardMerkleTree.of(leaves, rules.BALLOT_LEAF_ENCODING)
            poll.tree, poll.ballots_root = json.dumps(tree.dump()), tree.root
        else:
            poll.tree, poll.ballots_root = None, "0x" + "00" * 32
        poll.state, poll.closed_at = PollState.CLOSED, now
        session.add(poll)
        session.commit()
    if poll.tx_hash is None:
        _notarise(session, settings, poll, chain_community_id)
    return poll


def _notarise(session: Session, settings: Settings, poll: LabPoll, chain_community_id: int) -> None:
    try:
        client = chain_api.connect(settings, signing=True)
        if _on_chain(client, chain_community_id, poll) is not None:
            return
        assert poll.ballots_root is not None and poll.tally_hash is not None

        def remember(tx_hash: str) -> None:
            poll.tx_hash = tx_hash
            session.add(poll)
            session.commit()

        fn = client.notary.functions.notarisePoll(
            chain_community_id, poll.id, poll.ballots_root, poll.tally_hash, ballot_count(session, poll)
        )
        client.send(fn, on_sent=remember)
    except ChainError as exc:
        raise _chain_error(exc, "The tally is kept but not notarised yet. ") from exc


def _chain_error(exc: ChainError, prefix: str = "") -> LabError:
    """A contract's refusal is the caller's to read (`lec.chain.reverts` words it); anything else (node down, no
    key, no deployments) is the operator's, logged, and the caller reads that the chain cannot be used now."""
    if isinstance(exc.__cause__, ContractLogicError):
        return LabError(prefix + str(exc), 502)
    log.error("Chain: %s", exc)
    return LabError(prefix + "The platform cannot use the blockchain now; retry in a while.", 503)


def _on_chain(client: Any, chain_community_id: int, poll: LabPoll) -> dict[str, Any] | None:
    try:
        ballots_root, tally_hash, count, published_at, publisher = client.notary.functions.pollRecord(
            chain_community_id, poll.id
        ).call()
    except ContractLogicError:
        return None
    return {
        "ballotsRoot": "0x" + bytes(ballots_root).hex(),
        "tallyHash": "0x" + bytes(tally_hash).hex(),
        "ballotCount": int(count),
        "publishedAt": int(published_at),
        "publisher": publisher,
    }


def public_bundle(session: Session, access: CommunityAccess, poll: LabPoll) -> dict[str, Any]:
    """What anyone may recompute the result from: the poll's text, the tally and every leaf (ballot key, choice);
    never who cast which leaf."""
    if poll.state != PollState.CLOSED:
        raise LabError("The poll's bundle is published once the poll is closed.", 409)
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "chainId": poll.chain_id,
        "notary": poll.notary,
        "chainCommunityId": _chain_community(access),
        "pollId": poll.id,
        "question": poll.question,
        "options": options_of(poll),
        "questionHash": poll.question_hash,
        "eligible": poll.eligible,
        "counts": counts_of(poll),
        "tallyHash": poll.tally_hash,
        "ballotsRoot": poll.ballots_root,
        "leafEncoding": rules.BALLOT_LEAF_ENCODING,
        "leaves": [[k, str(c)] for k, c in _leaves(session, poll)],
        "txHash": poll.tx_hash,
    }


@dataclass(frozen=True)
class Receipt:
    poll: LabPoll
    ballot: LabBallot
    proof: list[str] | None
    counted: bool | None


def receipt(session: Session, settings: Settings, access: CommunityAccess, poll: LabPoll) -> Receipt:
    """The caller's own ballot with its salt and, after the close, its proof and the Notary's verdict."""
    wallet = access.member.wallet if access.member else None
    ballot = my_ballot(session, poll, wallet)
    if ballot is None or ballot.salt is None:
        raise LabError("You have no ballot in this poll.", 404)
    if poll.state != PollState.CLOSED or poll.tree is None:
        return Receipt(poll, ballot, None, None)
    tree = StandardMerkleTree.load(json.loads(poll.tree))
    proof = tree.get_proof((ballot.ballot_key, ballot.choice))
    try:
        client = chain_api.connect(settings)
        counted = bool(
            client.notary.functions.verifyBallotLeaf(
                _chain_community(access), poll.id, ballot.ballot_key, ballot.choice, proof
            ).call()
        )
    except Exception:  # noqa: BLE001  (no chain, or no record yet: the receipt still proves against the stored root)
        counted = None
    return Receipt(poll, ballot, proof, counted)


# ------------------------------------------------------------------------------------------------- projects


def get_project(session: Session, access: CommunityAccess, project_id: int) -> LabProject:
    project = session.get(LabProject, project_id)
    if project is None or project.community_id != access.community.id:
        raise LabError(f"There is no project {project_id} in this community.", 404)
    return project


def participants(session: Session, project: LabProject) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(LabProjectMember).where(LabProjectMember.project_id == project.id)
        ).one()
    )


def is_participant(session: Session, project: LabProject, user_id: int | None) -> bool:
    return user_id is not None and session.get(LabProjectMember, (project.id, user_id)) is not None


def list_projects(session: Session, access: CommunityAccess) -> list[LabProject]:
    query = select(LabProject).where(LabProject.community_id == access.community.id)
    if not access.is_admin:  # a suggestion is seen by the admin and by whoever made it until it is accepted
        uid = access.user.id if access.user else -1
        query = query.where((LabProject.state != ProjectState.SUGGESTED) | (LabProject.proposed_by == uid))
    return list(session.exec(query.order_by(col(LabProject.id).desc())).all())


def create_project(session: Session, access: CommunityAccess, fields: dict[str, Any]) -> LabProject:
    """The admin defines an open project; a member's project is a suggestion the admin decides on."""
    assert access.community.id is not None
    project = LabProject(
        community_id=access.community.id,
        state=ProjectState.OPEN if access.is_admin else ProjectState.SUGGESTED,
        proposed_by=access.user.id if access.user else None,
        **fields,
    )
    session.add(project)
    session.commit()
    session.refresh(project)
    return project


def decide(session: Session, project: LabProject, target: str, reason: str | None, benefits: int | None) -> LabProject:
    try:
        project_rules.check_transition(ProjectState(project.state), ProjectState(target), reason)
    except ProjectRuleError as exc:
        raise LabError(str(exc)) from exc
    project.state = target
    if reason:
        project.decision_reason = reason.strip()
    if benefits is not None and target == ProjectState.COMPLETED:
        project.benefits_recorded = benefits
    session.add(project)
    session.commit()
    session.refresh(project)
    return project


def join(session: Session, access: CommunityAccess, project: LabProject) -> None:
    assert access.user is not None and access.user.id is not None
    try:
        project_rules.check_join(
            ProjectState(project.state),
            participants(session, project),
            project.capacity,
            is_participant(session, project, access.user.id),
        )
    except ProjectRuleError as exc:
        raise LabError(str(exc)) from exc
    assert project.id is not None
    session.add(LabProjectMember(project_id=project.id, user_id=access.user.id))
    session.commit()


def leave(session: Session, access: CommunityAccess, project: LabProject) -> None:
    row = session.get(LabProjectMember, (project.id, access.user.id if access.user else -1))
    if row is None:
        raise LabError("You do not take part in this project.", 404)
    if project.state in (ProjectState.COMPLETED, ProjectState.DECLINED):
        raise LabError("The project is over: its participants stay on its record.")
    session.delete(row)
    session.commit()


def comment(session: Session, access: CommunityAccess, project: LabProject, text: str) -> LabProjectComment:
    assert access.user is not None and access.user.id is not None and project.id is not None
    if project.state == ProjectState.DECLINED:
        raise LabError("The project was declined: it takes no more comments.")
    row = LabProjectComment(project_id=project.id, user_id=access.user.id, text=text.strip())
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def comments(session: Session, project: LabProject) -> list[LabProjectComment]:
    return list(
        session.exec(
            select(LabProjectComment)
            .where(LabProjectComment.project_id == project.id)
            .order_by(col(LabProjectComment.id))
        ).all()
    )


def rate(session: Session, access: CommunityAccess, project: LabProject, stars: int) -> None:
    assert access.user is not None and access.user.id is not None and project.id is not None
    try:
        project_rules.check_rating(ProjectState(project.state), is_participant(session, project, access.user.id), stars)
    except ProjectRuleError as exc:
        raise LabError(str(exc), 403 if "took part" in str(exc) else 409) from exc
    row = session.get(LabProjectRating, (project.id, access.user.id)) or LabProjectRating(
        project_id=project.id, user_id=access.user.id, stars=stars
    )
    row.stars, row.created_at = stars, utcnow()
    session.add(row)
    session.commit()


def statistics(session: Session, access: CommunityAccess) -> project_rules.ProjectStatistics:
    cid = access.community.id
    projects = session.exec(select(LabProject).where(LabProject.community_id == cid)).all()
    facts = []
    for p in projects:
        stars = session.exec(select(LabProjectRating.stars).where(LabProjectRating.project_id == p.id)).all()
        facts.append(
            project_rules.ProjectFacts(
                ProjectState(p.state), participants(session, p), p.benefits_recorded, list(stars)
            )
        )
    members = int(
        session.exec(
            select(func.count())
            .select_from(UserCommunity)
            .where(UserCommunity.community_id == cid, UserCommunity.active == True)  # noqa: E712
        ).one()
    )
    counted = [ProjectState.OPEN, ProjectState.ACTIVE, ProjectState.COMPLETED]
    adherents = int(
        session.exec(
            select(func.count(func.distinct(LabProjectMember.user_id)))
            .join(LabProject, LabProject.id == LabProjectMember.project_id)  # type: ignore[arg-type]
            .join(
                UserCommunity,
                (UserCommunity.user_id == LabProjectMember.user_id) & (UserCommunity.community_id == cid),  # type: ignore[arg-type]
            )
            .where(LabProject.community_id == cid, col(LabProject.state).in_(counted), UserCommunity.active == True)  # noqa: E712
        ).one()
    )
    return project_rules.statistics(facts, members, adherents)


# ------------------------------------------------------------------------------------------------- privacy


def forget_person(session: Session, user_id: int) -> None:
    """Right to be forgotten: ballot salts, signatures and links erased (the leaves stay, so the notarised tally
    stays valid and can no longer be tied to the person); project memberships, comments and ratings deleted.
    A ballot of a poll still open is withdrawn (its voter can no longer be known, so it cannot be counted).
    The caller commits (account erasure does, with the person's other rows)."""
    for ballot in session.exec(select(LabBallot).where(LabBallot.user_id == user_id)).all():
        poll = session.get(LabPoll, ballot.poll_id)
        if poll is not None and poll.state != PollState.CLOSED:
            session.delete(ballot)
            continue
        ballot.salt = ballot.signature = ballot.voter = None
        ballot.user_id = None
        session.add(ballot)
    for model in (LabProjectMember, LabProjectComment, LabProjectRating):
        for row in session.exec(select(model).where(model.user_id == user_id)).all():  # type: ignore[attr-defined]
            session.delete(row)
    for project in session.exec(select(LabProject).where(LabProject.proposed_by == user_id)).all():
        project.proposed_by = None
        session.add(project)
    session.flush()
