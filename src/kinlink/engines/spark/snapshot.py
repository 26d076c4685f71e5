"""The Parquet snapshot a Spark run reads: records, sightings and open requests, one directory each.

Written by the driver from the database (through the domain's export, which audits it) with pyarrow, a
part file per chunk; on a cluster the directory must be on storage every executor reads (docs/spark.md).
The snapshot holds personal data: it is kept only as long as the run, unless --snapshot names a place.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Engine

from kinlink.engines.spark.frames import RECORD_SCHEMA, records_table
from kinlink.matching.record import MatchRecord
from kinlink.tracing.snapshot import Exported, export_for_matching

PARTS = ("records", "sightings", "requests")


class SnapshotWriter:
    """Chunks of MatchRecords into <dir>/<part>/part-NNNNN.parquet (every part gets at least an empty file,
    so that Spark finds each one's schema)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counts = dict.fromkeys(PARTS, 0)
        for part in PARTS:
            d = directory / part
            d.mkdir(parents=True, exist_ok=True)
            for old in d.glob("*.parquet"):  # a snapshot is written whole: an older one is replaced
                old.unlink()

    def __call__(self, part: str, records: list[MatchRecord]) -> None:
        n = self.counts[part]
        pq.write_table(records_table(records), self.directory / part / f"part-{n:05d}.parquet")
        self.counts[part] = n + 1

    def close(self) -> None:
        for part, n in self.counts.items():
            if n == 0:
                pq.write_table(RECORD_SCHEMA.empty_table(), self.directory / part / "part-00000.parquet")


def write_snapshot(engine: Engine, actor: str, directory: Path) -> Exported:
    writer = SnapshotWriter(directory)
    exported = export_for_matching(engine, actor, writer)
    writer.close()
    return exported


def request_ids(directory: Path) -> list[int]:
    """The open requests a snapshot holds, in id order."""
    return sorted(pq.read_table(directory / "requests", columns=["id"]).column("id").to_pylist())
