"""What a PostgreSQL database's server processes wait on, sampled while a benchmark runs (issue 19).

    .venv/bin/python bench/web/pg_waits.py --db postgresql+psycopg://postgres@127.0.0.1:5432/NAME \
        [--seconds 20] [--every 0.01] [--commits 300]

Every `--every` seconds, reads pg_stat_activity for the database's client backends (not this one): their
states (active, idle in transaction...), what each active one waits on (wait_event_type:wait_event, "CPU"
when none), which statements wait on a lock, and what the backends they wait for (pg_blocking_pids) are
doing meanwhile: a row lock held across COMMIT shows as waiters on audit_head whose blocker is in
IO:WALSync (its commit's WAL flush) or idle in transaction (its process still working before COMMIT).

`--commits N` first times N transactions that each update one row of a scratch table and commit: the
commit latency (WAL flush) bounds how many transactions a row held across COMMIT lets through a second.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import time

from sqlalchemy import create_engine, text

SAMPLE = text(
    """
    SELECT a.pid, a.state, coalesce(a.wait_event_type, '') AS wtype, coalesce(a.wait_event, '') AS wevent,
           left(a.query, 60) AS query,
           (SELECT string_agg(coalesce(b.state, '') || ' ' || coalesce(b.wait_event, 'CPU') || ' '
                              || left(b.query, 25), '|')
            FROM pg_stat_activity b WHERE b.pid = ANY(pg_blocking_pids(a.pid))) AS blockers
    FROM pg_stat_activity a
    WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
    """
)


def commit_latency(url: str, n: int) -> list[float]:
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE commit_probe (id int primary key, n int)"))
        conn.execute(text("INSERT INTO commit_probe VALUES (1, 0)"))
        conn.commit()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            conn.execute(text("UPDATE commit_probe SET n = n + 1 WHERE id = 1"))
            conn.commit()
            times.append(time.perf_counter() - t)
        # A temporary table's WAL is not flushed: time a logged table too.
        conn.execute(text("CREATE TABLE IF NOT EXISTS kl_commit_probe (id int primary key, n int)"))
        conn.execute(text("INSERT INTO kl_commit_probe VALUES (1, 0) ON CONFLICT DO NOTHING"))
        conn.commit()
        logged = []
        for _ in range(n):
            t = time.perf_counter()
            conn.execute(text("UPDATE kl_commit_probe SET n = n + 1 WHERE id = 1"))
            conn.commit()
            logged.append(time.perf_counter() - t)
        conn.execute(text("DROP TABLE kl_commit_probe"))
        conn.commit()
    engine.dispose()
    return logged


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--every", type=float, default=0.01)
    ap.add_argument("--commits", type=int, default=0)
    args = ap.parse_args()
    if args.commits:
        lat = commit_latency(args.db, args.commits)
        ms = sorted(x * 1000 for x in lat)
        print(
            f"commit of a one-row update, {len(ms)} times: median {statistics.median(ms):.2f} ms, "
            f"p95 {ms[int(len(ms) * 0.95)]:.2f} ms (load average {os.getloadavg()[0]:.2f})"
        )
    engine = create_engine(args.db)
    waits: collections.Counter[str] = collections.Counter()
    queries: collections.Counter[str] = collections.Counter()
    states: collections.Counter[str] = collections.Counter()
    blockers: collections.Counter[str] = collections.Counter()
    samples = active = 0
    end = time.monotonic() + args.seconds
    with engine.connect() as conn:
        while time.monotonic() < end:
            rows = conn.execute(SAMPLE).all()
            conn.rollback()
            samples += 1
            for r in rows:
                states[r.state or "?"] += 1
                if r.blockers:
                    for b in r.blockers.split("|"):
                        blockers[" ".join(b.split())] += 1
                if r.state != "active":
                    continue
                active += 1
                key = f"{r.wtype}:{r.wevent}" if r.wtype else "CPU"
                waits[key] += 1
                if r.wtype == "Lock":
                    queries[" ".join(r.query.split())] += 1
            time.sleep(args.every)
    engine.dispose()
    print(f"{samples} samples, {active / max(samples, 1):.2f} active backends on average "
          f"(load average {os.getloadavg()[0]:.2f})")  # fmt: skip
    print(
        "backends by state, on average:",
        ", ".join(f"{k} {n / max(samples, 1):.2f}" for k, n in states.most_common()),
    )
    for key, n in waits.most_common(12):
        print(f"  {n / max(active, 1):6.1%}  {key}")
    if queries:
        print("statements waiting on a lock:")
        for q, n in queries.most_common(5):
            print(f"  {n / max(active, 1):6.1%}  {q}")
    if blockers:
        print("what the backends they wait for are doing (state, wait event, statement), per waiter sample:")
        for b, n in blockers.most_common(6):
            print(f"  {n / max(sum(blockers.values()), 1):6.1%}  {b}")


if __name__ == "__main__":
    main()
