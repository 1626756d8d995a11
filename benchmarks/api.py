"""Latency and throughput of the member dashboard endpoint (`GET /communities/{id}/me/daily`, one year).

Data: a year of 15-minute load and production for N members (default 1 000) is generated in memory and summed
per local day with the dashboards' arithmetic (self-consumption, injection and withdrawal per quarter hour) into
the API's read model `api_member_daily_kpis` (365 rows per member). The raw readings are not stored: their
ingestion is measured by benchmarks/ingest.py. The API runs in its own uvicorn process against SQLite or a
temporary PostgreSQL cluster (started like the tests do), tokens come from the Keycloak-compatible server and
are validated as in production; C concurrent clients (default 50) each ask for a random member's year, with no
pause between requests (a closed loop: the harshest reading of "50 concurrent users").

The load comes from wrk (C, `apt-get install wrk`) when it is installed, else from Python threads (httpx); on a
2-core machine the Python client needs about 1.5 ms of CPU per request, which it takes from the server, so its
figures are pessimistic. `--workers 1 2` measures one and two uvicorn processes on the same data. Before the
measured run, a few requests are checked for a full year (365 items) and a warm-up run fills the caches.

    python -m benchmarks.api --backend both --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

from dapp.api.dev_realm import KeycloakStandIn
from lec.db.models import Community, MemberDailyKpi, User, UserCommunity
from lec.db.session import dispose_engines, get_engine, init_db
from lec.settings import environment
from tests.support.ports import free_port
from tests.support.services import start_postgres

ROOT = Path(__file__).resolve().parents[1]
# wrk's Lua hooks: each request carries a random member's token; `done` prints one parseable line.
WRK_SCRIPT = Path(__file__).with_name("api_load.lua")
TARGET_P95_MS = 100.0


def populate(url: str, keycloak: KeycloakStandIn, members: int, days: int) -> list[str]:
    """Users, memberships and their daily rows; returns the members' usernames."""
    engine = init_db(get_engine(url))
    rng = np.random.default_rng(1981)
    first_day = np.datetime64("2025-11-25")
    day_keys = [int(str(first_day + i).replace("-", "")) for i in range(days)]
    usernames = []
    with engine.begin() as conn:
        community_id = conn.execute(
            sa.insert(Community.__table__).values(name="Bench LEC", chain_community_id=1)
        ).inserted_primary_key[0]  # type: ignore[attr-defined]
        users = []
        for i in range(members):
            name = f"bench{i}"
            subject = keycloak.add_user(name, "pw", ["token-holder"])
            usernames.append(name)
            users.append({"external_id": subject, "name": "B", "surname": str(i), "email": f"{name}@example.org"})
        conn.execute(sa.insert(User.__table__), users)  # type: ignore[attr-defined]
        ids = [r[0] for r in conn.execute(sa.select(User.id).order_by(User.id))]  # type: ignore[arg-type]
        conn.execute(
            sa.insert(UserCommunity.__table__),  # type: ignore[attr-defined]
            [{"community_id": community_id, "user_id": uid, "wallet": f"0x{uid:040x}", "active": True} for uid in ids],
        )
        quarter = np.arange(96)
        sun = np.clip(np.sin((quarter - 28) / 56 * np.pi), 0, None)  # 07:00–21:00 bell
        for chunk in range(0, members, 50):
            block = ids[chunk : chunk + 50]
            n = len(block)
            load = rng.gamma(2.0, 60.0, size=(n, days, 96))  # Wh per quarter hour
            pv_size = rng.choice([0.0, 0.0, 1.0, 2.0], size=(n, 1, 1)) * 250.0
            production = pv_size * sun * rng.uniform(0.2, 1.0, size=(n, days, 1))
            rows = []
            sc = np.minimum(load, production).sum(axis=2)
            inj = np.maximum(production - load, 0).sum(axis=2)
            wdr = np.maximum(load - production, 0).sum(axis=2)
            lsum, psum, peak = load.sum(axis=2), production.sum(axis=2), load.max(axis=2) * 4
            for m, uid in enumerate(block):
                for d, key in enumerate(day_keys):
                    rows.append(
                        {
                            "community_id": community_id,
                            "user_id": uid,
                            "day": key,
                            "load_wh": int(lsum[m, d]),
                            "production_wh": int(psum[m, d]),
                            "self_consumption_wh": int(sc[m, d]),
                            "injection_wh": int(inj[m, d]),
                            "withdrawal_wh": int(wdr[m, d]),
                            "peak_w": int(peak[m, d]),
                            "samples": 96,
                            "imputed": 0,
                        }
                    )
            conn.execute(sa.insert(MemberDailyKpi.__table__), rows)  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        # Statistics, visibility map and a checkpoint now, not by autovacuum and the checkpointer during the
        # measured run (their CPU would count as the database's per request).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("CHECKPOINT")
    dispose_engines()
    return usernames


def serve(url: str, keycloak: KeycloakStandIn, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **environment(),
        "DATABASE_URL": url,
        "LEC_API_KEYCLOAK_URL": keycloak.url,
        "LEC_API_HOST": "127.0.0.1",
        # A closed loop asks far more per member than a person does: measure the API, not its rate limit.
        "LEC_API_RATE_LIMIT_CALLER": "",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "dapp.api.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("The API did not start.")


PATH = "/api/v1/communities/1/me/daily?from=2025-11-25&to=2026-11-24&limit=366"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its children (the uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # a worker that exited between the listing and the read
    return total


def check_pages(base: str, tokens: list[str], samples: int = 20) -> None:
    """A few members' years, asked for one by one: each must be a 200 with 365 days, or the run is void."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for token in tokens[:samples]:
            reply = client.get(PATH, headers={"Authorization": f"Bearer {token}"})
            if reply.status_code != 200 or len(reply.json()["items"]) != 365:
                raise RuntimeError(f"The dashboard answered {reply.status_code}: {reply.text[:300]}")


def load_wrk(base: str, tokens: list[str], concurrency: int, seconds: float, tmp: Path) -> dict[str, float]:
    """`concurrency` keep-alive connections for `seconds`, from wrk on both cores (it needs far less CPU)."""
    (tmp / "tokens.txt").write_text("\n".join(tokens) + "\n")
    env = {**environment(), "LEC_BENCH_TOKENS": str(tmp / "tokens.txt"), "LEC_BENCH_PATH": PATH}
    threads = min(2, concurrency)
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    out = subprocess.run(
        [*command, "-s", str(WRK_SCRIPT), base], env=env, capture_output=True, text=True, check=True
    ).stdout
    line = next((x for x in out.splitlines() if x.startswith("LEC-RESULT")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    requests, errors, p50_us, p95_us, duration_us = (float(v) for v in line.split()[1:])
    return {
        "requests": requests,
        "errors": errors,
        "p50_ms": p50_us / 1000,
        "p95_ms": p95_us / 1000,
        "throughput_rps": requests / (duration_us / 1e6),
    }


def load(base: str, tokens: list[str], concurrency: int, requests: int) -> dict[str, float]:
    """The same load from Python threads (httpx), for machines without wrk; checks every reply."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    per_worker = requests // concurrency
    path = PATH

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(per_worker):
                token = tokens[rnd.randrange(len(tokens))]
                start = time.perf_counter()
                reply = client.get(path, headers={"Authorization": f"Bearer {token}"})
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if reply.status_code != 200 or len(reply.json()["items"]) != 365:
                        errors[0] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "throughput_rps": len(latencies) / wall,
    }


def run(
    backend: str, members: int, days: int, concurrency: int, requests: int, workers: list[int], client: str
) -> dict[int, dict[str, float]]:
    """One database with the data, then a measured run per worker count; results keyed by worker count."""
    postgres = None
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, KeycloakStandIn() as keycloak:
        if backend == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            postgres = start_postgres(durable=True)
            url = postgres.create_database("lec_api_bench")
        try:
            t0 = time.perf_counter()
            usernames = populate(url, keycloak, members, days)
            setup = time.perf_counter() - t0
            tokens = [keycloak.mint(u) for u in usernames]
            # The postmaster's pid (first line of its pid file); 0 (no process) for SQLite.
            database = int((postgres.datadir / "postmaster.pid").read_text().split()[0]) if postgres else 0
            for count in workers:
                proc, base = serve(url, keycloak, count)
                try:
                    check_pages(base, tokens)
                    if client == "wrk":
                        # Seconds for about `requests` requests at the target rate, at least 10.
                        seconds = max(10.0, requests / 500)
                        load_wrk(base, tokens, concurrency, 3, Path(tmp))  # warm-up: keys, caches, pools
                        before, busy, db_before = cpu_seconds(proc.pid), os.getloadavg()[0], cpu_seconds(database)
                        result = load_wrk(base, tokens, concurrency, seconds, Path(tmp))
                    else:
                        load(base, tokens[:50], concurrency, concurrency * 2)
                        before, busy, db_before = cpu_seconds(proc.pid), os.getloadavg()[0], cpu_seconds(database)
                        result = load(base, tokens, concurrency, requests)
                    # The server's CPU per request does not depend on what else the machine runs; latency does.
                    result["server_cpu_ms"] = 1000 * (cpu_seconds(proc.pid) - before) / result["requests"]
                    # PostgreSQL's own processes (its backends are the postmaster's children); SQLite runs inside
                    # the server, so its work is in the figure above.
                    result["database_cpu_ms"] = 1000 * (cpu_seconds(database) - db_before) / result["requests"]
                    result["load_before"] = busy
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
                results[count] = {**result, "setup_s": setup}
        finally:
            if postgres is not None:
                postgres.stop()
    return results


def report(results: dict[str, dict[int, dict[str, float]]]) -> str:
    """Pure: the figures side by side, one column per backend and worker count, with the ratio to the target."""
    columns = [(b, w, r) for b, by_workers in results.items() for w, r in by_workers.items()]
    heads = [f"{b} ×{w}" for b, w, _ in columns]
    rows = [
        ("p50 ms", [f"{r['p50_ms']:.1f}" for *_, r in columns]),
        ("p95 ms", [f"{r['p95_ms']:.1f}" for *_, r in columns]),
        ("req/s", [f"{r['throughput_rps']:.0f}" for *_, r in columns]),
        ("errors", [f"{r['errors']:.0f}/{r['requests']:.0f}" for *_, r in columns]),
        ("server CPU ms/req", [f"{r['server_cpu_ms']:.2f}" for *_, r in columns]),
        ("database CPU ms/req", [f"{r['database_cpu_ms']:.2f}" if b != "sqlite" else "-" for b, _, r in columns]),
        ("load avg before", [f"{r['load_before']:.1f}" for *_, r in columns]),
        (f"p95 / {TARGET_P95_MS:.0f} ms", [f"{r['p95_ms'] / TARGET_P95_MS:.2f}" for *_, r in columns]),
        ("target", ["meets" if r["p95_ms"] < TARGET_P95_MS else "misses" for *_, r in columns]),
    ]
    width = max(12, *(len(h) + 2 for h in heads))
    lines = [f"{'':18s}" + "".join(f"{h:>{width}s}" for h in heads)]
    lines += [f"{name:18s}" + "".join(f"{v:>{width}s}" for v in values) for name, values in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000, help="about this many measured requests")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="uvicorn processes, one run each")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"member dashboard, {args.members} members × {args.days} days, {args.concurrency} concurrent clients "
        f"without pauses, load from {args.client}, {os.cpu_count()} cores"
    )
    results = {
        b: run(b, args.members, args.days, args.concurrency, args.requests, args.workers, args.client) for b in backends
    }
    print(report(results))


if __name__ == "__main__":
    main()
