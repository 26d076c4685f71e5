"""Import benchmark: N generated rows (default 100,000) into a fresh SQLite file; time and peak memory.

Run: .venv/bin/python -m bench.registry.run [--rows 100000] [--db URL]
Targets (issue 2): under 60 s, peak memory under 500 MiB.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from bench.registry.data import generate
from kinlink.registry import imports
from kinlink.store import schema
from kinlink.store.db import make_engine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "registry.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.rows)
        print(
            f"generated {args.rows:,} rows ({csv_path.stat().st_size / 2**20:.1f} MiB) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        engine = make_engine(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}")
        schema.upgrade(engine)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        report = imports.import_registry(engine, csv_path, "bench", "bench")
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = imports.import_registry(engine, csv_path, "bench", "bench")
        second = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import: {report.created:,} created in {first:.1f} s ({report.created / first:,.0f} rows/s)")
    print(f"re-import of the same file: {again.unchanged:,} unchanged in {second:.1f} s")
    print(f"peak memory (max RSS of the process): {peak:.0f} MiB (before import: {rss0:.0f} MiB)")
    print(
        f"targets: import < 60 s -> {'met' if first < 60 else 'MISSED'}; "
        f"peak < 500 MiB -> {'met' if peak < 500 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
