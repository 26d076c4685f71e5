"""Import benchmark: N generated rows (default 100,000) into a fresh SQLite file; time and peak memory.

Run: .venv/bin/python bench/import/run.py [--rows 100000] [--db URL]
Targets (issue 2): under 60 s, peak memory under 500 MiB.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import tempfile
import time
from pathlib import Path

from faker import Faker

from kinlink.registry import service
from kinlink.registry.fields import COLUMNS
from kinlink.store import schema
from kinlink.store.db import make_engine

STATUSES = ["captured", "missing", "died", "released", "interned", "wounded"]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    fakers = [Faker("ru_RU"), Faker("uk_UA")]
    for f in fakers:
        f.seed_instance(seed)
    # Faker is slow per call; draw pools once and combine them.
    pools = [
        (
            [f.last_name_male() for _ in range(3000)],
            [f.first_name_male() for _ in range(500)],
            [f.middle_name_male() for _ in range(300)],
        )
        for f in fakers
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS), lineterminator="\n")
        w.writeheader()
        for i in range(rows):
            fam, giv, pat = pools[i % 2]
            year = rnd.randint(1965, 2004)
            events = [{"kind": "captured", "date": f"2022-{rnd.randint(3, 12):02d}-{rnd.randint(1, 28):02d}"}]
            w.writerow(
                {
                    "record_id": f"R{i:07d}",
                    "family_name": rnd.choice(fam),
                    "given_names": rnd.choice(giv),
                    "patronymic": rnd.choice(pat),
                    "sex": "m",
                    "birth_date": f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    "rank": "рядовой",
                    "unit": f"{rnd.randint(1, 150)}-я бригада",
                    "service_number": f"S{rnd.randint(10**6, 10**7)}",
                    "status": rnd.choice(STATUSES),
                    "status_date": "2023-01-15",
                    "events": json.dumps(events, ensure_ascii=False),
                }
            )


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
        report = service.import_registry(engine, csv_path, "bench", "bench")
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = service.import_registry(engine, csv_path, "bench", "bench")
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
