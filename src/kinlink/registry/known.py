"""What a source already holds, looked up a chunk of an import at a time: its records' ids and row hashes,
and the records erased from it (tombstones).

Why this is more than an IN query (issue 19): PostgreSQL runs here with autovacuum off, so a table loaded in
the same transaction (a first import) has no statistics. The planner then takes `source_id = 1` to match
0.5 % of `persons` and answers `source_id = 1 AND source_record_id IN (2,000 ids)` by reading every record
of the source and filtering: each chunk read the whole table written so far, and a first import of 100,000
rows spent most of its time in these lookups (about 1 s a chunk at the end, 50 chunks, twice per chunk).
So:

- a source with no records when its import starts (every first import) is not looked up at all: the rows
  of one file never meet each other (a repeated record id is refused by the check), so none exists;
- a source that has records is looked up one id at a time through its unique index, the nested loop
  forced (LATERAL … OFFSET 0), which costs the same with statistics or without;
- tombstones are looked up only for a source that has any.

A re-import compares each chunk's rows with the stored hashes: on PostgreSQL, from its second chunk on, the
hashes of a source of up to `PREFETCH_MAX` records are read once, in one query, and compared in memory (fifty
lookups of 2,000 ids cost a re-import of 100,000 rows 0.4 CPU-s, most of it sending the ids). The rows an
import writes never change that comparison: a record id's first row in a file is compared before the
import writes that record, and a repeated one is refused whatever its hash.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.store.models import Person, Source, Tombstone

# The unique index (source_id, source_record_id), probed once per id whatever the planner believes.
_PG_EXISTING = """
SELECT k.rid, p.id, p.content_hash
FROM unnest(%(ids)s::varchar[]) AS k(rid)
CROSS JOIN LATERAL (
    SELECT id, content_hash FROM persons WHERE source_id = %(sid)s AND source_record_id = k.rid OFFSET 0
) AS p
"""


_SQLITE_SLICE = 10_000

# The most records of a source whose hashes are held in memory at once (about 25 MiB per 100,000).
PREFETCH_MAX = 250_000
_PG_ALL_HASHES = "SELECT source_record_id, content_hash FROM persons WHERE source_id = %(sid)s LIMIT %(n)s"


class SourceRecords:
    """One source's records during one import (the caller holds the audit lock, so no other writer adds or
    erases records of the source meanwhile)."""

    def __init__(self, session: Session, src: Source, *, distinct_ids: bool) -> None:
        """distinct_ids: the caller never writes the same record id twice (an import's rows, whose repeated
        ids are refused), so a source that starts empty needs no lookups for the rest of the import."""
        self.session = session
        self.src = src
        empty = session.scalar(select(Person.id).where(Person.source_id == src.id).limit(1)) is None
        self.empty = distinct_ids and empty
        self.tombstones = (
            session.scalar(
                select(Tombstone.id)
                .where(Tombstone.entity == "person", Tombstone.source == src.name)
                .limit(1)
            )
            is not None
        )
        self._lookups = 0  # calls of `hashes`
        self._all: dict[str, str | None] | None = None  # every stored hash, once read (PostgreSQL)

    def existing(self, ids: list[str]) -> dict[str, tuple[int, str | None]]:
        """Record id -> (person id, stored row hash), for the ids the source already has."""
        return {rid: (pid, digest) for rid, pid, digest in self._rows(ids)}

    def hashes(self, ids: list[str]) -> dict[str, str | None]:
        """Record id -> stored row hash, for the ids the source already has (a re-import's comparison).
        Not for ids this import wrote: from the second call on, they may come as they were before it."""
        self._lookups += 1
        if self._all is None and self._lookups == 2 and not self.empty:
            self._all = self._all_hashes()
        if self._all is not None:
            every = self._all
            return {rid: every[rid] for rid in ids if rid in every}
        return {rid: digest for rid, _pid, digest in self._rows(ids)}

    def _all_hashes(self) -> dict[str, str | None] | None:
        """PostgreSQL: every record id of the source -> its stored hash, if it has at most PREFETCH_MAX."""
        conn = self.session.connection()
        if conn.dialect.name != "postgresql":
            return None  # SQLite's own lookups cost no round trips
        rows = conn.exec_driver_sql(_PG_ALL_HASHES, {"sid": self.src.id, "n": PREFETCH_MAX + 1}).fetchall()
        return dict(rows) if len(rows) <= PREFETCH_MAX else None  # type: ignore[arg-type]

    def _rows(self, ids: list[str]) -> list[tuple[str, int, str | None]]:
        if self.empty or not ids:
            return []
        conn = self.session.connection()
        if conn.dialect.name == "postgresql":
            return conn.exec_driver_sql(_PG_EXISTING, {"ids": ids, "sid": self.src.id}).fetchall()
        # SQLite's planner takes the unique index for this by itself. The statement is written out: built
        # and compiled by SQLAlchemy for 2,000 ids it cost more than SQLite's lookups (issue 19). Its
        # parameters stay under SQLite's limit (32,766) in slices. Rows are fetched all at once: fetched one
        # at a time they cost a re-import of 100,000 rows a tenth of its time (issue 19).
        found: list[tuple[str, int, str | None]] = []
        for at in range(0, len(ids), _SQLITE_SLICE):
            part = ids[at : at + _SQLITE_SLICE]
            marks = ", ".join("?" * len(part))
            found.extend(
                conn.exec_driver_sql(
                    "SELECT source_record_id, id, content_hash FROM persons "
                    f"WHERE source_id = ? AND source_record_id IN ({marks})",
                    (self.src.id, *part),
                ).fetchall()
            )
        return found

    def erased(self, ids: list[str]) -> set[str]:
        """The ids of records erased from the source (not to be brought back)."""
        if not self.tombstones or not ids:
            return set()
        return set(
            self.session.scalars(
                select(Tombstone.key).where(
                    Tombstone.entity == "person",
                    Tombstone.source == self.src.name,
                    Tombstone.key.in_(ids),
                )
            )
        )
