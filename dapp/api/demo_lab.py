"""The living lab's part of `make demo` (`lec demo-lab`): a neighbourhood project with participants, a closed poll
with its tally notarised on the demo chain, a newsletter and a project message in the members' inboxes (one already
read) and a newsletter scheduled for the first day of next month, feedback with its sentiment, outside voices read
from a feed file shipped with the demo (`demo_data/lab_press.rss`, no network), and this month's objectives:
self-sufficiency for the community and a target curve for its largest consumption group. It goes through the API's
use cases (the same rules, snapshot, EIP-712 ballots signed with the demo members' anvil keys, Merkle tree and
`notarisePoll`), not around them.

Idempotent: each step looks for what it made before (the project and poll by their text, the messages by
subject, the feedback by text, the feed by its address, the objectives by month and group) and does only what is
missing, so a second `make demo` changes nothing; a poll left open by an interrupted run is finished (its close
does not notarise twice). The demo only: it refuses a chain that is not on this machine, because it signs with
anvil's public test keys.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

DEMO_CHAIN_COMMUNITY_ID = 1
PROJECT = {
    "title": "Lavatrici nelle ore di sole",
    "description": "Spostiamo lavatrici e lavastoviglie nelle ore in cui i pannelli del quartiere producono di più: "
    "un calendario condiviso e un promemoria nel gruppo.",
    "kind": "co-design",
    "capacity": 20,
    "expected_benefits": "Più energia condivisa nelle ore centrali, bollette più leggere.",
}
PARTICIPANTS = (1, 2, 3, 4)  # anvil accounts of the demo members who join
POLL_QUESTION = "Dove installiamo la colonnina di ricarica della comunità?"
POLL_OPTIONS = ("Piazza del mercato", "Parcheggio della scuola", "Vicino alla biblioteca")
BALLOTS = {1: 0, 2: 2, 3: 0, 4: 1, 5: 0, 6: 2}  # anvil account → choice
NEWSLETTER = (
    "Newsletter della comunità: il primo mese",
    "Il primo mese della comunità è chiuso: l'energia condivisa e i premi di ogni giorno sono registrati sulla "
    "blockchain.\nNella pagina Votazioni trovate il risultato sulla colonnina di ricarica, verificabile da tutti.",
)
PROJECT_MESSAGE = (
    "Calendario delle lavatrici",
    "Da lunedì il calendario condiviso è attivo: segnate i vostri turni tra le 11 e le 15.",
)
SCHEDULED = (
    "Newsletter di inizio mese",
    "Un nuovo mese comincia: nella pagina Voce della comunità trovate gli obiettivi del mese e quanto manca.",
)
FEED_FILE = Path(__file__).parent / "demo_data" / "lab_press.rss"
FEED_URL = "https://www.example.org/cronaca/rss"  # the address the demo's feed stands for (read from FEED_FILE)
FEED_KEYWORDS = ["Demo LEC", "comunità energetica", "Lavatrici nelle ore di sole"]
SELF_SUFFICIENCY_PCT = 30.0
SUN_HOURS_PCT = 40.0  # the largest group's target: 40 % of its day between 10:00 and 16:00
FEEDBACK = (
    (1, "Il calendario delle lavatrici è un'ottima idea, grazie!", 5, True),
    (2, "Utile, ma l'app è un po' lenta la sera.", 4, True),
    (3, "Non è chiaro come vengono calcolati i premi.", 2, False),
    (4, "Bellissima assemblea, molto chiara.", 5, False),
    (5, "La bolletta non è cambiata, sono deluso.", 2, False),
    (6, "Great idea, very helpful neighbours.", 4, False),
)


def _anvil_key(index: int) -> Any:
    from eth_account import Account

    from oracle.simulate.community import ANVIL_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def seed_lab(database_url: str | None = None) -> dict[str, int]:
    """Seeds the demo's living lab; returns what it added in this run (all zeros on a second run)."""
    from pydantic import SecretStr
    from sqlmodel import Session, col, select

    from dapp.api.deps import CommunityAccess
    from dapp.api.security import Principal
    from dapp.api.services import lab, lab_objectives, lab_voice
    from lec.calendar import ROME
    from lec.db.models import (
        Cluster,
        ClusterGroup,
        Community,
        LabClusterObjective,
        LabFeed,
        LabFeedback,
        LabMessage,
        LabObjective,
        LabPoll,
        LabProject,
        Role,
        User,
        UserCommunity,
        UserRole,
    )
    from lec.db.session import get_engine, init_db
    from lec.db.types import utcnow
    from lec.lab.objectives import curve_with_pv_share
    from lec.lab.polls import PollState
    from lec.lab.projects import K_ANONYMITY, ProjectState
    from lec.settings import get_settings, is_loopback

    settings = get_settings()
    host = urlsplit(settings.rpc_url).hostname or ""
    if not is_loopback(host):
        raise click.ClickException("The living lab's demo signs with anvil's test keys: it runs on a local chain only.")
    settings = settings.model_copy(update={"community_admin_private_key": SecretStr(_anvil_key(0).key.hex())})
    added = {"project": 0, "participants": 0, "poll": 0, "ballots": 0, "messages": 0, "read": 0, "feedback": 0}
    added |= {"scheduled newsletter": 0, "feed": 0, "outside voices": 0, "objectives": 0}
    engine = init_db(get_engine(database_url))
    with Session(engine) as session:
        community = session.exec(
            select(Community).where(Community.chain_community_id == DEMO_CHAIN_COMMUNITY_ID)
        ).first()
        if community is None or community.id is None:
            raise click.ClickException("The demo community is not in the database yet: run `make demo-oracle` first.")
        admin_user = session.exec(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)  # type: ignore[arg-type]
            .join(Role, Role.id == UserRole.role_id)  # type: ignore[arg-type]
            .where(UserRole.community_id == community.id, Role.name == "community-admin")
        ).first()
        members = {
            i: session.exec(
                select(UserCommunity).where(
                    UserCommunity.community_id == community.id, UserCommunity.wallet == _anvil_key(i).address
                )
            ).first()
            for i in sorted(set(PARTICIPANTS) | set(BALLOTS) | {f[0] for f in FEEDBACK})
        }

        def access(index: int | None) -> CommunityAccess:
            if index is None:  # the community admin
                principal = Principal("demo-admin", "demo-admin", frozenset({"community-admin"}), "lec-demo")
                return CommunityAccess(community, principal, admin_user, None, frozenset({"community-admin"}))
            row = members[index]
            if row is None:
                raise click.ClickException(f"The demo member with anvil account {index} is not in the community.")
            user = session.get(User, row.user_id)
            principal = Principal(f"demo-{index}", f"demo-{index}", frozenset({"token-holder"}), "lec-demo")
            return CommunityAccess(community, principal, user, row, frozenset({"token-holder"}))

        admin = access(None)
        # The project, its participants, active.
        project = session.exec(
            select(LabProject).where(LabProject.community_id == community.id, LabProject.title == PROJECT["title"])
        ).first()
        if project is None:
            project = lab.create_project(session, admin, dict(PROJECT))
            added["project"] = 1
        for index in PARTICIPANTS:
            who = access(index)
            assert who.user is not None
            if not lab.is_participant(session, project, who.user.id):
                lab.join(session, who, project)
                added["participants"] += 1
        if project.state == ProjectState.OPEN:
            lab.decide(session, project, ProjectState.ACTIVE, None, None)

        # The poll: voted yesterday, closed, its tally notarised.
        poll = session.exec(
            select(LabPoll).where(LabPoll.community_id == community.id, LabPoll.question == POLL_QUESTION)
        ).first()
        now = utcnow()
        if poll is None:
            poll = lab.create_poll(
                session, admin, POLL_QUESTION, POLL_OPTIONS, now - timedelta(days=2), now - timedelta(minutes=1)
            )
            added["poll"] = 1
        if poll.state == PollState.DRAFT:
            lab.open_poll(session, settings, admin, poll)
        if poll.state == PollState.OPEN:
            voted_at = poll.starts_at + timedelta(hours=1)
            for index, choice in BALLOTS.items():
                who = access(index)
                wallet = who.member.wallet if who.member else None
                if lab.my_ballot(session, poll, wallet) is not None:
                    continue
                typed = lab.ballot_request(who, poll, choice, voted_at)
                signed = _anvil_key(index).sign_typed_data(full_message=typed)
                nonce = typed["message"]["nonce"]
                lab.submit_ballot(session, who, poll, choice, nonce, "0x" + bytes(signed.signature).hex(), voted_at)
                added["ballots"] += 1
        if poll.state != PollState.CLOSED or poll.tx_hash is None:
            lab.close_poll(session, settings, admin, poll, max(utcnow(), poll.ends_at))

        # Messages: a newsletter to everyone, a message to the project's participants; the first member reads both.
        for (subject, body), kind, project_id in (
            (NEWSLETTER, "newsletter", None),
            (PROJECT_MESSAGE, "message", project.id),
        ):
            message = session.exec(
                select(LabMessage).where(LabMessage.community_id == community.id, LabMessage.subject == subject)
            ).first()
            if message is None:
                message = lab_voice.send_message(session, admin, subject, body, kind, project_id)
                added["messages"] += 1
                assert message.id is not None
                lab_voice.mark_read(session, access(1), message.id)
                added["read"] += 1

        # Feedback, scored for sentiment.
        for index, text, stars, on_project in FEEDBACK:
            exists = session.exec(
                select(LabFeedback).where(LabFeedback.community_id == community.id, LabFeedback.text == text)
            ).first()
            if exists is None:
                lab_voice.give_feedback(session, access(index), text, stars, project.id if on_project else None)
                added["feedback"] += 1
        # A newsletter scheduled for the first day of next month, 9:00 Italian time (delivered then, not now).
        if not session.exec(
            select(LabMessage).where(LabMessage.community_id == community.id, LabMessage.subject == SCHEDULED[0])
        ).first():
            today = lab_objectives.today()
            first = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
            send_at = datetime.combine(first, time(9), tzinfo=ROME)
            lab_voice.send_message(session, admin, SCHEDULED[0], SCHEDULED[1], "newsletter", None, send_at=send_at)
            added["scheduled newsletter"] = 1

        # Outside voices: the feed the demo follows, read from the file shipped with it (no network).
        feed = session.exec(
            select(LabFeed).where(LabFeed.community_id == community.id, LabFeed.url == FEED_URL)
        ).first()
        if feed is None:
            feed = lab_voice.add_feed(session, admin, FEED_URL, FEED_KEYWORDS)
            added["feed"] = 1
        if feed.fetched_at is None:
            added["outside voices"] = lab_voice.fetch_feed(session, feed, settings, content=FEED_FILE.read_bytes())

        # This month's objectives: the community's self-sufficiency, the largest consumption group's day.
        month = lab_objectives.today().strftime("%Y-%m")
        if not session.exec(
            select(LabObjective).where(LabObjective.community_id == community.id, LabObjective.month == month)
        ).first():
            lab_objectives.set_objective(session, admin, month, SELF_SUFFICIENCY_PCT)
            added["objectives"] += 1
        group = session.exec(
            select(ClusterGroup)
            .where(ClusterGroup.community_id == community.id)
            .order_by(col(ClusterGroup.last_update).desc(), col(ClusterGroup.id).desc())
        ).first()
        clusters = session.exec(select(Cluster).where(Cluster.group_id == group.id)).all() if group else []
        sizes = {c.id: len(lab_objectives.cluster_members(session, c)) for c in clusters}
        largest = max(clusters, key=lambda c: sizes[c.id], default=None)
        if (
            largest is not None
            and largest.id is not None
            and sizes[largest.id] >= K_ANONYMITY
            and not session.exec(
                select(LabClusterObjective).where(
                    LabClusterObjective.cluster_id == largest.id, LabClusterObjective.month == month
                )
            ).first()
        ):
            curve = curve_with_pv_share(_group_day(session, group, largest), SUN_HOURS_PCT)
            lab_objectives.set_cluster_objective(session, admin, largest.id, month, curve)
            added["objectives"] += 1
    return added


def _group_day(session: Any, group: Any, cluster: Any) -> list[float] | None:
    """The group's mean day from its clustering (24 shares), the shape the target keeps."""
    from sqlmodel import col, select

    from lec.db.enums import SeriesType
    from lec.db.models import ClusterDerivedTimeSeries, DerivedTimeSeries, DerivedTimeSeriesData
    from lec.lab.objectives import hourly_shares

    values = session.exec(
        select(DerivedTimeSeriesData.y_value)
        .join(DerivedTimeSeries, DerivedTimeSeries.id == DerivedTimeSeriesData.series_id)
        .join(ClusterDerivedTimeSeries, ClusterDerivedTimeSeries.series_id == DerivedTimeSeries.id)
        .where(
            ClusterDerivedTimeSeries.cluster_id == cluster.id,
            DerivedTimeSeries.series_type == SeriesType.CLUSTER_MEAN_CURVE,
        )
        .order_by(col(DerivedTimeSeriesData.x_value))
    ).all()
    return hourly_shares([float(v) for v in values]) if values and len(values) % 24 == 0 else None


@click.command("demo-lab")
def demo_lab() -> None:
    """The demo's living lab: a project with participants, a closed and notarised poll, messages (one scheduled),
    feedback, outside voices from a shipped feed file, this month's objectives."""
    added = seed_lab()
    if not any(added.values()):
        click.echo("Living lab demo already up to date: nothing changed.")
        return
    click.echo(
        "Living lab demo: "
        + ", ".join(f"{n} {what}" for what, n in added.items() if n)
        + " added (the poll closed and its tally notarised)."
    )
