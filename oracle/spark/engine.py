"""The Spark engine: the period run, the KPI series and the clustering of many meters, with the local
engine's results byte for byte.

Spark does the per-device and per-member work — reading, cleaning (``clean_day``), the salted leaves
(``data_leaf``), each member's grid point, its reward before the cap (``member_uncapped``) and the sums the
KPIs and aggregates need (``kpi_sums``) — in pandas UDFs that call the local engine's own functions. The driver
gets back one leaf per device, one amount per member and a few sums per community and day, and finishes
with the same code as the local engine: the budget cap (``split_pro_rata``), both trees and the aggregates
(``oracle.pipeline.period_result``), the KPIs (``kpis_from_sums``). All of it is integer arithmetic (or sums
of integer-valued floats, exact below 2**53), so the order in which partitions are added changes nothing.

Salts are read from and written to the oracle's database on the driver, before any leaf is computed, as in
the local run; they reach the workers only as a DataFrame of this job and are never written to the lake.
One job settles any number of communities for the same day (``compute_periods``); each gets its own result.

A day with demand-response events is settled as the local engine settles it: the flexibility settlement (per
event and member: baseline, metered load, delivery, reward, salted leaves) is small, so the driver computes it
from the oracle's database with the local engine's own ``oracle.flex.service.settle_day`` and hands it to
``period_result``, which adds its leaves to the data tree and its rewards to the members' reward leaves.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session

from lec.calendar import day_grid, period_id, quarter_hours
from lec.energy import hourly_shared
from oracle.clean import CleanDay
from oracle.kpi import Kpis, KpiSums, kpis_from_sums
from oracle.pipeline import ModelRef, PeriodError, PeriodResult, Progress, period_result
from oracle.proofs.encoding import MISSING
from oracle.proofs.store import ensure_salts
from oracle.rewards.integer import split_pro_rata
from oracle.rewards.models import RewardResult, member_uncapped
from oracle.sources import community_row
from oracle.spark.clean import cleaned_devices, member_readings
from oracle.spark.energy import (
    Hourly,
    by_member,
    community_sums,
    energy_of,
    member_curve,
    member_curves,
    uncapped_rewards,
)
from oracle.spark.leaves import data_leaves, imputed_flags, salts_frame
from oracle.spark.sources import JobInputs, job_inputs

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from oracle.flex.settlement import FlexSettlement


def _quiet(_message: str) -> None:
    """The default ``say``: no progress lines."""


def _persist(frame: DataFrame) -> DataFrame:
    from pyspark import StorageLevel

    return frame.persist(StorageLevel.MEMORY_AND_DISK)


def _partitions(spark: SparkSession) -> int:
    """The session's shuffle partitions: the parallelism of the per-device and per-member passes."""
    return int(spark.conf.get("spark.sql.shuffle.partitions") or 16)


def _zero_sums(n: int) -> KpiSums:
    zeros = np.zeros(n)
    return KpiSums(zeros, zeros, zeros, zeros, zeros, 0)


def _hourly(sums: KpiSums) -> Hourly:
    """``S(h)``, ``I(h)``, ``W(h)`` of a community from its sums (integer Wh, as the rewards use them)."""
    shared, injected, withdrawn = hourly_shared(sums.injection[None, :], sums.withdrawal[None, :])
    return shared.astype(np.int64), injected.astype(np.int64), withdrawn.astype(np.int64)


def _rewards(model: ModelRef, members: list, uncapped: dict[str, int], hourly: Hourly, day: date) -> RewardResult:
    """Every member's reward (sorted by account, as the local engine orders them) with the budget cap.

    Members with no device that day are computed here, by the same ``member_uncapped`` on an empty day.
    Only what the period's files and the chain need comes back from the workers: the per-member detail lists
    of a local ``RewardResult`` (self-consumption, shares, PAR, bonus) stay empty.
    """
    accounts, amounts = [], []
    for row in sorted(members, key=lambda r: r["member"]):
        account = row["member"]
        if account not in uncapped:
            energy, _ = energy_of(account, row["profile"], bool(row["active"]), [], [], day)
            uncapped[account] = member_uncapped(model.model, energy, *hourly)
        accounts.append(account)
        amounts.append(uncapped[account])
    cap = model.model.params["max_per_period"]
    capped = sum(amounts) > cap
    return RewardResult(
        accounts=accounts,
        amounts=split_pro_rata(cap, amounts, accounts) if capped else list(amounts),
        self_consumption_wh=[],
        shared_as_producer_mwh=[],
        shared_as_consumer_mwh=[],
        par_bps=[],
        bonus=[],
        uncapped=list(amounts),
        hourly_shared_wh=hourly[0],
        hourly_injection_wh=hourly[1],
        hourly_withdrawal_wh=hourly[2],
        capped=capped,
    )


def compute_periods(
    spark: SparkSession,
    session: Session,
    chain_community_ids: list[int],
    day: date,
    model: ModelRef,
    say: Progress = _quiet,
    inputs: JobInputs | None = None,
    flex: Mapping[int, FlexSettlement | None] | None = None,
) -> dict[int, PeriodResult]:
    """Every community's period for ``day`` in one Spark job; salts are created and committed on the way.

    ``inputs`` default to the configured source (the lake, or PostgreSQL over JDBC). ``flex`` holds each
    community's flexibility settlement of the day (``oracle.flex.service.settle_day``, computed on the driver;
    a community missing or None had no event): it joins that community's trees as in the local engine."""
    n = quarter_hours(day)
    period = period_id(day)
    partitions = _partitions(spark)
    inputs = inputs or job_inputs(spark, session, chain_community_ids, [day])
    everyone: dict[int, list] = defaultdict(list)
    for row in inputs.members.select("community", "member", "profile", "active").collect():
        everyone[int(row["community"])].append(row)
    absent = [c for c in chain_community_ids if not everyone.get(c)]
    if absent:
        raise PeriodError(
            f"No member of community {', '.join(map(str, absent))} is in the Spark engine's source: run "
            "`lec lake export` first (or check --community); nothing was computed."
        )
    cleaned = _persist(cleaned_devices(inputs.readings, inputs.devices, inputs.members, [day], partitions))
    members = None
    try:
        leaf_ids: dict[int, list[str]] = defaultdict(list)
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for row in cleaned.select("community", "leaf_id", "imputed", "missing").collect():
            community = int(row["community"])
            leaf_ids[community].append(row["leaf_id"])
            counts[community][0] += int(row["imputed"])
            counts[community][1] += int(row["missing"])
        say(
            f"Spark: {sum(map(len, leaf_ids.values()))} device-days cleaned in "
            f"{len(chain_community_ids)} community(ies)."
        )
        salts = {(c, day): ensure_salts(session, c, period, leaf_ids.get(c, [])) for c in chain_community_ids}
        leaves: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
        for row in data_leaves(cleaned, salts_frame(spark, salts)).collect():
            leaves[int(row["community"])][row["leaf_id"]] = (row["device_key"], row["readings_hash"])
        gaps = _gap_days(cleaned, day, n)
        members = _persist(by_member(cleaned, partitions))
        sums = {c: s for (c, _), s in community_sums(members, with_gaps=False).items()}
        hourly = {(c, day): _hourly(sums.get(c, _zero_sums(n))) for c in chain_community_ids}
        uncapped = uncapped_rewards(members, model.model, hourly)
    finally:
        cleaned.unpersist()
        if members is not None:
            members.unpersist()

    results = {}
    grid = day_grid(day)
    for community in chain_community_ids:
        if len(leaves[community]) != len(leaf_ids.get(community, [])):
            raise PeriodError(f"Community {community}: some device-days have no salt; nothing was committed.")
        totals = sums.get(community, _zero_sums(n))
        hours = hourly[(community, day)]
        rewards = _rewards(model, everyone[community], uncapped.get((community, day), {}), hours, day)
        imputed, missing = counts.get(community, [0, 0])
        kpis = dataclasses.replace(kpis_from_sums(grid, totals, imputed), missing_intervals=missing)
        # The silences' finder reads every leaf: a device-day without gaps is one shared gapless day.
        whole = _whole_day(day, n)
        days = {leaf: gaps.get((community, leaf), whole) for leaf in leaf_ids.get(community, [])}
        results[community] = period_result(
            community,
            day,
            model,
            leaves[community],
            rewards,
            totals.load.astype(np.int64),
            totals.production.astype(np.int64),
            kpis,
            days,
            (flex or {}).get(community),
        )
    return results


def _whole_day(day: date, n: int) -> CleanDay:
    return CleanDay(day, np.zeros(n), np.zeros(n, dtype=bool), 0, 0)


def _gap_days(cleaned: DataFrame, day: date, n: int) -> dict[tuple[int, str], CleanDay]:
    """The device-days with a gap, back from the cluster as the local engine holds them (values and imputed
    flags: what :func:`oracle.gaps.find_silences` reads). Few in a healthy community; only these travel."""
    from pyspark.sql import functions as F

    out = {}
    rows = cleaned.where((F.col("imputed") > 0) | (F.col("missing") > 0)).select(
        "community", "leaf_id", "values", "mask"
    )
    for row in rows.collect():
        committed = np.asarray(row["values"], dtype=np.int64)
        values = np.where(committed == MISSING, np.nan, committed.astype(np.float64))
        out[(int(row["community"]), row["leaf_id"])] = CleanDay(day, values, imputed_flags(row["mask"], n), 0, 0)
    return out


# ------------------------------------------------------------------------------------ KPIs, clustering


def _members(inputs: JobInputs, chain_community_id: int, member: str | None) -> tuple[DataFrame, list]:
    from pyspark.sql import functions as F

    members = inputs.members.where(F.col("community") == chain_community_id)
    if member:
        members = members.where(F.lower("member") == member.lower())
    rows = members.select("member", "user_id", "profile", "active").collect()
    if not rows:
        raise PeriodError("No member with readings matches: check --community, --member and the dates.")
    return members, rows


def kpi_series(
    spark: SparkSession, session: Session, chain_community_id: int, days: list[date], member: str | None
) -> tuple[int, np.ndarray, Kpis, np.ndarray, list[int]]:
    """What ``oracle.series.kpi_report`` saves and returns, from Spark: (database community id, timestamps,
    KPIs, the community's load per quarter hour, the member's user id when one member is asked for)."""
    from pyspark.sql import functions as F

    community_id = community_row(session, chain_community_id).id
    inputs = job_inputs(spark, session, [chain_community_id], days)
    members, rows = _members(inputs, chain_community_id, member)
    partitions = _partitions(spark)
    cleaned = _persist(
        by_member(cleaned_devices(inputs.readings, inputs.devices, members, days, partitions), partitions)
    )
    try:
        by_day = community_sums(cleaned, with_gaps=True)
        imputed = cleaned.agg(F.sum("imputed")).collect()[0][0] or 0
    finally:
        cleaned.unpersist()
    per_day = [by_day.get((chain_community_id, d), _zero_sums(quarter_hours(d))) for d in days]
    timeline = KpiSums(
        *(np.concatenate([getattr(s, f) for s in per_day]) for f in ("load", "production", "self_consumption")),
        np.concatenate([s.injection for s in per_day]),
        np.concatenate([s.withdrawal for s in per_day]),
        sum(s.missing for s in per_day),
    )
    ts = np.concatenate([day_grid(d) for d in days])
    user_ids = [int(r["user_id"]) for r in rows if r["user_id"] is not None] if member else []
    assert community_id is not None  # a row read from the database has its key
    return community_id, ts, kpis_from_sums(ts, timeline, int(imputed)), timeline.load, user_ids


def cluster_inputs(
    spark: SparkSession, session: Session, chain_community_id: int, days: list[date]
) -> tuple[int, list[str], np.ndarray, list[int | None]]:
    """What ``oracle.series.cluster_report`` clusters, from Spark: (database community id, accounts sorted,
    one mean daily load curve per account, their user ids)."""
    community_id = community_row(session, chain_community_id).id
    inputs = job_inputs(spark, session, [chain_community_id], days)
    _, rows = _members(inputs, chain_community_id, None)
    ordered = sorted(rows, key=lambda r: r["member"])
    index = spark.createDataFrame(
        [(chain_community_id, r["member"], i) for i, r in enumerate(ordered)], "community INT, member STRING, index INT"
    )
    readings = member_readings(inputs.readings, inputs.devices, index, days, _partitions(spark))
    curves = member_curves(readings, days)
    empty = member_curve(days, {})  # a member without any device-day: a day of zero load, every day
    matrix = np.vstack([curves.get((chain_community_id, i), empty) for i in range(len(ordered))])
    assert community_id is not None  # a row read from the database has its key
    return community_id, [r["member"] for r in ordered], matrix, [r["user_id"] for r in ordered]
