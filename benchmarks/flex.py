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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
