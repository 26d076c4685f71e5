"""Import benchmark: N generated rows (default 100,000) into a fresh SQLite file; time and peak memory.

Run: .venv/bin/python -m bench.registry.run [--rows 100000] [--db URL] [--xlsx]
Targets (issue 2): under 60 s, peak memory under 500 MiB. With --xlsx (issue 21) the same rows, as an XLSX
list with Russian headings, are imported into a second fresh database and its rows/s printed beside CSV's.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from bench.registry.data import generate
from bench.registry.sheets import csv_to_xlsx
from kinlink.registry import imports
from kinlink.store import schema
from kinlink.store.db import make_engine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--xlsx", action="store_true", help="also import the rows as an XLSX list (SQLite)")
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
        if args.xlsx:
            xlsx_path = Path(tmp) / "registry.xlsx"
            t0 = time.perf_counter()
            csv_to_xlsx(csv_path, xlsx_path)
            size = xlsx_path.stat().st_size / 2**20
            print(f"wrote the XLSX ({size:.1f} MiB) in {time.perf_counter() - t0:.1f} s")
            sheet_engine = make_engine(f"sqlite:///{Path(tmp) / 'bench-xlsx.db'}")
            schema.upgrade(sheet_engine)
            t0 = time.perf_counter()
            from_sheet = imports.import_registry(sheet_engine, xlsx_path, "bench", "bench")
            sheet_time = time.perf_counter() - t0
            assert from_sheet.written and from_sheet.created == report.created, from_sheet.errors[:5]
    print(f"import: {report.created:,} created in {first:.1f} s ({report.created / first:,.0f} rows/s)")
    if args.xlsx:
        print(
            f"rows/s: CSV {report.created / first:,.0f} | XLSX {from_sheet.created / sheet_time:,.0f} "
            f"({from_sheet.created:,} rows in {sheet_time:.1f} s, Russian headings recognised)"
        )
    print(f"re-import of the same file: {again.unchanged:,} unchanged in {second:.1f} s")
    print(f"peak memory (max RSS of the process): {peak:.0f} MiB (before import: {rss0:.0f} MiB)")
    print(
        f"targets: import < 60 s -> {'met' if first < 60 else 'MISSED'}; "
        f"peak < 500 MiB -> {'met' if peak < 500 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
