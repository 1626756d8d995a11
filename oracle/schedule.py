"""`lec oracle schedule`: run yesterday's period for every community once a day (publish and claim).

Each run is idempotent, so a scheduler restarted at any moment (or run twice) does no harm: a period
already notarised is verified against the chain and its paid claims are skipped.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import click

from lec.calendar import ROME
from oracle import period


def next_run(now: datetime, at_hour: int, at_minute: int) -> datetime:
    """The next local time ``at_hour:at_minute`` (Europe/Rome) strictly after ``now``."""
    local = now.astimezone(ROME)
    candidate = local.replace(hour=at_hour, minute=at_minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = (candidate + timedelta(days=1)).replace(hour=at_hour, minute=at_minute)
    return candidate


def run_all(day: date, model: str, rpc: str | None) -> list[int]:
    """Run ``day`` for every community; returns the ids that failed (the others are not held up)."""
    failed = []
    try:
        communities = period.community_ids(rpc)
    except period.ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    for community in communities:
        try:
            period.run_period(community, day, model, True, True, None, rpc, say=click.echo)
        except period.ERRORS as exc:
            click.echo(f"Community {community}, {day}: {exc}", err=True)
            failed.append(community)
    return failed


@click.command(name="schedule")
@click.option("--at", "at", default="01:30", show_default=True, help="Local time (Europe/Rome) of the daily run.")
@click.option("--model", default="lec-default", show_default=True)
@click.option("--once", is_flag=True, help="Run yesterday's period now and exit (for cron or systemd timers).")
@click.option("--rpc", default=None)
def schedule_command(at: str, model: str, once: bool, rpc: str | None) -> None:
    """Every day, run yesterday's period for every community with publish and claim."""
    try:
        hour, minute = (int(x) for x in at.split(":"))
        assert 0 <= hour < 24 and 0 <= minute < 60
    except (ValueError, AssertionError) as exc:
        raise click.BadParameter(f"--at {at!r} is not a time of the form HH:MM.") from exc
    while True:
        if not once:
            wake = next_run(datetime.now(ROME), hour, minute)
            click.echo(f"Next run at {wake.isoformat()}.")
            # In UTC: subtracting two datetimes of the same zone ignores a DST change between them.
            time.sleep(max(0.0, (wake.astimezone(UTC) - datetime.now(UTC)).total_seconds()))
        yesterday = datetime.now(ROME).date() - timedelta(days=1)
        failed = run_all(yesterday, model, rpc)
        if once:
            if failed:
                raise click.ClickException(f"The run of {yesterday} failed for communities {failed}.")
            return
