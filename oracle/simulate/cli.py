"""`lec oracle simulate`: fill the database with a synthetic community's readings."""

from __future__ import annotations

from datetime import date, datetime

import click

from lec.db.session import get_engine, init_db
from lec.settings import deployments_dir


def _date(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD.") from error


@click.command("simulate")
@click.option("--members", default=20, show_default=True, type=click.IntRange(min=1), help="Number of members.")
@click.option("--days", default=14, show_default=True, type=click.IntRange(min=1), help="Number of local days.")
@click.option("--start", required=True, callback=_date, help="First local day (Europe/Rome), YYYY-MM-DD.")
@click.option("--seed", default=0, show_default=True, help="Random seed: the same seed gives the same community.")
@click.option(
    "--community-id",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Community id (the Registry's id when the community is deployed).",
)
@click.option("--database-url", default=None, help="Database URL (default: DATABASE_URL, else SQLite in LEC_DATA_DIR).")
def simulate(members: int, days: int, start: date, seed: int, community_id: int, database_url: str | None) -> None:
    """Create a realistic synthetic community (households, shops, a school, PV, batteries) and its readings."""
    from oracle.simulate.community import simulate as run

    engine = init_db(get_engine(database_url))
    result = run(engine, members, days, start, seed=seed, community_id=community_id, deployments=deployments_dir())
    wallets = (
        f"{result.wallets_from_deployment} members use the demo's wallets"
        if result.wallets_from_deployment
        else "no deployment found: members have generated wallets"
    )
    click.echo(
        f"Community {result.community_id}: {result.members} members, {result.devices} devices, "
        f"{result.readings} readings stored ({result.duplicates} already there); {wallets}."
    )
