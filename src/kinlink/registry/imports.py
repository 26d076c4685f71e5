"""Importing registrars' files, and the registry's writers every other write goes through.

A file is imported all or nothing, idempotently by (source, record_id): the same file twice changes
nothing; a changed row updates its record and adds to its history. Every write leaves an audit entry.
These functions never print: the doors decide how to show what happened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

from kinlink.names import detect_script, parse_name
from kinlink.person.confirmation import default_level
from kinlink.person.fields import EventIn, RecordIn, RowError, event_key
from kinlink.person.rows import validate_row
from kinlink.person.status import status_of
from kinlink.registry.collector import holding_collector
from kinlink.registry.files import (
    Layout,
    RowFormatError,
    Rows,
    detect_format,
    open_list,
    read_rows,
    sha256_file,
)
from kinlink.registry.known import SourceRecords
from kinlink.store import bulk
from kinlink.store.audit import AuditLog
from kinlink.store.db import analyze, grown_enough, unit_of_work
from kinlink.store.match_keys import analyze_keys
from kinlink.store.models import (
    Event,
    ImportRun,
    Person,
    PersonName,
    Source,
    fold_name,
    utcnow,
)
from kinlink.tracing.continuous import Matching, match_imported
from kinlink.tracing.notifications import news_for_persons

CHUNK = 2000
# The tables an import fills, analysed after a large one (kinlink.store.db.analyze).
LOADED_TABLES = ("persons", "person_names", "events", "audit_log")
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    file: str
    source: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: int = 0  # rows of records erased before: not brought back
    errors: list[str] = field(default_factory=list)
    bad_cells: list[BadCell] = field(default_factory=list)  # the same problems, as data
    written: bool = False
    changed_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # ids, to send after the import
    matched: int = 0  # open requests matched again after the import, for the records it brought

    @property
    def invalid(self) -> int:
        return len({c.row for c in self.bad_cells})


@dataclass(frozen=True)
class BadCell:
    """One problem of a list, where a registrar finds it: the sheet (None for CSV), the row as the file
    numbers it, the column's letter (spreadsheets) and heading as written, the field, and the reason (English
    with %(name)s placeholders, the key of its translations) with its values."""

    sheet: str | None
    row: int
    letter: str | None
    heading: str
    field: str
    reason: str
    values: tuple[tuple[str, Any], ...] = ()

    @property
    def text(self) -> str:
        return self.reason % dict(self.values) if self.values else self.reason

    def render(self, file: str) -> str:
        if self.sheet is None:
            return f"{file}:{self.row}: {self.heading}: {self.text}"
        cell = f"{self.letter}{self.row}" if self.letter else f"row {self.row}"
        return f"{file} [{self.sheet}] {cell} ({self.heading}): {self.text}"


def bad_cell(layout: Layout | None, error: RowError) -> BadCell:
    letter, heading = layout.where(error.column) if layout else (None, error.column)
    return BadCell(
        layout.sheet if layout else None,
        error.line,
        letter,
        heading,
        error.column,
        error.reason,
        error.values,
    )


# --- names --------------------------------------------------------------------------------------


def name_rows(rec: RecordIn) -> list[dict[str, Any]]:
    """The person's names as rows: the primary (parts as given, else parsed) then the alternates."""
    rows = []
    for position, written in enumerate([rec.full_name, *rec.alternate_names]):
        given_parts = position == 0 and (rec.family_name or rec.given_names or rec.patronymic)
        if given_parts and rec.name_language:  # parts and language as given: nothing to parse (issue 19)
            family, given, patronymic, language = (
                rec.family_name,
                rec.given_names,
                rec.patronymic,
                rec.name_language,
            )
        else:
            parsed = parse_name(written)
            family, given, patronymic = (
                (rec.family_name, rec.given_names, rec.patronymic)
                if given_parts
                else (parsed.family, " ".join(parsed.given) or None, parsed.patronymic)
            )
            language = (rec.name_language if position == 0 else None) or parsed.language
        rows.append(
            dict(
                position=position,
                full_name=written,
                family_name=family,
                given_names=given,
                patronymic=patronymic,
                script=detect_script(written),
                language=language,
            )
        )
    return rows


def _status(events: list[EventIn]) -> tuple[str | None, str | None]:
    return status_of([(e.kind, e.date) for e in events])


# --- import -------------------------------------------------------------------------------------


class _Unchanged:
    """A row as it was when last imported: not checked nor written again."""


UNCHANGED = _Unchanged()
Stored = Callable[[list[str]], dict[str, str | None]]  # record ids -> their rows' stored hashes


def row_hash(row: dict[str, Any]) -> str:
    """The hash of a row as the file gives it (its non-empty cells): the same row in the next delivery
    of the file is recognised before it is checked or turned into a record.

    Cells of text (every CSV cell) are joined with separators that no checked text may hold (control
    characters); other values (JSON Lines) go through canonical JSON, under another prefix.
    """
    if _TEXT_TYPES.issuperset(map(type, row.values())):
        # Every CSV row: its cells in the order of their names (worked out once for a file's columns),
        # the empty ones left out, and joined, in C passes (issue 19).
        names, cells = _in_order(tuple(row))
        text = "t" + "\x1e".join(map("\x1f".join, filter(_FILLED, zip(names, cells(row), strict=True))))
    else:
        cells = sorted((k, v) for k, v in row.items() if v is not None and v != "")
        text = "j" + json.dumps(dict(cells), sort_keys=True, ensure_ascii=False, default=str)
    # surrogatepass: a row holding a lone surrogate is hashed too (and then refused by its check).
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_TEXT_TYPES = frozenset({str, type(None)})
_FILLED = itemgetter(1)


@lru_cache(maxsize=64)
def _in_order(names: tuple[str, ...]) -> tuple[tuple[str, ...], Callable[[dict[str, Any]], tuple[Any, ...]]]:
    """A row's column names sorted, and what gives its cells in that order (as a tuple, even for one)."""
    ordered = tuple(sorted(names))
    if len(ordered) > 1:
        return ordered, itemgetter(*ordered)
    return ordered, lambda row: tuple(row[name] for name in ordered)


def validate_file(
    path: Path,
    fmt: str,
    today: date | None = None,
    mapping: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> Iterator[tuple[int, RecordIn | list[RowError]]]:
    """Every row checked, including record ids repeated within the file."""
    return validate_rows(read_rows(path, fmt, mapping, sheet), today)


def validate_rows(
    rows: Rows | Iterable[tuple[int, Any]], today: date | None = None
) -> Iterator[tuple[int, RecordIn | list[RowError]]]:
    """Every row checked, including record ids repeated within the file."""
    for line, result, _digest in _checked_rows(rows, today, None):
        yield line, result  # type: ignore[misc]  # without `stored` no row comes as UNCHANGED


def _checked_rows(
    rows: Rows | Iterable[tuple[int, Any]], today: date | None, stored: Stored | None
) -> Iterator[tuple[int, RecordIn | list[RowError] | _Unchanged, str | None]]:
    """Every row checked, including record ids repeated within the file: (line, record or errors, hash).

    stored(record ids) gives the hashes of those records' rows as last imported: a row whose hash is the
    stored one was checked then, and comes as UNCHANGED without being checked again (a re-delivered file
    is mostly unchanged rows).
    """
    first_seen: dict[str, int] = {}
    rows = iter(rows)
    while batch := list(islice(rows, CHUNK)):
        ids = [_record_id(row) for _line, row in batch]
        known = stored([i for i in ids if i]) if stored else {}
        for (line, row), rid in zip(batch, ids, strict=True):
            if isinstance(row, RowFormatError):
                yield line, [RowError(line, row.column, row.reason)], None
                continue
            digest = row_hash(row)
            if rid and rid not in first_seen and known.get(rid) == digest:
                first_seen[rid] = line
                yield line, UNCHANGED, digest
                continue
            result = validate_row(row, line, today=today)
            if isinstance(result, RecordIn):
                if result.record_id in first_seen:
                    result = [
                        RowError(
                            line,
                            "record_id",
                            f"'{result.record_id}' appears twice in the file "
                            f"(first at line {first_seen[result.record_id]})",
                        )
                    ]
                else:
                    first_seen[result.record_id] = line
            yield line, result, digest


def _record_id(row: dict[str, Any] | RowFormatError) -> str | None:
    rid = None if isinstance(row, RowFormatError) else row.get("record_id")
    return rid.strip() or None if isinstance(rid, str) else None


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
    report = ImportReport(file=str(path), source=source)
    good = 0
    layout = None
    if rows is None:
        layout, rows = open_list(path, fmt, mapping, sheet)
    try:
        with unit_of_work(engine) as session:
            audit = AuditLog(session, actor)
            audit.lock()  # first: concurrent imports then run one after the other
            src = get_or_create_source(session, source, kind, audit)
            before = session.scalar(select(func.count(Person.id))) or 0
            run = ImportRun(source_id=src.id, file_name=path.name, sha256=sha256_file(path), actor=actor)
            session.add(run)
            chunk: list[tuple[RecordIn, str | None]] = []

            known = SourceRecords(session, src, distinct_ids=True)
            stored = None if known.empty else known.hashes  # a first import has no rows to compare
            for _line, result, digest in _checked_rows(rows, today, stored):
                if isinstance(result, list):
                    cells = [bad_cell(layout, e) for e in result]
                    report.bad_cells.extend(cells)
                    report.errors.extend(c.render(path.name) for c in cells)
                    continue
                good += 1
                if isinstance(result, _Unchanged):
                    report.unchanged += 1
                    continue
                if report.errors and not skip_invalid:
                    continue  # only checking from here on: nothing of this file is written
                chunk.append((result, digest))
                if len(chunk) >= CHUNK:
                    _write_chunk(session, src, chunk, report, audit, known)
                    audit.flush()
                    if progress:
                        progress(len(chunk))
                    chunk = []
            report.rows = good + report.invalid
            if report.errors and not skip_invalid:
                raise _Refused
            if chunk:
                _write_chunk(session, src, chunk, report, audit, known)
                if progress:
                    progress(len(chunk))
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


def get_or_create_source(session: Session, name: str, kind: str, audit: AuditLog) -> Source:
    src = session.scalar(select(Source).where(Source.name == name))
    if src is None:
        src = Source(name=name, kind=kind)
        session.add(src)
        session.flush()
        audit.add("create", "source", src.id, {"name": name, "kind": kind})
    return src


def write_records(
    session: Session, src: Source, recs: list[RecordIn], report: ImportReport, audit: AuditLog
) -> None:
    """Records checked elsewhere (a partner's PFIF file) written as an import writes its rows: a record whose
    stored hash is its own is unchanged."""
    _write_chunk(session, src, [(r, r.content_hash()) for r in recs], report, audit)


def _write_chunk(
    session: Session,
    src: Source,
    chunk: list[tuple[RecordIn, str | None]],
    report: ImportReport,
    audit: AuditLog,
    known: SourceRecords | None = None,
) -> None:
    """Write checked rows: new records inserted, changed ones updated. known: the source's records as
    the import looks them up (else looked up here, for one batch of records)."""
    known = known or SourceRecords(session, src, distinct_ids=False)
    erased = known.erased([c.record_id for c, _d in chunk])
    if erased:
        report.erased += len(erased)
        chunk = [(c, d) for c, d in chunk if c.record_id not in erased]
    existing = known.existing([c.record_id for c, _d in chunk])
    new = [(c, d) for c, d in chunk if c.record_id not in existing]
    for rec, digest in chunk:
        if rec.record_id not in existing:
            continue
        pid, old_hash = existing[rec.record_id]
        if old_hash == digest:
            report.unchanged += 1
        elif update_person(session, pid, src, rec, audit, digest):
            report.updated += 1
            report.changed_ids.append(pid)
            report.updated_ids.append(pid)
        else:
            report.unchanged += 1  # the same record in other words (a row written otherwise, an old hash)
    if new:
        recs = [c for c, _d in new]
        report.changed_ids.extend(insert_records(session, src, recs, audit, [d for _c, d in new]))
        report.created += len(new)


def insert_records(
    session: Session,
    src: Source,
    recs: list[RecordIn],
    audit: AuditLog,
    digests: list[str | None] | None = None,
) -> list[int]:
    """New records in bulk (`kinlink.store.bulk`: COPY on PostgreSQL, the driver's executemany on SQLite),
    never through the ORM, whose bookkeeping a row cost more than the database's own work (issue 19).
    digests: the hashes of the rows they come from (`row_hash`), else each record's own (`content_hash`)."""
    audit.lock()  # before ids are drawn (kinlink.store.bulk.next_ids): a no-op when the caller took it
    now = utcnow()
    conn = session.connection()
    ids = bulk.next_ids(conn, _PERSONS, len(recs))
    names: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    level = default_level(src.kind)

    def person_rows() -> Iterator[dict[str, Any]]:
        # Each record's names and events are built once its person row is handed over: on PostgreSQL the
        # server inserts the rows COPY has sent meanwhile, instead of after every name is parsed (issue 19).
        for i, (pid, rec) in enumerate(zip(ids, recs, strict=True)):
            status, status_date = _status(rec.events)
            digest = digests[i] if digests is not None else None
            yield dict(
                id=pid,
                source_id=src.id,
                source_record_id=rec.record_id,
                **rec.person_fields(),
                status=status,
                status_date=status_date,
                content_hash=digest or rec.content_hash(),
                version=1,
                created_at=now,
                updated_at=now,
            )
            names.extend(dict(person_id=pid, folded=fold_name(n["full_name"]), **n) for n in name_rows(rec))
            events.extend(
                dict(
                    person_id=pid,
                    kind=e.kind,
                    date=e.date,
                    place=e.place,
                    note=e.note,
                    source_id=src.id,
                    confirmation=e.confirmation or level,
                    author=e.author,
                    ref=e.ref,
                    created_at=now,
                )
                for e in rec.events
            )

    bulk.write_rows(conn, _PERSONS, person_rows())
    audit.add_many(
        "create",
        "person",
        ((pid, {"source": src.name, "record_id": rec.record_id}) for pid, rec in zip(ids, recs, strict=True)),
    )
    bulk.write_rows(conn, PersonName.__table__, names)
    bulk.write_rows(conn, Event.__table__, events)
    return ids


_PERSONS = Person.__table__


def update_person(
    session: Session, pid: int, src: Source, rec: RecordIn, audit: AuditLog, digest: str | None = None
) -> bool:
    """Apply a changed row: fields and names replaced, new events added. True if anything changed.
    digest: the hash of the row (`row_hash`), else the record's own."""
    person = session.scalar(
        select(Person)
        .where(Person.id == pid)
        .options(selectinload(Person.names), selectinload(Person.events))
    )
    assert person is not None
    changes: dict[str, list[Any]] = {}
    for key, value in rec.person_fields().items():
        if getattr(person, key) != value:
            changes[key] = [getattr(person, key), value]
            setattr(person, key, value)
    wanted = name_rows(rec)
    have = [{k: getattr(n, k) for k in wanted[0]} for n in person.names]
    if have != wanted:
        changes["names"] = [[n["full_name"] for n in have], [n["full_name"] for n in wanted]]
        person.names.clear()
        session.flush()
        person.names.extend(PersonName(**n) for n in wanted)
    known = {event_key(e.kind, e.date, e.place, e.ref): e for e in person.events}
    added = [e for e in rec.events if e.key() not in known]
    for e in added:
        person.events.append(
            Event(
                kind=e.kind,
                date=e.date,
                place=e.place,
                note=e.note,
                source_id=src.id,
                confirmation=e.confirmation or default_level(src.kind),
                author=e.author,
                ref=e.ref,
            )
        )
    if added:
        changes["events_added"] = [[e.kind, e.date, e.place] for e in added]
    # The same event known better (or worse) than before, when the row says how it is known.
    for e in rec.events:
        had = known.get(e.key())
        if had is not None and e.confirmation and had.confirmation != e.confirmation:
            changes.setdefault("confirmation", []).append([had.id, had.confirmation, e.confirmation])
            had.confirmation = e.confirmation
    person.content_hash = digest or rec.content_hash()
    if not changes:
        return False
    history = [EventIn(e.kind, e.date, e.place, ref=e.ref) for e in person.events]
    person.status, person.status_date = _status(history)
    person.updated_at = utcnow()
    session.flush()
    audit.add("update", "person", pid, changes)
    return True
