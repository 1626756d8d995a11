"""Flexibility: baseline + delivery for N members over one event day, and the dispatch split of one event.

    python -m benchmarks.flex [--members 10000]

Each member has 45 days of history restricted to what a baseline reads (the event's four quarter hours and the
12 of the adjustment window, `needed_minutes`), 5 % of the member-days incomplete. Timed: the PJM and CAISO
baselines with their same-day adjustments and the delivery per slot for every member, through the array path
(`baselines_matrix`, which the rule tests check unit for unit against the per-member `baseline`), and the per-member
path on a tenth of the members for reference; then the pro-rata dispatch split of one 30 MW event.
Targets (issue 13): ≤ 5 s for 10 000 members.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np

from lec.flex.baseline import CAISO, PJM, baseline, baselines_matrix, needed_minutes
from lec.flex.declarations import Declaration, LoadKind
from oracle.flex.dispatch import plan

EVENT_DAY = date(2026, 7, 15)
EVENT = [18 * 60 + 15 * i for i in range(4)]
HISTORY_DAYS = 45


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--forecast-days", type=int, default=14, help="Days of day-ahead forecasts to score.")
    args = parser.parse_args()
    forecast_errors(args.forecast_days)
    rng = np.random.default_rng(13)
    needed = needed_minutes(EVENT)
    days = [EVENT_DAY - timedelta(days=n) for n in range(1, HISTORY_DAYS + 1)]
    values = rng.integers(100, 900, size=(args.members, len(days), len(needed)), dtype=np.int64)
    complete = rng.random((args.members, len(days))) > 0.05
    same = rng.integers(100, 900, size=(args.members, len(needed)), dtype=np.int64)
    same_complete = np.ones(args.members, dtype=bool)
    dispatched = np.full((args.members, len(EVENT)), 250, dtype=np.int64)  # 1 kW each: 250 Wh per quarter hour
    event_cols = [needed.index(m) for m in EVENT]
    for method in (PJM, CAISO):
        began = time.perf_counter()
        base, has = baselines_matrix(method, EVENT_DAY, EVENT, days, values, complete, same, same_complete)
        delivered = np.minimum(np.maximum(base - same[:, event_cols], 0), dispatched) * has[:, None]
        elapsed = time.perf_counter() - began
        tenth = max(1, args.members // 10)
        began = time.perf_counter()
        for m in range(tenth):
            history = {
                d: dict(zip(needed, values[m, i].tolist(), strict=True)) for i, d in enumerate(days) if complete[m, i]
            }
            baseline(method, EVENT_DAY, EVENT, history, dict(zip(needed, same[m].tolist(), strict=True)))
        scalar = (time.perf_counter() - began) * args.members / tenth
        print(
            f"baseline+delivery {method.name}: {args.members} members in {elapsed:.2f} s "
            f"({int(delivered.sum()) / 1000:.0f} kWh delivered); per-member path ≈ {scalar:.1f} s (from {tenth})"
        )
    declarations = {
        f"0x{i + 1:040x}": [Declaration(LoadKind.SHIFTABLE, int(rng.integers(500, 10_000)), notice_minutes=0)]
        for i in range(args.members)
    }
    start = datetime(2026, 7, 15, 16, tzinfo=UTC)
    began = time.perf_counter()
    decided = plan(declarations, 30_000_000, start, start + timedelta(hours=1), start - timedelta(hours=2), 1)
    elapsed = time.perf_counter() - began
    print(f"dispatch plan: {args.members} members, {decided.committed_w / 1000:.0f} kW split in {elapsed:.2f} s")


def forecast_errors(days: int) -> None:
    """Day-ahead forecasts of a simulated 30-member community (BDEW H0 loads with day and quarter-hour noise; 10
    PV plants under simulated clouds) scored against persistence over the last `days` days of 70."""
    import pandas as pd

    from lec.calendar import local_day_grid
    from oracle.flex.forecast import forecast_load, forecast_pv, nmae, persistence
    from oracle.simulate.profiles import bdew_shape, cloudiness, consumer_load, pv_production

    rng = np.random.default_rng(7)
    first = date(2026, 4, 1)
    total = 70
    grid = local_day_grid(first, total)
    shape = bdew_shape(grid, "h0")
    load = sum(
        consumer_load(grid, shape, float(rng.uniform(2000, 4500)), rng, shift_quarters=int(rng.integers(-4, 5)))
        for _ in range(30)
    )
    cloud = cloudiness(grid, rng)
    pv = sum(pv_production(grid, float(rng.uniform(3, 6)), 41.9, 12.5, cloud) for _ in range(10))
    load_s, pv_s = pd.Series(load, index=grid), pd.Series(pv, index=grid)
    scores = {"load": ([], []), "pv": ([], [])}
    began = time.perf_counter()
    for n in range(total - days, total):
        day = first + timedelta(days=n)
        cut = grid < local_day_grid(day, 1)[0]
        actual_index = local_day_grid(day, 1)
        for name, series in (("load", load_s), ("pv", pv_s)):
            known = series[cut]
            actual = series.reindex(actual_index).to_numpy()
            model = forecast_load(known, day) if name == "load" else forecast_pv(known, day, 41.9, 12.5)
            scores[name][0].append(nmae(model, actual))
            scores[name][1].append(nmae(persistence(known, day), actual))
    elapsed = time.perf_counter() - began
    for name, (model, naive) in scores.items():
        print(
            f"forecast {name}: nMAE {np.mean(model):.3f} vs persistence {np.mean(naive):.3f} "
            f"over {days} days ({elapsed:.1f} s for all forecasts)"
        )


if __name__ == "__main__":
    main()
