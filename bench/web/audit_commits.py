"""Audited transactions a second on PostgreSQL, many at once: the audit log's share of a request (issue 19).

    .venv/bin/python bench/web/audit_commits.py --db postgresql+psycopg://postgres@127.0.0.1:5432/NAME \
        [--baseline /work/base --baseline-db postgresql+psycopg://.../OTHER] [--threads 16] [--seconds 10]

Each of `--threads` threads runs transactions that do what a search or status check does to the audit log
(`kinlink.store.audit.record_read` of a few ids) and commit, one after the other, for `--seconds`; the
database (an empty one: migrated here) is this tree's, and with --baseline the baseline tree's own
(--baseline-db) is measured first, in a process of its own. Prints transactions a second, latency and
the process's CPU seconds a transaction for each, with the load average: the web benchmark's figures on
a loaded machine are bound by CPU, this one by what the audit log makes transactions wait for (a head
held across another's commit, the commit's WAL flush).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def work(db: str, threads: int, seconds: float) -> dict[str, float]:
    from sqlalchemy import create_engine

    from kinlink.store import audit, schema
    from kinlink.store.db import unit_of_work

    engine = create_engine(db, pool_size=threads, max_overflow=0)
    schema.upgrade(engine)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)
    stop = time.monotonic() + seconds + 1  # the barrier's second first

    def client(i: int) -> None:
        start.wait()
        mine = latencies[i]
        n = 0
        while time.monotonic() < stop:
            t = time.perf_counter()
            with unit_of_work(engine) as s:
                audit.record_read(s, f"bench:{i}", "person", [i, n, n + 1], "search", {"name": "x"})
            mine.append(time.perf_counter() - t)
            n += 1

    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    cpu0, t0 = time.process_time(), time.monotonic()
    start.wait()
    for t in pool:
        t.join()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    engine.dispose()
    lat = sorted(x for mine in latencies for x in mine)
    return {
        "transactions": len(lat),
        "per_second": len(lat) / wall,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p95_ms": lat[int(len(lat) * 0.95)] * 1000,
        "cpu_ms": cpu / max(len(lat), 1) * 1000,
        "load": os.getloadavg()[0],
    }


def run(tree: Path, db: str, threads: int, seconds: float) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            "--db",
            db,
            "--threads",
            str(threads),
            "--seconds",
            str(seconds),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="a PostgreSQL database of this tree's (migrated here)")
    ap.add_argument("--baseline", type=Path, help="another kinlink source tree, measured first")
    ap.add_argument("--baseline-db", help="the baseline's own database (default --db)")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(work(args.db, args.threads, args.seconds)))
        return
    runs = []
    if args.baseline:
        base_db = args.baseline_db or args.db
        runs.append((str(args.baseline), run(args.baseline.resolve(), base_db, args.threads, args.seconds)))
    runs.append(("this tree", run(ROOT, args.db, args.threads, args.seconds)))
    print(f"{args.threads} threads, each committing audited reads for {args.seconds:.0f} s")
    print(f"{'':24} {'txn':>7} {'txn/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'CPU ms/txn':>10} {'load':>5}")
    for name, r in runs:
        print(
            f"{name:24} {r['transactions']:7.0f} {r['per_second']:7.0f} {r['p50_ms']:7.1f} {r['p95_ms']:7.1f}"
            f" {r['cpu_ms']:10.2f} {r['load']:5.1f}"
        )


if __name__ == "__main__":
    main()
