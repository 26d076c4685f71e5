"""The Spark engine's write-back measured alone: candidates found on Spark stored in the database.

Run: .venv/bin/python bench/matching/spark_writeback.py [--records 100000] [--requests 100000]
    [--partitions 16] [--chunk 500] [--bulk-chunks 500,100000] [--db postgresql|sqlite]

It imports --records generated registry rows (bench/registry/data) into a fresh database (PostgreSQL:
KINLINK_BENCH_PG's server, a database named KINLINK_BENCH_DB_PREFIX_<pid>, dropped after), files --requests
tracing requests for people of the registry (their names; half with the year of birth), and links them
on Spark (local[2], --partitions partitions) once. The candidates' Parquet is then written back, each
time to a database without candidates, by the bulk write (`engines.spark.run.write_back`) at each of
--bulk-chunks, each followed by a rerun (which must add nothing). Each prints its time, the driver's CPU
seconds and the database backend's (PostgreSQL: the server process of each connection used), and the load
average. (The per-candidate write it was first measured against, docs/spark.md, is gone: both engines
write requests' candidates through `tracing.batch_store`.)
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import create_engine, delete, event, insert, select, text, update

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.registry.data import generate  # noqa: E402

from kinlink.engines.spark.run import link, write_back  # noqa: E402
from kinlink.engines.spark.session import spark_session  # noqa: E402
from kinlink.engines.spark.snapshot import request_ids, write_snapshot  # noqa: E402
from kinlink.matching.model import load_model  # noqa: E402
from kinlink.registry import imports  # noqa: E402
from kinlink.store import audit, schema  # noqa: E402
from kinlink.store.db import make_engine, unit_of_work  # noqa: E402
from kinlink.store.models import Person  # noqa: E402
from kinlink.store.tracing_models import MatchCandidate, MatchKey, TracingRequest  # noqa: E402
from kinlink.tracing.batch import key_records  # noqa: E402
from kinlink.tracing.continuous import MatchSummary  # noqa: E402

PG_ADMIN = os.environ.get("KINLINK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ACTOR = "bench"


def _pg_admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Backends:
    """The PostgreSQL server processes of the engine's connections, and their CPU seconds."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.pids: set[int] = set()
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", lambda dbapi, _rec: self.pids.add(dbapi.info.backend_pid))

    def cpu(self) -> float:
        total = 0.0
        for pid in self.pids:
            with contextlib.suppress(FileNotFoundError):  # closed since (pooled: rare); its CPU lost
                total += _cpu(pid)
        return total


def _reset(engine) -> None:  # type: ignore[no-untyped-def]
    """No candidates, every request open and unkeyed: as before the first write-back."""
    with unit_of_work(engine) as s:
        s.execute(delete(MatchCandidate))
        s.execute(delete(MatchKey).where(MatchKey.entity == "r"))
        s.execute(update(TracingRequest).values(state="open"))


def setup(engine, n_records: int, n_requests: int, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    schema.upgrade(engine)
    path = tmp / "registry.csv"
    generate(path, n_records)
    t = time.perf_counter()
    imports.import_registry(engine, path, "bench-registry", ACTOR)
    print(f"imported {n_records:,} records in {time.perf_counter() - t:.1f} s", flush=True)
    with unit_of_work(engine) as s:
        people = list(s.execute(select(Person.full_name, Person.birth_date).order_by(Person.id)))
    rnd = random.Random(7)
    t = time.perf_counter()
    rows = []
    for i in range(n_requests):
        # Filed in bulk (not the domain's create_request, a transaction and an audit entry each: setup,
        # not what is measured). Half name the year of birth, half nothing but the name: namesakes.
        name, born = rnd.choice(people)
        rows.append(
            {"reference": f"B{i:09d}", "secret_hash": "-", "state": "open", "enquirer_name": "Bench"}
            | {"full_name": name, "birth_date": born[:4] if born and i % 2 else None}
        )
    with unit_of_work(engine) as s:
        for i in range(0, len(rows), 5000):
            s.execute(insert(TracingRequest), rows[i : i + 5000])
    print(f"filed {n_requests:,} requests in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    key_records(engine)
    print(f"records keyed in {time.perf_counter() - t:.1f} s", flush=True)


def measure(name: str, write, backends: Backends, profile: bool = False) -> None:  # type: ignore[no-untyped-def]
    for run in ("first", "rerun"):
        summary = MatchSummary()
        load = os.getloadavg()[0]
        prof = cProfile.Profile() if profile and run == "first" else None
        t, cpu, db = time.perf_counter(), time.process_time(), backends.cpu()
        if prof:
            prof.runcall(write, summary)
        else:
            write(summary)
        wall, cpu, db = time.perf_counter() - t, time.process_time() - cpu, backends.cpu() - db
        print(
            f"{name} {run}: {wall:.1f} s, driver {cpu:.1f} CPU-s, database {db:.1f} CPU-s "
            f"(load {load:.2f} -> {os.getloadavg()[0]:.2f}); {len(summary.requests):,} requests, "
            f"created {summary.created:,} updated {summary.updated:,} unchanged {summary.unchanged:,}",
            flush=True,
        )
        if prof:
            pstats.Stats(prof).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(40)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument(
        "--chunk", type=int, default=500, help="requests a transaction (the per-candidate write's too)"
    )
    ap.add_argument(
        "--bulk-chunks",
        default="",
        help="requests a transaction of the bulk write, each measured (comma-separated; default --chunk)",
    )
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--profile", action="store_true", help="the bulk first run's driver profile, printed")
    args = ap.parse_args()
    name = f"{os.environ.get('KINLINK_BENCH_DB_PREFIX', 'kinlink_bench')}_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="kinlink-bench-writeback-") as tmp_name:
        tmp = Path(tmp_name)
        if args.db == "postgresql":
            _pg_admin(f'CREATE DATABASE "{name}"')
            url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        else:
            url = f"sqlite:///{tmp / 'bench.db'}"
        engine = make_engine(url)
        try:
            setup(engine, args.records, args.requests, tmp)
            model = load_model()
            snap = tmp / "snap"
            write_snapshot(engine, ACTOR, snap)
            t = time.perf_counter()
            with spark_session("local[2]", shuffle_partitions=args.partitions, driver_memory="2g") as spark:
                link(spark, snap, model)
            found = snap / "candidates"
            rows = pq.ParquetDataset(str(found)).read(columns=["rid"]).num_rows
            print(f"linked on Spark in {time.perf_counter() - t:.1f} s: {rows:,} candidates", flush=True)
            ids = request_ids(snap)
            backends = Backends(engine)
            engine.dispose()  # connections from here on are counted
            for chunk in [int(c) for c in args.bulk_chunks.split(",") if c] or [args.chunk]:
                _reset(engine)
                measure(
                    f"bulk, {chunk} requests a transaction",
                    lambda summary, chunk=chunk: write_back(engine, ACTOR, model, found, ids, chunk, summary),
                    backends,
                    args.profile,
                )
            with unit_of_work(engine) as s:
                problems = audit.verify(s)
            print(f"audit chain: {'verifies' if not problems else problems[:3]}")
        finally:
            engine.dispose()
            if args.db == "postgresql":
                _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
