"""`lec lab`: the living lab's periodic jobs. `lec lab deliver` delivers the scheduled messages whose time has come
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
