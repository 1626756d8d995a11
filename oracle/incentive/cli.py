"""`lec oracle incentive`: the community's GSE incentive and its split over a run of days (option parsing only)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import click

from oracle.commands import _day, _span
from oracle.incentive.prices import parse_prices
from oracle.incentive.rules import ALLOCATIONS, KEYS, IncentiveError
from oracle.incentive.service import as_json, community_incentive
from oracle.pipeline import PeriodError
from oracle.sources import open_session


def members_csv(report: dict) -> str:
    """Per member: account, substation, shared energy as producer and consumer, euros (the dApp's export too)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["account", "substation", "shared_as_producer_kwh", "shared_as_consumer_kwh", "eur", "social_eur"])
    for m in report["members"]:
        writer.writerow(
            [
                m["account"],
                m["substation"],
                m["shared_as_producer_kwh"],
                m["shared_as_consumer_kwh"],
                f"{m['eur']:.2f}",
                f"{m['social_eur']:.2f}",
            ]
        )
    return out.getvalue()


@click.command(name="incentive")
@click.option("--community", type=int, required=True, help="Community id as in deployments/<chainId>.json.")
@click.option("--from", "start", required=True, callback=_day, help="First local day YYYY-MM-DD.")
@click.option("--to", "end", required=True, callback=_day, help="Last local day YYYY-MM-DD (included).")
@click.option(
    "--prices",
    "prices_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV datetime,zone,pzo_eur_mwh of GME's hourly zonal prices.",
)
@click.option("--key", type=click.Choice(KEYS), default=None, help="Split key (default: the community's statute).")
@click.option("--allocation", type=click.Choice(ALLOCATIONS), default=None, help="Shared energy to plants.")
@click.option("--json", "as_json_flag", is_flag=True, help="Print one JSON object.")
def incentive_command(
    community: int,
    start: date,
    end: date,
    prices_file: Path | None,
    key: str | None,
    allocation: str | None,
    as_json_flag: bool,
) -> None:
    """The GSE incentive (TIP + valorisation) of a community and its split among members, in euros."""
    _span(start, end)
    try:
        prices = parse_prices(prices_file.read_text(encoding="utf-8")) if prices_file else None
        with open_session() as session:
            result = community_incentive(session, community, start, end, prices, key, allocation)
    except (IncentiveError, PeriodError) as exc:
        raise click.ClickException(str(exc)) from exc
    report = as_json(result, community, start, end)
    if as_json_flag:
        click.echo(json.dumps(report))
        return
    click.echo(f"Community {community}, {start} … {end}: shared {report['shared_kwh']:.3f} kWh")
    click.echo(
        f"  TIP {report['tip_eur']:.2f} €, valorisation {report['valorisation_eur']:.2f} €, "
        f"total {report['total_eur']:.2f} €"
    )
    click.echo(f"  above the threshold, to non-business consumers: {report['social_eur']:.2f} €")
    for p in report["plants"]:
        click.echo(f"  plant {p['id']:<20} {p['shared_kwh']:>12.3f} kWh {p['tip_eur']:>10.2f} €")
    for m in report["members"]:
        click.echo(f"  member {m['account']} {m['eur']:>10.2f} €")
    for note in report["approximations"]:
        click.echo(f"  note: {note}")
