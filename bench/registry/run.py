"""Import benchmark: N generated rows (default 100,000) into a fresh database; time and peak memory.

Run: .venv/bin/python -m bench.registry.run [--rows 100000] [--db sqlite|postgresql|URL] [--baseline DIR]
    [--xlsx]

--db postgresql creates a database of its own on KINLINK_BENCH_PG (default: the local server) and drops
it after. --baseline DIR (a checkout of main, e.g. `git worktree add --detach /tmp/base main`) measures that
checkout's kinlink on the same file, in the same run, and prints both. Each measurement runs in a child
process of its own, so that its peak memory is the import's.
With --xlsx (issue 21) the same rows, as an XLSX list with Russian headings, are imported into another fresh
database and its rows/s printed beside the CSV's.
Beside the clock's rows/s it prints the importing process's CPU seconds, steadier on a loaded machine.
Targets (issue 19): >= 20,000 rows/s, re-import of an unchanged file >= 50,000 rows/s, peak < 300 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get("KINLINK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[2]


def _pg_admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def measure(csv_path: Path, db: str, tmp: Path) -> dict[str, float]:
    """Import the file twice into a fresh database (run in the child)."""
    from kinlink.registry import imports
    from kinlink.store import schema
    from kinlink.store.db import make_engine

    # KINLINK_BENCH_DB_PREFIX: the name's start, for servers shared by several people's benches.
    name = f"{os.environ.get('KINLINK_BENCH_DB_PREFIX', 'kinlink_bench')}_{os.getpid()}"
    if db == "postgresql":
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    elif db == "sqlite":
        url = f"sqlite:///{tmp / f'{name}.db'}"
    else:
        url = db
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
        report = imports.import_registry(engine, csv_path, "bench", "bench")
        first, first_cpu = time.perf_counter() - t0, time.process_time() - c0
        first_child_cpu = _children_cpu() - k0  # its checking process (kinlink.registry.checking_process)
        t0, c0 = time.perf_counter(), time.process_time()
        again = imports.import_registry(engine, csv_path, "bench", "bench")
        second, second_cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    finally:
        engine.dispose()
        if db == "postgresql":
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
    return {
        "created": report.created,
        "import_s": first,
        "unchanged": again.unchanged,
        "reimport_s": second,
        "import_cpu_s": first_cpu,
        "import_child_cpu_s": first_child_cpu,
        "reimport_cpu_s": second_cpu,
        "peak_mib": peak,
        "child_peak_mib": child_peak,
        "rss0_mib": rss0,
    }


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended (a first import's checking process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _child(csv_path: Path, db: str, tmp: Path, src: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    if src is not None:  # the baseline's kinlink first on the path: this bench, that kinlink
        env["PYTHONPATH"] = os.pathsep.join([str(src / "src"), str(ROOT)])
    out = subprocess.run(
        [sys.executable, "-m", "bench.registry.run", "--child", str(csv_path), "--db", db, "--tmp", str(tmp)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--db", default="sqlite", help="sqlite, postgresql (a database of its own), or a URL")
    ap.add_argument("--baseline", type=Path, help="a checkout of the previous main, measured alongside")
    ap.add_argument("--xlsx", action="store_true", help="also import the rows as an XLSX list")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.db, args.tmp)))
        return
    from bench.registry.data import generate

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        csv_path = tmp / "registry.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.rows)
        print(
            f"generated {args.rows:,} rows ({csv_path.stat().st_size / 2**20:.1f} MiB) "
            f"in {time.perf_counter() - t0:.1f} s; database: {args.db}"
        )
        runs = {"this": _child(csv_path, args.db, tmp, None)}
        if args.baseline:
            runs["baseline"] = _child(csv_path, args.db, tmp, args.baseline.resolve())
        if args.xlsx:
            from bench.registry.sheets import csv_to_xlsx

            xlsx_path = tmp / "registry.xlsx"
            t0 = time.perf_counter()
            csv_to_xlsx(csv_path, xlsx_path)
            size = xlsx_path.stat().st_size / 2**20
            print(f"wrote the XLSX ({size:.1f} MiB) in {time.perf_counter() - t0:.1f} s")
            runs["xlsx"] = _child(xlsx_path, args.db, tmp, None)
    for label, r in runs.items():
        print(
            f"{label:>8}: import {r['created']:,} rows in {r['import_s']:.1f} s "
            f"({r['created'] / r['import_s']:,.0f} rows/s); re-import {r['unchanged']:,} unchanged in "
            f"{r['reimport_s']:.1f} s ({r['unchanged'] / r['reimport_s']:,.0f} rows/s); "
            f"peak {r['peak_mib']:.0f} MiB (before import {r['rss0_mib']:.0f} MiB)"
            # (a baseline without the checking process has neither)
            + (f"; checking process's peak {r['child_peak_mib']:.0f} MiB" if r.get("child_peak_mib") else "")
        )
        # CPU seconds of the importing process: steadier than the clock on a shared, loaded machine (the
        # database's own work on PostgreSQL is not in them).
        print(
            f"{'':>8}  CPU: import {r['import_cpu_s']:.1f} s "
            f"({r['created'] / r['import_cpu_s']:,.0f} rows/CPU-s)"
            + (f" + checking process {r['import_child_cpu_s']:.1f} s" if r.get("import_child_cpu_s") else "")
            + "; "
            f"re-import {r['reimport_cpu_s']:.1f} s ({r['unchanged'] / r['reimport_cpu_s']:,.0f} rows/CPU-s)"
        )
    r = runs["this"]
    rate, again = r["created"] / r["import_s"], r["unchanged"] / r["reimport_s"]
    print(
        f"targets: import >= 20,000 rows/s -> {'met' if rate >= 20_000 else 'MISSED'}; "
        f"re-import >= 50,000 rows/s -> {'met' if again >= 50_000 else 'MISSED'}; "
        f"peak < 300 MiB -> {'met' if r['peak_mib'] < 300 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
