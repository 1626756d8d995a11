"""`lec lake export | forget | vacuum`: the Delta Lake of the scale-out engine (docs/scale.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click
from sqlmodel import select

from lec.db.models import Community
from lec.settings import lake_uri
from oracle.pipeline import PeriodError
from oracle.sources import open_session
from oracle.spark import lake as delta_lake
from oracle.spark.session import SparkSetupError, spark_session

_MASTER_HELP = "Spark master (default LEC_SPARK_MASTER)."


def _day(_ctx: Any, _param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date of the form YYYY-MM-DD.") from exc


@click.group(name="lake")
def lake() -> None:
    """The Delta Lake (LEC_LAKE): readings, devices and members with pseudonymous ids, for the Spark engine."""


@lake.command(name="export")
@click.option("--community", "communities", type=int, multiple=True, help="On-chain id (default: every community).")
@click.option("--from", "start", callback=_day, default=None, help="First day (default: the first reading).")
@click.option("--to", "end", callback=_day, default=None, help="Last day (default: today).")
@click.option("--replace", is_flag=True, help="Write the days again even if they are already in the lake.")
@click.option("--master", default=None, help=_MASTER_HELP)
def export_command(
    communities: tuple[int, ...], start: date | None, end: date | None, replace: bool, master: str | None
) -> None:
    """Export the days not yet in the lake and the newest one again (incremental and idempotent)."""
    try:
        spark = spark_session(master)
        with open_session() as session:
            chosen = list(communities) or [
                int(c) for c in session.exec(select(Community.chain_community_id)).all() if c is not None
            ]
            delta_lake.export(spark, session, chosen, start, end, replace, say=click.echo)
    except (PeriodError, SparkSetupError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Lake: {lake_uri()}")


@lake.command(name="forget")
@click.option("--community", type=int, required=True)
@click.option("--member", required=True, help="The member's wallet address.")
@click.option("--master", default=None, help=_MASTER_HELP)
def forget_command(community: int, member: str, master: str | None) -> None:
    """Right to be forgotten: delete the member's readings, devices and membership from the lake's tables.
    Run `lec lake vacuum` afterwards to remove the files older table versions still keep."""
    try:
        devices = delta_lake.forget(spark_session(master), community, member)
    except (PeriodError, SparkSetupError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Deleted {member} and the readings of {len(devices)} device(s) from the lake's current tables.")


@lake.command(name="vacuum")
@click.option(
    "--retain-hours",
    type=click.FloatRange(min=0),
    default=168.0,
    show_default=True,
    help="Keep files younger than this; under 168 h Delta's safety check is turned off for the run.",
)
@click.option("--master", default=None, help=_MASTER_HELP)
def vacuum_command(retain_hours: float, master: str | None) -> None:
    """Remove the data files no current table version uses (after `forget`, the deleted rows' last copies)."""
    try:
        removed = delta_lake.vacuum(spark_session(master), retain_hours)
    except SparkSetupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(", ".join(f"{name}: {count} file(s) removed" for name, count in removed.items()) or "No table yet.")
