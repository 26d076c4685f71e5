"""Importing registrars' files: all or nothing, idempotently by (source, record_id).

The same file twice changes nothing; a changed row updates its record and adds to its history. Every write
leaves an audit entry. These functions never print: the doors decide how to show what happened.

The parts, each in a module of its own: what an import reports (`import_report`), the rows checked and
recognised by their hashes (`checked_rows`), and the writers of records (`record_writes`), which other
writes (a form, a partner's file, a report) go through too. Their names are also importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from kinlink.person.chunk import Record
from kinlink.registry.checked_rows import (
    CHUNK,
    UNCHANGED,
    Records,
    Unchanged,
    checked_batches,
    row_hash,
    validate_file,
    validate_rows,
)
from kinlink.registry.checking_process import RecordsAhead, checked_in_child, checks_elsewhere
from kinlink.registry.collector import holding_collector
from kinlink.registry.files import detect_format, open_list, sha256_file
from kinlink.registry.import_report import BadCell, ImportReport, Progress, bad_cell
from kinlink.registry.known import SourceRecords
from kinlink.registry.record_writes import (
    NewRecords,
    get_or_create_source,
    insert_records,
    name_rows,
    update_person,
    write_chunk,
    write_records,
)
from kinlink.store import bulk
from kinlink.store.audit import AuditLog
from kinlink.store.db import analyze, grown_enough, unit_of_work
from kinlink.store.match_keys import analyze_keys
from kinlink.store.models import ImportRun, Person, utcnow
from kinlink.tracing.continuous import Matching, match_imported
from kinlink.tracing.notifications import news_for_persons

__all__ = [
    "CHUNK",
    "UNCHANGED",
    "BadCell",
    "ImportReport",
    "Progress",
    "bad_cell",
    "get_or_create_source",
    "import_registry",
    "insert_records",
    "name_rows",
    "row_hash",
    "update_person",
    "validate_file",
    "validate_rows",
    "write_records",
]

# The tables an import fills, analysed after a large one (kinlink.store.db.analyze).
LOADED_TABLES = ("persons", "person_names", "events", "audit_log")
LOAD_CACHE_KIB = 16 * 1024  # SQLite's page cache while a file is imported (kinlink.store.bulk.page_cache)


@holding_collector
def import_registry(
    engine: Engine,
    path: Path,
    source: str,
    actor: str,
    *,
    fmt: str | None = None,
    kind: str = "registry",
    skip_invalid: bool = False,
    progress: Progress | None = None,
    today: date | None = None,
    matching: Matching | None = None,
    mapping: Mapping[str, str] | None = None,
    sheet: str | None = None,
    rows: Iterable[tuple[int, Any]] | None = None,
) -> ImportReport:
    """Import a registrar's file, idempotently by (source, record_id). A spreadsheet's `sheet` (default:
    its first) and the `mapping` of its headings to fields (else they are recognised) say where to read;
    `rows` (line, row by field), when given, are imported instead of reading the file (a list to the
    Central Tracing Agency holds several sources' rows: each source's are imported on their own).

    All or nothing: with bad rows nothing is written unless skip_invalid, and then the good rows
    are written in one transaction. One pass, streamed in chunks to keep memory flat: rows are
    written as they are checked, and the first bad row stops the writing (the rest is still
    checked, so that every bad row is reported) and rolls the transaction back at the end.

    Families whose found person's record changed are told in the same transaction. With `matching`, the
    open requests that may be about the new and changed records are then matched again, in transactions
    of their own (a crash there loses no import; `kinlink match` finishes the work); duplicates among the
    records are left to `kinlink match`. Without it, as for a bulk load followed by `kinlink match`,
    nothing is matched.
    """
    fmt = detect_format(path, fmt) if rows is None else (fmt or "rows")
    read_here = rows is not None  # rows given by the caller are read in this process
    report = ImportReport(file=str(path), source=source)
    good = 0
    layout = None
    if rows is None:
        layout, rows = open_list(path, fmt, mapping, sheet)
    try:
        with unit_of_work(engine) as session, bulk.page_cache(session.connection(), LOAD_CACHE_KIB):
            audit = AuditLog(session, actor)
            audit.lock()  # first: concurrent imports then run one after the other
            src = get_or_create_source(session, source, kind, audit)
            before = session.scalar(select(func.count(Person.id))) or 0
            run = ImportRun(source_id=src.id, file_name=path.name, sha256=sha256_file(path), actor=actor)
            session.add(run)
            chunk: list[tuple[Record, str | None]] = []

            known = SourceRecords(session, src, distinct_ids=True)
            stored = None if known.empty else known.hashes  # a first import has no rows to compare
            # A source's first import writes only new rows: a large one into small tables loads them
            # without their secondary indexes, built again before the commit (kinlink.store.bulk).
            deferred = bulk.DeferredIndexes(session.connection(), LOADED_TABLES) if known.empty else None
            # Reading and checking rows needs the database only to compare them with stored ones: without
            # those, a full chunk is written behind while the next one is read (kinlink.store.bulk.Behind).
            behind = bulk.Behind() if stored is None and bulk.Behind.helps(session.connection()) else None

            def write_full(chunk: list[tuple[Record, str | None]] | NewRecords) -> None:
                if deferred is not None:
                    deferred.wrote(len(chunk))
                write_chunk(session, src, chunk, report, audit, known)
                audit.flush()

            written = 0  # rows of the chunk handed to `behind`, told to `progress` once written

            def hand_over(full: list[tuple[Record, str | None]] | NewRecords) -> None:
                """A full chunk written, now or behind."""
                nonlocal written
                if behind is None:
                    write_full(full)
                    if progress:
                        progress(len(full))
                else:
                    behind.run(partial(write_full, full))  # once the chunk before is written
                    if progress and written:
                        progress(written)
                    written = len(full)

            # A large file's first import: its rows checked by a child process while this one writes.
            if stored is None and not read_here and checks_elsewhere(path.stat().st_size):
                batches = checked_in_child(rows, today or date.today())
            else:
                batches = checked_batches(rows, today, stored)
            try:
                for batch in batches:
                    if isinstance(batch, Records):  # new records only: taken by column (issue 19)
                        good += len(batch.digests)
                        if report.errors and not skip_invalid:
                            continue  # only checking from here on: nothing of this file is written
                        if not chunk and len(batch.digests) == CHUNK:  # a chunk of its own, as it is
                            ahead = batch.ahead if isinstance(batch, RecordsAhead) else None
                            hand_over(NewRecords(batch.columns, batch.digests, ahead))
                            continue
                        chunk.extend(zip(zip(*batch.columns, strict=True), batch.digests, strict=True))
                        while len(chunk) >= CHUNK:
                            hand_over(chunk[:CHUNK])
                            chunk = chunk[CHUNK:]
                        continue
                    for _line, result, digest in batch:
                        if isinstance(result, list):
                            cells = [bad_cell(layout, e) for e in result]
                            report.bad_cells.extend(cells)
                            report.errors.extend(c.render(path.name) for c in cells)
                            continue
                        good += 1
                        if isinstance(result, Unchanged):
                            report.unchanged += 1
                            continue
                        if report.errors and not skip_invalid:
                            continue  # only checking from here on: nothing of this file is written
                        chunk.append((result, digest))
                        if len(chunk) >= CHUNK:
                            hand_over(chunk)
                            chunk = []
            finally:
                batches.close()  # a child checking rows is stopped and waited for, also after an error
                if behind is not None:
                    behind.join()  # before anything else uses the connection, the rollback too
            if written and progress:
                progress(written)
            report.rows = good + report.invalid
            if report.errors and not skip_invalid:
                raise _Refused
            if chunk:
                write_chunk(session, src, chunk, report, audit, known)
                if progress:
                    progress(len(chunk))
            if deferred is not None:
                deferred.restore()
            run.rows, run.created, run.updated = report.rows, report.created, report.updated
            run.unchanged, run.invalid, run.finished_at = report.unchanged, report.invalid, utcnow()
            session.flush()
            audit.add(
                "import",
                "import_run",
                run.id,
                {
                    "source": source,
                    "file": path.name,
                    "sha256": run.sha256,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "invalid": report.invalid,
                },
            )
            audit.flush()
            report.notifications = [n.id for n in news_for_persons(session, report.updated_ids)]
    except _Refused:
        report.created = report.updated = report.unchanged = report.erased = 0
        report.changed_ids, report.updated_ids = [], []
        return report
    report.written = True
    if grown_enough(report.created + report.updated, before):
        analyze(engine, LOADED_TABLES)
    if matching is not None and matching.on_write:
        report.matched = match_imported(engine, actor, report.changed_ids, matching)
        analyze_keys(engine, len(report.changed_ids), before)
    return report


class _Refused(Exception):
    """A file with bad rows, imported without skip_invalid: its transaction is rolled back."""
