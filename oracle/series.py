"""KPIs and clusters over a run of days: each member's cleaned series, and the two jobs that use them.

`lec oracle kpi` and `lec oracle cluster` are thin callers of ``kpi_report`` and ``cluster_report``; both
save what they compute in the derived-series and cluster tables for the dashboards. With ``engine="spark"``
the series are read and reduced on Spark (``oracle.spark.engine``) and saved by the same code here. Refusals are
``PeriodError`` (no community, no readings) or ``ValueError`` from the clustering, each with a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from lec.calendar import STEP_SECONDS, period_start, quarter_hours
from oracle.cluster import Metric, cluster_curves
from oracle.derived import save_clustering, save_kpi_series
from oracle.kpi import compute_kpis, mean_daily_curve
from oracle.period import Engine
from oracle.pipeline import PeriodError, clean_inputs, member_energy
from oracle.sources import community_row, load_inputs, member_devices, open_session


@dataclass
class MemberSeries:
    """One member's quarter hours over the days, Wh, NaN where a quarter hour stayed missing after cleaning.
    ``injection``/``withdrawal`` are the exchange meter's readings, NaN where it has none (then the grid
    exchange is derived from load and production, DESIGN §5.4)."""

    user_id: int | None
    timestamps: list[np.ndarray] = field(default_factory=list)
    load: list[np.ndarray] = field(default_factory=list)
    production: list[np.ndarray] = field(default_factory=list)
    injection: list[np.ndarray] = field(default_factory=list)
    withdrawal: list[np.ndarray] = field(default_factory=list)
    imputed: int = 0


@dataclass(frozen=True)
class CommunitySeries:
    community_id: int  # the database row
    members: dict[str, MemberSeries]  # by wallet


def days(start: date, end: date) -> list[date]:
    """Every local day from ``start`` to ``end``, both included."""
    if end < start:
        raise PeriodError(f"The last day {end} is before the first {start}.")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _known_or_nan(values: np.ndarray | None, missing: np.ndarray) -> np.ndarray:
    if values is None:
        return np.full(missing.size, np.nan)
    return np.where(missing, np.nan, values.astype(float))


def load_series(chain_community_id: int, start: date, end: date, member: str | None = None) -> CommunitySeries:
    """Each member's (or only ``member``'s) cleaned series over the days, read and cleaned day by day."""
    members: dict[str, MemberSeries] = {}
    with open_session() as session:
        community = community_row(session, chain_community_id)
        users = {wallet: m.user_id for wallet, (m, _) in member_devices(session, community).items()}
        for day in days(start, end):
            inputs = load_inputs(session, chain_community_id, day)
            cleaned = clean_inputs(inputs)
            n = quarter_hours(day)
            grid = period_start(day) + STEP_SECONDS * np.arange(n)
            for m in inputs.members:
                if member and m.account.lower() != member.lower():
                    continue
                energy = member_energy(m, cleaned, n)
                missing = np.zeros(n, dtype=bool)
                for d in m.devices:
                    missing |= cleaned[d.device_id].missing
                entry = members.setdefault(m.account, MemberSeries(users.get(m.account)))
                entry.timestamps.append(grid)
                entry.load.append(_known_or_nan(energy.load, missing))
                entry.production.append(_known_or_nan(energy.production, missing))
                entry.injection.append(_known_or_nan(energy.injection, missing))
                entry.withdrawal.append(_known_or_nan(energy.withdrawal, missing))
                entry.imputed += int(sum(int(cleaned[d.device_id].imputed.sum()) for d in m.devices))
    if not members:
        raise PeriodError("No member with readings matches: check --community, --member and the dates.")
    assert community.id is not None  # a row read from the database has its key
    return CommunitySeries(community.id, members)


def _spark_session(master: str | None) -> Any:
    from oracle.spark.session import spark_session

    return spark_session(master)


def kpi_report(
    chain_community_id: int,
    start: date,
    end: date,
    member: str | None = None,
    engine: Engine = "local",
    master: str | None = None,
) -> dict[str, Any]:
    """The KPIs of ``member`` (or the whole community) over the days; the daily and hourly load and the mean
    daily curve are saved as derived series for the dashboards. ``engine="spark"`` computes the same on Spark."""
    if engine == "spark":
        from oracle.spark.engine import kpi_series

        with open_session() as session:
            community_id, ts, kpis, community_load, user_ids = kpi_series(
                _spark_session(master), session, chain_community_id, days(start, end), member
            )
    else:
        series = load_series(chain_community_id, start, end, member)
        rows = list(series.members.values())
        ts = np.concatenate(rows[0].timestamps)

        def matrix(name: str) -> np.ndarray:
            return np.vstack([np.concatenate(getattr(r, name)) for r in rows])

        load = matrix("load")
        kpis = compute_kpis(
            ts,
            load,
            matrix("production"),
            matrix("injection"),
            matrix("withdrawal"),
            imputed_intervals=sum(r.imputed for r in rows),
        )
        community_id, community_load = series.community_id, np.nansum(load, axis=0)
        user_ids = [r.user_id for r in rows if r.user_id is not None] if member else []
    label = f"member {member.lower()}" if member else "community"
    with open_session() as session:
        save_kpi_series(session, community_id, label, ts, community_load, user_ids)
        session.commit()
    return kpis.as_dict()


def cluster_report(
    chain_community_id: int,
    start: date,
    end: date,
    k: int,
    metric: Metric,
    engine: Engine = "local",
    master: str | None = None,
) -> dict[str, Any]:
    """Cluster the members' mean daily load curves into at most ``k`` groups and save the clustering."""
    if engine == "spark":
        from oracle.spark.engine import cluster_inputs

        with open_session() as session:
            community_id, accounts, curves, user_ids = cluster_inputs(
                _spark_session(master), session, chain_community_id, days(start, end)
            )
    else:
        series = load_series(chain_community_id, start, end)
        accounts = sorted(series.members)
        members = [series.members[a] for a in accounts]
        curves = np.vstack([mean_daily_curve(np.concatenate(m.timestamps), np.concatenate(m.load)) for m in members])
        community_id, user_ids = series.community_id, [m.user_id for m in members]
    result = cluster_curves(curves, min(k, len(accounts)), metric)
    parameters = {"metric": metric, "k": int(len(result.sizes)), "from": start.isoformat(), "to": end.isoformat()}
    with open_session() as session:
        group = save_clustering(
            session,
            community_id,
            f"load {start.isoformat()}",
            result,
            user_ids,
            parameters,
        )
        session.commit()
        group_id = group.id
    return {
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
