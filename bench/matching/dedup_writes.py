"""`kinlink match --dedup`'s record-pair writes measured: how long storing the records' candidates takes.

Run: .venv/bin/python bench/matching/dedup_writes.py [--rows 5000] [--db sqlite|postgresql]
    [--baseline DIR]

--rows generated registry rows (bench/registry/data) are imported from two registrars, so that every record
has its duplicate, into a fresh database (PostgreSQL: KINLINK_BENCH_PG's server, a database of its own,
dropped after); then `match_all(dedup=True, processes=1)` runs. What it prints: the whole run's time and
CPU, and the time and client CPU spent inside `write_record_candidates` (the writes alone), the PostgreSQL
backend's CPU over the whole run, the counts and the load average. --baseline DIR (a checkout of main)
runs that tree the same way in the same run, each tree in a child process of its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.registry.run import PG_ADMIN, _pg_admin  # noqa: E402


def _backend_cpu(engine) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds of the database's server processes now connected (PostgreSQL; 0 on SQLite)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as c:
        pids = list(c.scalars(text("select pid from pg_stat_activity where datname = current_database()")))
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def child(url: str, csv: Path) -> None:
    """In the tree on sys.path: import, then match with the writes timed."""
    from kinlink.registry import imports
    from kinlink.store import schema
    from kinlink.store.db import make_engine
    from kinlink.tracing import batch

    print(f"  kinlink from {Path(batch.__file__).parents[2]}", flush=True)
    engine = make_engine(url)
    schema.upgrade(engine)
    for source in ("registrar-a", "registrar-b"):
        imports.import_registry(engine, csv, source, "bench:dedup")
    spent = [0.0, 0.0]
    write = batch.write_record_candidates

    def timed(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.process_time()
        write(*args, **kwargs)
        spent[0] += time.perf_counter() - wall
        spent[1] += time.process_time() - cpu

    batch.write_record_candidates = timed  # the engine's loop looks it up in its module
    before = _backend_cpu(engine)
    wall, cpu = time.perf_counter(), time.process_time()
    s = batch.match_all(engine, "bench:dedup", processes=1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"  match_all {wall:.1f} s, {cpu:.1f} CPU-s; record-pair writes {spent[0]:.1f} s, "
        f"{spent[1]:.1f} client CPU-s; database backend {_backend_cpu(engine) - before:.1f} CPU-s "
        f"(whole run); created {s.created}, updated {s.updated}, unchanged {s.unchanged}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--baseline", type=Path)
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    from bench.registry.data import generate

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "registry.csv"
        generate(csv, args.rows)
        for name, tree in [("this tree", ROOT), *([("baseline", args.baseline)] if args.baseline else [])]:
            if args.db == "postgresql":
                db = f"kl_bench_dedup_{os.getpid()}"
                _pg_admin(f"DROP DATABASE IF EXISTS {db}")
                _pg_admin(f"CREATE DATABASE {db}")
                url = PG_ADMIN.rsplit("/", 1)[0] + "/" + db
            else:
                url = f"sqlite:///{tmp}/{name.replace(' ', '_')}.db"
            print(f"{name} ({tree}), {args.rows} rows from two registrars, {args.db}:", flush=True)
            env = {**os.environ, "PYTHONPATH": f"{tree}/src:{tree}"}
            try:
                subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--child", url, str(csv)],
                    env=env,
                    check=True,
                )
            finally:
                if args.db == "postgresql":
                    _pg_admin(f"DROP DATABASE IF EXISTS {db}")


if __name__ == "__main__":
    main()
