"""The period service: register a reward model, run communities' periods, list the communities to run.

No command line here: progress goes to a ``say`` callback and every refusal is a domain error carrying a
sentence — ``PeriodError``, ``RewardModelError``, the chain's ``ChainError`` or ``DeploymentError`` (all in
``ERRORS``). `lec oracle run`, `lec oracle register-model` and the daily schedule are thin callers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from lec.calendar import period_id
from lec.chain.client import ChainClient, ChainError, TxResult
from lec.chain.contracts import DeploymentError
from lec.settings import get_settings
from oracle.flex.rewards import KIND as FLEX_KIND
from oracle.flex.rewards import FlexibilityModel, FlexibilityModelError
from oracle.gaps import record_silences
from oracle.pipeline import (
    ModelRef,
    PeriodError,
    PeriodResult,
    Progress,
    compute_period,
    publish,
    submit_claims,
    write_period_files,
)
from oracle.proofs.store import ensure_salts
from oracle.readmodel import refresh
from oracle.rewards.models import RewardModel, RewardModelError, validate_model
from oracle.sources import community_row, load_inputs, open_session
from oracle.spark.session import SparkSetupError

if TYPE_CHECKING:
    from oracle.flex.settlement import FlexModelRef

# What a period run or a registration refuses with: each carries the sentence to show.
ERRORS = (PeriodError, RewardModelError, FlexibilityModelError, ChainError, DeploymentError, SparkSetupError)
# The local engine (pandas/numpy in this process, the default) or Spark (docs/scale.md): the same files and roots.
Engine = Literal["local", "spark"]
ENGINES = ("local", "spark")


def _quiet(_message: str) -> None:
    """The default ``say``: a caller that wants no progress lines."""


def model_ref(client: ChainClient, name: str) -> ModelRef:
    """The latest registered version of the model ``name``, checked as `lec oracle run` will use it."""
    model_id = client.latest_model_id(name)
    if not model_id:
        raise PeriodError(
            f"No reward model named {name!r} is registered on chain: register one with "
            "`lec oracle register-model --name NAME --kind KIND --params JSON`."
        )
    record = client.model(model_id)
    return ModelRef(model_id, RewardModel.from_chain(record.name, record.kind, record.params))


def register_model(
    name: str, kind: str, params: str | Mapping[str, Any], rpc: str | None
) -> tuple[int, TxResult | None]:
    """Validate the model, then register it on chain; (model id, transaction or None when the latest version
    already has these parameters). Nothing is sent for a model that fails validation."""
    if kind == FLEX_KIND:
        from oracle.flex.settlement import flex_model

        name, canonical = flex_model(name, params)
        return ChainClient.connect(rpc).register_model(name, kind, canonical)
    model = validate_model(name, kind, params)
    return ChainClient.connect(rpc).register_model(model.name, model.kind, model.canonical_params)


def flex_model_ref(client: ChainClient) -> FlexModelRef | None:
    """The latest registered flexibility model (its name is `LEC_FLEX_MODEL`), or None when there is none: a day's
    events are then not rewarded."""
    from oracle.flex.settlement import FlexModelRef, flex_model

    model_id = client.latest_model_id(get_settings().flex_model_name)
    if not model_id:
        return None
    record = client.model(model_id)
    if record.kind != FLEX_KIND:
        raise PeriodError(f"Model {record.name!r} is a {record.kind} model, not a flexibility model.")
    name, canonical = flex_model(record.name, record.params)
    return FlexModelRef(model_id, FlexibilityModel(name, json.loads(canonical)), canonical)


def compute_results(
    chain_community_ids: list[int],
    day: date,
    model: ModelRef,
    engine: Engine,
    master: str | None,
    say: Progress,
    flex: FlexModelRef | None = None,
) -> Iterator[PeriodResult]:
    """Each community's period, salts committed first. The local engine computes one community at a time;
    Spark settles them all in one job (its session on ``master``, default ``LEC_SPARK_MASTER``)."""
    if engine == "spark":
        from oracle.spark.engine import compute_periods
        from oracle.spark.session import spark_session

        spark = spark_session(master)
        with open_session() as session:
            # The day's demand-response events: small (per event and member), settled on the driver by the local
            # engine's own code, their salts committed before any leaf is computed.
            settled = (
                {c: _flex_day(session, c, day, flex, say) for c in chain_community_ids} if flex is not None else None
            )
            results = compute_periods(spark, session, chain_community_ids, day, model, say, flex=settled)
        yield from (results[c] for c in chain_community_ids)
        return
    for chain_community_id in chain_community_ids:
        with open_session() as session:
            inputs = load_inputs(session, chain_community_id, day)
            devices = [d.device_id for m in inputs.members for d in m.devices]
            say(
                f"Community {chain_community_id}, period {period_id(day)}: "
                f"{len(inputs.members)} members, {len(devices)} devices."
            )
            salts = ensure_salts(session, chain_community_id, period_id(day), devices)
            settled = _flex_day(session, chain_community_id, day, flex, say) if flex is not None else None
        yield compute_period(inputs, model, salts, settled)


def _flex_day(session: Any, chain_community_id: int, day: date, flex: FlexModelRef, say: Progress) -> Any:
    """The day's flexibility settlement (None without events), said in one line."""
    from lec.flex.baseline import PJM
    from oracle.flex.service import settle_day

    community_id = int(community_row(session, chain_community_id).id or 0)
    settled = settle_day(session, chain_community_id, community_id, day, flex, PJM)
    if settled is not None:
        say(
            f"Flexibility: {len(settled.events)} event(s), {settled.event_leaves} measured delivery(ies), "
            f"rewards {settled.total} units (model {flex.model.name} #{flex.model_id})."
        )
    return settled


def run_period(
    chain_community_id: int,
    day: date,
    model_name: str,
    publish_it: bool,
    claim: bool,
    correct: str | None,
    rpc: str | None,
    say: Progress = _quiet,
    engine: Engine = "local",
    master: str | None = None,
) -> dict[str, Any]:
    """The whole pipeline for one community (its on-chain id) and day; safe to repeat after a crash at any
    step. ``--claim`` implies publishing. Returns the committed roots and the notarisation."""
    return run_periods([chain_community_id], day, model_name, publish_it, claim, correct, rpc, say, engine, master)[
        chain_community_id
    ]


def run_periods(
    chain_community_ids: list[int],
    day: date,
    model_name: str,
    publish_it: bool,
    claim: bool,
    correct: str | None,
    rpc: str | None,
    say: Progress = _quiet,
    engine: Engine = "local",
    master: str | None = None,
) -> dict[int, dict[str, Any]]:
    """:func:`run_period` for several communities on the same day: with Spark one job computes them all; each
    community's files are written and its period notarised by its own transaction, as when run alone."""
    client = ChainClient.connect(rpc)
    model = model_ref(client, model_name)
    flex = flex_model_ref(client)
    out = {}
    for result in compute_results(chain_community_ids, day, model, engine, master, say, flex):
        _record_day(result, day, say)
        out[result.chain_community_id] = _finish(client, result, publish_it, claim, correct, say)
    return out


def _record_day(result: PeriodResult, day: date, say: Progress) -> None:
    """The database side of a computed day: its silent devices and gaps as anomalies for review (both engines
    bring back the days with a gap) and the dashboards' read model, refreshed to show the day as the period run
    saw it."""
    with open_session() as session:
        community_id = int(community_row(session, result.chain_community_id).id or 0)
        silences = record_silences(session, community_id, day, result.cleaned)
        refresh(session, community_id, [day])
    if silences:
        say(f"{silences} silent device(s) or gap(s) recorded as anomalies for review.")


def _finish(
    client: ChainClient, result: PeriodResult, publish_it: bool, claim: bool, correct: str | None, say: Progress
) -> dict[str, Any]:
    """Files, then (optionally) the notarisation and the claims of one community's computed period."""
    model = result.model
    folder = write_period_files(result, client.chain_id)
    say(f"Trees written to {folder}")
    notarisation = None
    if publish_it or claim:
        notarisation = publish(client, result, folder, correct, say)
    if claim:
        submit_claims(client, result, folder, say)
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


def community_ids(rpc: str | None) -> list[int]:
    """The on-chain ids of every community in the Registry, 1 … communityCount."""
    client = ChainClient.connect(rpc)
    count = int(client.registry.functions.communityCount().call())
    return list(range(1, count + 1))
