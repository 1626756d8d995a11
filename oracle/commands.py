"""`lec oracle run | bundle | register-model | kpi | cluster`: the period commands."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import numpy as np

from lec.calendar import period_id
from oracle.pipeline import (
    ModelRef,
    PeriodError,
    compute_period,
    publish,
    submit_claims,
    write_json,
    write_period_files,
)
from oracle.rewards.models import KINDS, RewardModel, RewardModelError

DEFAULT_MODEL = "lec-default"


def _day(_ctx: Any, _param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date of the form YYYY-MM-DD.") from exc


def _client(rpc: str | None):
    from lec.chain.client import ChainClient, ChainError
    from lec.chain.contracts import DeploymentError

    try:
        return ChainClient.connect(rpc)
    except (ChainError, DeploymentError) as exc:
        raise click.ClickException(str(exc)) from exc


def _session():
    from sqlmodel import Session

    from lec.db.session import init_db

    return Session(init_db(), expire_on_commit=False)


def _model_ref(client: Any, name: str) -> ModelRef:
    model_id = client.latest_model_id(name)
    if not model_id:
        raise click.ClickException(
            f"No reward model named {name!r} is registered on chain: register one with "
            "`lec oracle register-model --name NAME --kind KIND --params JSON`."
        )
    record = client.model(model_id)
    try:
        return ModelRef(model_id, RewardModel.from_chain(record.name, record.kind, record.params))
    except RewardModelError as exc:
        raise click.ClickException(str(exc)) from exc


def run_period(
    community: int, day: date, model_name: str, publish_it: bool, claim: bool, correct: str | None, rpc: str | None
) -> dict[str, Any]:
    """The whole pipeline for one community and day; safe to repeat after a crash at any step."""
    from lec.chain.client import ChainError
    from oracle.proofs.store import ensure_salts
    from oracle.sources import load_inputs

    say = click.echo
    client = _client(rpc)
    model = _model_ref(client, model_name)
    with _session() as session:
        inputs = load_inputs(session, community, day)
        devices = [d.device_id for m in inputs.members for d in m.devices]
        say(f"Community {community}, period {period_id(day)}: {len(inputs.members)} members, {len(devices)} devices.")
        salts = ensure_salts(session, community, period_id(day), devices)
    result = compute_period(inputs, model, salts)
    folder = write_period_files(result, client.chain_id)
    say(f"Trees written to {folder}")
    notarisation = None
    try:
        if publish_it or claim:
            notarisation = publish(client, result, folder, correct, say)
        if claim:
            submit_claims(client, result, folder, say)
    except ChainError as exc:
        raise click.ClickException(str(exc)) from exc
    k = result.kpis
    say(
        f"Summary: load {k.load_kwh:.3f} kWh, production {k.production_kwh:.3f} kWh, self-consumption "
        f"{k.self_consumption_pct:.1f} %, shared {k.shared_energy_kwh:.3f} kWh, missing {k.missing_intervals}, "
        f"imputed {k.imputed_intervals}"
    )
    say(f"  model {model.model.name} #{model.model_id}, total rewards {result.total_rewards} units")
    say(f"  dataRoot {result.data_root} ({result.leaf_count} leaves)")
    say(f"  rewardsRoot {result.rewards_root}")
    say(f"  aggregatesHash {result.aggregates_hash}")
    if notarisation:
        say(f"  notarised: version {notarisation.get('version')}, tx {notarisation.get('txHash')}")
    return {"roots": result.onchain_fields(), "notarisation": notarisation}


@click.command(name="run")
@click.option("--community", type=int, required=True, help="Community id as in deployments/<chainId>.json.")
@click.option("--period", "day", required=True, callback=_day, help="Local day YYYY-MM-DD (Europe/Rome).")
@click.option("--model", "model_name", default=DEFAULT_MODEL, show_default=True, help="Registered model name.")
@click.option("--publish", "publish_it", is_flag=True, help="Notarise the period on chain.")
@click.option("--claim", is_flag=True, help="Submit every member's claim (implies --publish).")
@click.option("--correct", default=None, metavar="REASON", help="Publish a correction when the chain differs.")
@click.option("--rpc", default=None, help="JSON-RPC endpoint (default LEC_RPC_URL).")
def run_command(
    community: int, day: date, model_name: str, publish_it: bool, claim: bool, correct: str | None, rpc: str | None
) -> None:
    """Clean, compute KPIs and rewards, build the proofs and (optionally) publish and claim one period."""
    try:
        run_period(community, day, model_name, publish_it, claim, correct, rpc)
    except PeriodError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command(name="register-model")
@click.option("--name", required=True, help="Model name; a new registration is a new version of it.")
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--params", "params_json", required=True, help="Integer parameters as JSON, e.g. '{\"a\":1,...}'.")
@click.option("--rpc", default=None, help="JSON-RPC endpoint (default LEC_RPC_URL).")
def register_model_command(name: str, kind: str, params_json: str, rpc: str | None) -> None:
    """Register a reward model version on chain (nothing is sent when the latest version is identical)."""
    from lec.chain.client import ChainError

    try:
        model = RewardModel(name, kind, json.loads(params_json))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"--params is not JSON: {exc}.") from exc
    except RewardModelError as exc:
        raise click.ClickException(str(exc)) from exc
    client = _client(rpc)
    try:
        model_id, tx = client.register_model(name, kind, model.canonical_params)
    except ChainError as exc:
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
    from oracle.proofs.store import get_salts
    from oracle.sources import load_inputs
    from oracle.verify import make_bundle

    try:
        with _session() as session:
            inputs = load_inputs(session, community, day)
            salts = get_salts(session, community, period_id(day))
        bundle = make_bundle(inputs, account, salts)
    except PeriodError as exc:
        raise click.ClickException(str(exc)) from exc
    write_json(out, bundle)
    click.echo(
        f"Wrote {out} ({len(bundle['devices'])} device(s), reward {bundle['reward'] and bundle['reward']['amount']})."
    )


def _days(start: date, end: date) -> list[date]:
    if end < start:
        raise click.BadParameter("--to is before --from.")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _series(community: int, start: date, end: date, member: str | None):
    """Per member: grid timestamps, cleaned load and production (NaN missing), imputed count."""
    from lec.calendar import period_start, quarter_hours
    from oracle.pipeline import clean_inputs, member_energy
    from oracle.sources import community_row, load_inputs, member_devices

    rows: dict[str, dict[str, list]] = {}
    with _session() as session:
        community_db = community_row(session, community)
        users = {wallet: m.user_id for wallet, (m, _) in member_devices(session, community_db).items()}
        for day in _days(start, end):
            inputs = load_inputs(session, community, day)
            cleaned = clean_inputs(inputs)
            n = quarter_hours(day)
            grid = period_start(day) + 900 * np.arange(n)
            for m in inputs.members:
                if member and m.account.lower() != member.lower():
                    continue
                energy = member_energy(m, cleaned, n)
                missing = np.zeros(n, dtype=bool)
                for d in m.devices:
                    missing |= cleaned[d.device_id].missing
                entry = rows.setdefault(
                    m.account, {"ts": [], "load": [], "prod": [], "imputed": [0], "user": [users.get(m.account)]}
                )
                entry["ts"].append(grid)
                entry["load"].append(np.where(missing, np.nan, energy.load.astype(float)))
                entry["prod"].append(np.where(missing, np.nan, energy.production.astype(float)))
                entry["imputed"][0] += int(sum(int(cleaned[d.device_id].imputed.sum()) for d in m.devices))
    if not rows:
        raise click.ClickException("No member with readings matches: check --community, --member and the dates.")
    return int(community_db.id), rows  # type: ignore[arg-type]


@click.command(name="kpi")
@click.option("--community", type=int, required=True)
@click.option("--from", "start", required=True, callback=_day)
@click.option("--to", "end", required=True, callback=_day)
@click.option("--member", default=None, help="One member's wallet (default: the whole community).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def kpi_command(community: int, start: date, end: date, member: str | None, as_json: bool) -> None:
    """KPIs of a member or the community over a run of days."""
    from oracle.derived import save_kpi_series
    from oracle.kpi import compute_kpis

    community_db, rows = _series(community, start, end, member)
    first = next(iter(rows.values()))
    ts = np.concatenate(first["ts"])
    load = np.vstack([np.concatenate(r["load"]) for r in rows.values()])
    prod = np.vstack([np.concatenate(r["prod"]) for r in rows.values()])
    imputed = sum(r["imputed"][0] for r in rows.values())
    kpis = compute_kpis(ts, load, prod, imputed_intervals=imputed).as_dict()
    # Daily/hourly load and the mean daily curve go to the derived-series tables for the dashboards.
    label = f"member {member.lower()}" if member else "community"
    user_ids = [r["user"][0] for r in rows.values() if r["user"][0] is not None] if member else []
    with _session() as session:
        save_kpi_series(session, community_db, label, ts, np.nansum(load, axis=0), user_ids)
        session.commit()
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
def cluster_command(community: int, start: date, end: date, k: int, metric: str, as_json: bool) -> None:
    """Cluster the members' mean daily load curves."""
    from oracle.cluster import cluster_curves
    from oracle.derived import save_clustering
    from oracle.kpi import mean_daily_curve

    community_db, rows = _series(community, start, end, None)
    accounts = sorted(rows)
    curves = np.vstack(
        [mean_daily_curve(np.concatenate(rows[a]["ts"]), np.concatenate(rows[a]["load"])) for a in accounts]
    )
    try:
        result = cluster_curves(curves, min(k, len(accounts)), metric)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    parameters = {"metric": metric, "k": int(len(result.sizes)), "from": start.isoformat(), "to": end.isoformat()}
    with _session() as session:
        group = save_clustering(
            session,
            community_db,
            f"load {start.isoformat()}",
            result,
            [rows[a]["user"][0] for a in accounts],
            parameters,
        )
        session.commit()
        group_id = group.id
    out: dict[str, Any] = {
        "group": group_id,
        "metric": metric,
        "k": int(len(result.sizes)),
        "assignments": {a: int(label) for a, label in zip(accounts, result.labels, strict=True)},
        "clusters": [
            {
                "size": int(result.sizes[j]),
                "cv": float(result.cv[j]),
                "mean_wh": [float(x) for x in result.mean_curves[j]],
            }
            for j in range(len(result.sizes))
        ],
    }
    if as_json:
        click.echo(json.dumps(out))
    else:
        for j, c in enumerate(out["clusters"]):
            click.echo(
                f"cluster {j}: {c['size']} members, CV {c['cv']:.3f}, mean {sum(c['mean_wh']) / 1000:.2f} kWh/day"
            )
