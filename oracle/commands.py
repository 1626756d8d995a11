"""`lec oracle run | bundle | register-model | kpi | cluster`: option parsing over the oracle's services.

Each command calls one service function (``oracle.period``, ``oracle.audit.bundle``, ``oracle.series``) and
turns its domain errors into click's, so the sentence the service wrote is what the user reads.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from oracle import period, series
from oracle.audit.bundle import member_bundle
from oracle.pipeline import PeriodError, write_json
from oracle.rewards.models import KINDS
from oracle.sources import open_session

DEFAULT_MODEL = "lec-default"


def _day(_ctx: Any, _param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date of the form YYYY-MM-DD.") from exc


def _span(start: date, end: date) -> None:
    if end < start:
        raise click.BadParameter("--to is before --from.")


def engine_options(command: Any) -> Any:
    """``--engine local|spark`` and ``--master``: where the computation runs (docs/scale.md)."""
    command = click.option(
        "--master",
        default=None,
        help="Spark master for --engine spark (default LEC_SPARK_MASTER, e.g. local[*] or spark://host:7077).",
    )(command)
    return click.option(
        "--engine",
        type=click.Choice(period.ENGINES),
        default="local",
        show_default=True,
        help="local: pandas in this process; spark: the same results computed on Spark.",
    )(command)


@click.command(name="run")
@click.option(
    "--community",
    "communities",
    type=int,
    required=True,
    multiple=True,
    help="Community id as in deployments/<chainId>.json; repeat it to settle several in one run.",
)
@click.option("--period", "day", required=True, callback=_day, help="Local day YYYY-MM-DD (Europe/Rome).")
@click.option("--model", "model_name", default=DEFAULT_MODEL, show_default=True, help="Registered model name.")
@click.option("--publish", "publish_it", is_flag=True, help="Notarise the period on chain.")
@click.option("--claim", is_flag=True, help="Submit every member's claim (implies --publish).")
@click.option("--correct", default=None, metavar="REASON", help="Publish a correction when the chain differs.")
@click.option("--rpc", default=None, help="JSON-RPC endpoint (default LEC_RPC_URL).")
@engine_options
def run_command(
    communities: tuple[int, ...],
    day: date,
    model_name: str,
    publish_it: bool,
    claim: bool,
    correct: str | None,
    rpc: str | None,
    engine: period.Engine,
    master: str | None,
) -> None:
    """Clean, compute KPIs and rewards, build the proofs and (optionally) publish and claim one period."""
    try:
        unique = list(dict.fromkeys(communities))
        period.run_periods(unique, day, model_name, publish_it, claim, correct, rpc, click.echo, engine, master)
    except period.ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


@click.command(name="register-model")
@click.option("--name", required=True, help="Model name; a new registration is a new version of it.")
@click.option("--kind", type=click.Choice([*KINDS, "flexibility"]), required=True)
@click.option("--params", "params_json", required=True, help="Integer parameters as JSON, e.g. '{\"a\":1,...}'.")
@click.option("--rpc", default=None, help="JSON-RPC endpoint (default LEC_RPC_URL).")
def register_model_command(name: str, kind: str, params_json: str, rpc: str | None) -> None:
    """Register a reward model version on chain (nothing is sent when the latest version is identical)."""
    try:
        model_id, tx = period.register_model(name, kind, params_json, rpc)
    except period.ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    state = f"registered in tx {tx.tx_hash}" if tx else "already registered with these parameters"
    click.echo(f"Model {name} ({kind}) is id {model_id}: {state}.")


@click.command(name="bundle")
@click.option("--community", type=int, required=True)
@click.option("--period", "day", required=True, callback=_day)
@click.option("--member", "account", required=True, help="The member's wallet address.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def bundle_command(community: int, day: date, account: str, out: Path) -> None:
    """Write a member's proof bundle for a period (readings, salt, aggregates, proofs, model, transaction)."""
    try:
        with open_session() as session:
            bundle = member_bundle(session, community, day, account)
    except PeriodError as exc:
        raise click.ClickException(str(exc)) from exc
    write_json(out, bundle)
    click.echo(
        f"Wrote {out} ({len(bundle['devices'])} device(s), reward {bundle['reward'] and bundle['reward']['amount']})."
    )


@click.command(name="kpi")
@click.option("--community", type=int, required=True)
@click.option("--from", "start", required=True, callback=_day)
@click.option("--to", "end", required=True, callback=_day)
@click.option("--member", default=None, help="One member's wallet (default: the whole community).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@engine_options
def kpi_command(
    community: int,
    start: date,
    end: date,
    member: str | None,
    as_json: bool,
    engine: period.Engine,
    master: str | None,
) -> None:
    """KPIs of a member or the community over a run of days."""
    _span(start, end)
    try:
        kpis = series.kpi_report(community, start, end, member, engine, master)
    except period.ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(kpis))
    else:
        for key, value in kpis.items():
            click.echo(f"{key:<22} {value:.3f}" if isinstance(value, float) else f"{key:<22} {value}")


@click.command(name="cluster")
@click.option("--community", type=int, required=True)
@click.option("--from", "start", required=True, callback=_day)
@click.option("--to", "end", required=True, callback=_day)
@click.option("-k", "--clusters", "k", type=int, default=3, show_default=True)
@click.option("--metric", type=click.Choice(["euclidean", "l1"]), default="euclidean", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@engine_options
def cluster_command(
    community: int,
    start: date,
    end: date,
    k: int,
    metric: str,
    as_json: bool,
    engine: period.Engine,
    master: str | None,
) -> None:
    """Cluster the members' mean daily load curves."""
    _span(start, end)
    try:
        out = series.cluster_report(community, start, end, k, metric, engine, master)  # type: ignore[arg-type]
    except (*period.ERRORS, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(out))
    else:
        for j, c in enumerate(out["clusters"]):
            click.echo(
                f"cluster {j}: {c['size']} members, CV {c['cv']:.3f}, mean {sum(c['mean_wh']) / 1000:.2f} kWh/day"
            )
