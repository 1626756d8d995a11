"""`lec lab`: the living lab's periodic jobs. `lec lab feeds` reads the followed RSS/Atom feeds (external voices);
`lec lab deliver` delivers the scheduled messages whose time has come
(inboxes, then e-mail copies), exactly once even if it runs twice at the same time or races an inbox read; run it
from cron (every few minutes) or the demo. docs/living-lab.md."""

from __future__ import annotations

import click


@click.group("lab")
def lab() -> None:
    """The living lab's periodic jobs."""


@click.command("deliver")
@click.option("--database-url", default=None, help="Defaults to DATABASE_URL, then data/lec.db.")
def deliver(database_url: str | None) -> None:
    """Deliver the scheduled messages and newsletters whose time has come."""
    from sqlmodel import Session

    from dapp.api.services import lab_voice
    from lec.db.session import get_engine, init_db
    from lec.settings import get_settings

    engine = init_db(get_engine(database_url))
    with Session(engine) as session:
        done = lab_voice.deliver_due(session, get_settings())
        for message in done:
            click.echo(f"Delivered message {message.id} ({message.subject!r}) to {message.recipients} inboxes.")
    if not done:
        click.echo("No scheduled message is due.")


lab.add_command(deliver)


@click.command("feeds")
@click.option("--database-url", default=None, help="Defaults to DATABASE_URL, then data/lec.db.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="Read this RSS/Atom file instead.")
@click.option("--community", "community_id", type=int, help="With --file: the community (its database id).")
@click.option("--keywords", default="", help="With --file: comma-separated keywords an entry must mention.")
def feeds_command(database_url: str | None, path: str | None, community_id: int | None, keywords: str) -> None:
    """Read the feeds every community follows (or one file) and keep the entries that mention their keywords."""
    from pathlib import Path

    from sqlmodel import Session

    from dapp.api.services import lab_voice
    from lec.db.models import Community
    from lec.db.session import get_engine, init_db
    from lec.lab import feeds
    from lec.settings import get_settings

    engine = init_db(get_engine(database_url))
    with Session(engine) as session:
        if path is not None:
            if community_id is None or session.get(Community, community_id) is None or not keywords.strip():
                raise click.UsageError("--file needs --community (an existing community id) and --keywords.")
            try:
                posts = feeds.parse(Path(path).read_bytes(), source=Path(path).name)
            except feeds.FeedError as exc:
                raise click.ClickException(str(exc)) from exc
            added = lab_voice.store_voices(session, community_id, posts, keywords.split(","))
            click.echo(f"{Path(path).name}: {len(posts)} entries, {added} new voices kept.")
            return
        results = lab_voice.fetch_all(session, get_settings())
    for feed_id, result in results.items():
        click.echo(f"Feed {feed_id}: {result} new voices kept." if isinstance(result, int) else str(result))
    if not results:
        click.echo("No community follows a feed yet.")


lab.add_command(feeds_command)
