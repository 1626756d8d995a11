"""Oracle throughput: a full period run for 1 000 and 10 000 members, and a 100 000-leaf rewards tree with all
its proofs beside OpenZeppelin's JS library.

    python -m benchmarks.oracle_run                  # both parts
    python -m benchmarks.oracle_run --members 1000   # one community size only
    python -m benchmarks.oracle_run --skip-tree

A "full period run" starts from the readings in the database (SQLite in a temp dir, filled before the clock
starts: one home meter per member with 96 quarter hours, a PV meter for every third member) and ends with
the trees and period files on disk: load from the database, salts (created and committed), cleaning,
rewards, leaves, both trees, aggregates, KPIs, files. Publishing is one transaction plus one per claim and
is not part of the figure. The tree figures time the build plus every proof plus the standard-v1 dump, in
Python here and in Node with @openzeppelin/merkle-tree 1.0.8 on the same values.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from lec.settings import environment

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 25)
PARAMS = {"a": 10**17, "b": 5 * 10**16, "c": 5 * 10**16, "max_per_period": 10**24, "bonus_prosumer": 10**15}


def populate(engine, members: int, seed: int = 1) -> None:
    """Bulk-insert a community of ``members`` with a day of readings (not timed)."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from lec.calendar import day_grid
    from lec.db.enums import (
        DeviceKind,
        DeviceStatus,
        EnergyProfile,
        FlowQuantity,
        IdentificationMethod,
        MemberKind,
        ReadingSource,
    )
    from lec.db.models import Community, CounterReading, Device, Flow, User, UserCommunity

    rng = np.random.default_rng(seed)
    grid = day_grid(DAY)
    hours = ((grid - grid[0]) / 3600.0) % 24
    with Session(engine) as session:
        community = Community(name="Bench LEC", chain_community_id=1)
        load_flow = Flow(name="load", quantity=FlowQuantity.LOAD)
        pv_flow = Flow(name="pv", quantity=FlowQuantity.PRODUCTION)
        session.add_all([community, load_flow, pv_flow])
        session.commit()
        cid, lf, pf = community.id, load_flow.id, pv_flow.id
    users, memberships, devices = [], [], []
    device_id = 0
    readings = []
    stamps = [datetime.fromtimestamp(int(t), UTC) for t in grid]
    for i in range(members):
        users.append({"id": i + 1, "external_id": f"u{i}", "name": "N", "surname": "S", "email": f"u{i}@example.org"})
        prosumer = i % 3 == 0
        memberships.append(
            {
                "community_id": cid,
                "user_id": i + 1,
                "wallet": "0x" + f"{i + 1:040x}",
                "energy_profile": EnergyProfile.PROSUMER if prosumer else EnergyProfile.CONSUMER,
                "member_kind": MemberKind.CITIZEN,
                "active": True,
                "joined_at": datetime.now(UTC),
            }
        )
        meters = [
            (lf, DeviceKind.CONSUMPTION_METER, 60 + 90 * np.exp(-((hours - 20) ** 2) / 6) + rng.integers(0, 40, 96))
        ]
        if prosumer:
            meters.append((pf, DeviceKind.PRODUCTION_METER, -np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * 300))
        for flow, kind, values in meters:
            device_id += 1
            devices.append(
                {
                    "id": device_id,
                    "pod": f"IT001E{device_id:08d}",
                    "community_id": cid,
                    "user_id": i + 1,
                    "kind": kind,
                    "identification_method": IdentificationMethod.POD,
                    "name": f"meter {device_id}",
                    "status": DeviceStatus.ACTIVE,
                    "georeference_format": "wgs84",
                }
            )
            for stamp, value in zip(stamps, np.round(values), strict=True):
                readings.append(
                    {
                        "device_id": device_id,
                        "flow_id": flow,
                        "community_id": cid,
                        "timestamp": stamp,
                        "energy_wh": float(value),
                        "tsi": 0,
                        "source": ReadingSource.FILE,
                    }
                )
    with engine.begin() as conn:
        conn.execute(sa.insert(User.__table__), users)
        conn.execute(sa.insert(UserCommunity.__table__), memberships)
        conn.execute(sa.insert(Device.__table__), devices)
        for start in range(0, len(readings), 50_000):
            conn.execute(sa.insert(CounterReading.__table__), readings[start : start + 50_000])
    if engine.dialect.name == "sqlite":
        # Readings arrive over a day and SQLite checkpoints its WAL as they do; one bulk load would leave
        # every row in the WAL and time the WAL lookups instead of the run.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def full_run(members: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        from sqlmodel import Session

        from lec.calendar import period_id
        from lec.db.session import dispose_engines, get_engine, init_db
        from oracle.pipeline import ModelRef, compute_period, write_period_files
        from oracle.proofs import store
        from oracle.rewards.models import RewardModel
        from oracle.sources import load_inputs

        # Its own SQLite file in the temp dir, whatever DATABASE_URL or LEC_DATA_DIR say.
        engine = init_db(get_engine(f"sqlite:///{Path(tmp) / 'lec.db'}"))
        populate(engine, members)
        model = ModelRef(1, RewardModel("bench", "self-consumption", PARAMS))
        stages: dict[str, float] = {}
        t0 = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            inputs = load_inputs(session, 1, DAY)
            t1 = time.perf_counter()
            devices = [d.device_id for m in inputs.members for d in m.devices]
            salts = store.ensure_salts(session, 1, period_id(DAY), devices)
        t2 = time.perf_counter()
        result = compute_period(inputs, model, salts)
        t3 = time.perf_counter()
        write_period_files(result, 1981, Path(tmp))
        t4 = time.perf_counter()
        stages = {
            "load readings": t1 - t0,
            "salts": t2 - t1,
            "clean+rewards+trees": t3 - t2,
            "write files": t4 - t3,
            "total": t4 - t0,
            "leaves": float(result.leaf_count),
        }
        dispose_engines()
        return stages


_NODE_BENCH = """
const {StandardMerkleTree} = require('@openzeppelin/merkle-tree');
const values = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
const t0 = performance.now();
const tree = StandardMerkleTree.of(values, ['address', 'uint256']);
const proofs = values.map((_, i) => tree.getProof(i));
const dump = JSON.stringify(tree.dump());
const t1 = performance.now();
console.log(JSON.stringify({seconds: (t1 - t0) / 1000, root: tree.root, proofs: proofs.length, bytes: dump.length}));
"""


def tree_bench(leaves: int) -> dict[str, float | str]:
    from oracle.proofs.merkle import StandardMerkleTree

    rng = np.random.default_rng(5)
    values = [["0x" + rng.bytes(20).hex(), str(int(rng.integers(1, 2**62)) * 10**3)] for _ in range(leaves)]
    t0 = time.perf_counter()
    tree = StandardMerkleTree.of(values, ["address", "uint256"])
    proofs = tree.all_proofs()
    dump = json.dumps(tree.dump())
    python_seconds = time.perf_counter() - t0
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(values, f)
        path = f.name
    try:
        env = {**environment(), "NODE_PATH": str(ROOT / "tools" / "node_modules")}
        out = subprocess.run(
            ["node", "-e", _NODE_BENCH, path], capture_output=True, text=True, check=True, env=env
        ).stdout
    finally:
        os.unlink(path)
    js = json.loads(out)
    if js["root"] != tree.root or js["proofs"] != len(proofs):
        raise SystemExit("The JS and Python trees differ: the benchmark compares different work.")
    return {
        "python_seconds": python_seconds,
        "js_seconds": js["seconds"],
        "ratio_js_over_python": js["seconds"] / python_seconds,
        "dump_bytes": float(len(dump)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, action="append", help="community size(s) (default 1000 and 10000)")
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--skip-tree", action="store_true")
    args = parser.parse_args()
    for members in args.members or [1_000, 10_000]:
        stages = full_run(members)
        detail = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items() if k not in ("total", "leaves"))
        print(
            f"full period run, {members} members ({int(stages['leaves'])} device leaves): "
            f"{stages['total']:.2f} s ({detail})"
        )
    if not args.skip_tree:
        t = tree_bench(args.leaves)
        print(
            f"rewards tree, {args.leaves} leaves, build + all proofs + dump: Python {t['python_seconds']:.2f} s, "
            f"@openzeppelin/merkle-tree (Node) {t['js_seconds']:.2f} s, "
            f"ratio JS/Python {t['ratio_js_over_python']:.1f}x"
        )


if __name__ == "__main__":
    main()
