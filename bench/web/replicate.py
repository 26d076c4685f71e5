"""A larger SQLite bench database from a loaded one: its records repeated `factor` times.

    .venv/bin/python bench/web/replicate.py SOURCE.db TARGET.db --factor 10

The registry import and the matcher's keying take over an hour for a million records on a shared
machine. The generator draws names from fixed pools, so a registry ten times larger has each key's
postings ten times longer: repeating every record (its names, events and keys, under new ids and record
ids) gives the same key sizes as generating ten times as many, in minutes. The copies are exact twins of
their records (same names, dates, unit), so searches shortlist and score the same work; the copies'
audit entries are not written (the chain stays intact, and holds the original rows' entries only).
Then `run.py --db sqlite:///TARGET.db --reuse --records N` measures on it, and `--copy-from` copies it
into PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from pathlib import Path

COPIED = {
    # table: (columns made new in each copy, as SQL of the source row's columns and the offsets)
    "persons": {"id": "id + :k * :persons", "source_record_id": "source_record_id || '~' || :k"},
    "person_names": {"id": "id + :k * :person_names", "person_id": "person_id + :k * :persons"},
    "events": {"id": "id + :k * :events", "person_id": "person_id + :k * :persons"},
    "match_keys": {"id": "id + :k * :match_keys", "entity_id": "entity_id + :k * :persons"},
}


def replicate(source: Path, target: Path, factor: int) -> int:
    """The records of `source` `factor` times in `target` (replaced); how many records it holds."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    db = sqlite3.connect(target)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    offsets = {t: db.execute(f"SELECT max(id) FROM {t}").fetchone()[0] for t in COPIED}
    for table, new in COPIED.items():
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        values = ", ".join(new.get(c, f'"{c}"') for c in cols)
        # The rows there were before this run (not the copies made), and of the keys the records' only.
        where = "id <= :top" + (" AND entity = 'p'" if table == "match_keys" else "")
        names = ", ".join(f'"{c}"' for c in cols)
        t = time.perf_counter()
        for k in range(1, factor):
            db.execute(
                f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} WHERE {where}",
                {"k": k, "top": offsets[table], **offsets},
            )
        db.commit()
        print(f"  {table}: x{factor} in {time.perf_counter() - t:.1f} s")
    db.execute("PRAGMA analysis_limit=1000")
    db.execute("ANALYZE")
    db.commit()
    n = db.execute("SELECT count(*) FROM persons").fetchone()[0]
    db.close()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path, help="a SQLite database loaded by run.py --reuse")
    ap.add_argument("target", type=Path)
    ap.add_argument("--factor", type=int, default=10)
    args = ap.parse_args()
    kept = json.loads(Path(f"{args.source}.bench.json").read_text())
    t = time.perf_counter()
    n = replicate(args.source, args.target, args.factor)
    state = Path(f"{args.target}.bench.json")
    state.write_text(json.dumps({**kept, "records": n}))
    os.chmod(state, 0o600)
    print(f"{n} records in {args.target} in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
