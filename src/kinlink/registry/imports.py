"""Importing registrars' files, and the registry's writers every other write goes through.

A file is imported all or nothing, idempotently by (source, record_id): the same file twice changes
nothing; a changed row updates its record and adds to its history. Every write leaves an audit entry.
These functions never print: the doors decide how to show what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, selectinload

from kinlink.person.fields import EventIn, RecordIn, RowError, validate_row
from kinlink.person.status import DatedEvent, current_status
from kinlink.registry.files import RowFormatError, detect_format, read_rows, sha256_file
from kinlink.store.audit import AuditLog
from kinlink.store.db import analyze, grown_enough, unit_of_work
from kinlink.store.match_keys import analyze_keys
from kinlink.store.models import Event, ImportRun, Person, PersonName, Source, Tombstone, utcnow
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
    written: bool = False
    changed_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # ids, to send after the import
    matched: int = 0  # open requests matched again after the import, for the records it brought

    @property
    def invalid(self) -> int:
        return len({e.split(": ", 1)[0] for e in self.errors})


# --- names --------------------------------------------------------------------------------------


def name_rows(rec: RecordIn) -> list[dict[str, Any]]:
    """The person's names as rows: the primary (parts as given, else parsed) then the alternates."""
    from kinlink.names import detect_script, parse_name

    rows = []
    for position, written in enumerate([rec.full_name, *rec.alternate_names]):
        parsed = parse_name(written)
        given_parts = position == 0 and (rec.family_name or rec.given_names or rec.patronymic)
        rows.append(
            dict(
                position=position,
                full_name=written,
                family_name=rec.family_name if given_parts else parsed.family,
                given_names=rec.given_names if given_parts else (" ".join(parsed.given) or None),
                patronymic=rec.patronymic if given_parts else parsed.patronymic,
                script=detect_script(written),
                language=(rec.name_language if position == 0 else None) or parsed.language,
            )
        )
    return rows


def _status(events: list[EventIn]) -> tuple[str | None, str | None]:
    return current_status(DatedEvent(e.kind, e.date, i) for i, e in enumerate(events))


# --- import -------------------------------------------------------------------------------------


def validate_file(
    path: Path, fmt: str, today: date | None = None
) -> Iterator[tuple[int, RecordIn | list[RowError]]]:
    """Every row checked, including record ids repeated within the file."""
    first_seen: dict[str, int] = {}
    for line, row in read_rows(path, fmt):
        if isinstance(row, RowFormatError):
            yield line, [RowError(line, row.column, row.reason)]
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
        yield line, result


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
) -> ImportReport:
    """Import a registrar's file, idempotently by (source, record_id).

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
    fmt = detect_format(path, fmt)
    report = ImportReport(file=str(path), source=source)
    good = 0
    try:
        with unit_of_work(engine) as session:
            audit = AuditLog(session, actor)
            audit.lock()  # first: concurrent imports then run one after the other
            src = get_or_create_source(session, source, kind, audit)
            before = session.scalar(select(func.count(Person.id))) or 0
            run = ImportRun(source_id=src.id, file_name=path.name, sha256=sha256_file(path), actor=actor)
            session.add(run)
            chunk: list[RecordIn] = []
            for _line, result in validate_file(path, fmt, today):
                if isinstance(result, list):
                    report.errors.extend(e.render(path.name) for e in result)
                    continue
                good += 1
                if report.errors and not skip_invalid:
                    continue  # only checking from here on: nothing of this file is written
                chunk.append(result)
                if len(chunk) >= CHUNK:
                    _write_chunk(session, src, chunk, report, audit)
                    audit.flush()
                    if progress:
                        progress(len(chunk))
                    chunk = []
            report.rows = good + report.invalid
            if report.errors and not skip_invalid:
                raise _Refused
            if chunk:
                _write_chunk(session, src, chunk, report, audit)
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
        updated = set(report.updated_ids)
        report.matched = match_imported(engine, actor, report.changed_ids, matching, updated=updated)
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


def _write_chunk(
    session: Session, src: Source, chunk: list[RecordIn], report: ImportReport, audit: AuditLog
) -> None:
    erased = set(
        session.scalars(
            select(Tombstone.key).where(
                Tombstone.entity == "person",
                Tombstone.source == src.name,
                Tombstone.key.in_([c.record_id for c in chunk]),
            )
        )
    )
    if erased:
        report.erased += len(erased)
        chunk = [c for c in chunk if c.record_id not in erased]
    existing = {
        r.source_record_id: (r.id, r.content_hash)
        for r in session.execute(
            select(Person.id, Person.source_record_id, Person.content_hash).where(
                Person.source_id == src.id, Person.source_record_id.in_([c.record_id for c in chunk])
            )
        )
    }
    new = [c for c in chunk if c.record_id not in existing]
    for rec in chunk:
        if rec.record_id not in existing:
            continue
        pid, old_hash = existing[rec.record_id]
        if old_hash == rec.content_hash():
            report.unchanged += 1
        elif update_person(session, pid, src, rec, audit):
            report.updated += 1
            report.changed_ids.append(pid)
            report.updated_ids.append(pid)
        else:
            report.unchanged += 1
    if new:
        report.changed_ids.extend(insert_records(session, src, new, audit))
        report.created += len(new)


def insert_records(session: Session, src: Source, recs: list[RecordIn], audit: AuditLog) -> list[int]:
    """New records in bulk: a few multi-row INSERTs per chunk instead of one ORM object graph each."""
    now = utcnow()
    person_rows = []
    for rec in recs:
        status, status_date = _status(rec.events)
        person_rows.append(
            dict(
                source_id=src.id,
                source_record_id=rec.record_id,
                **rec.person_fields(),
                status=status,
                status_date=status_date,
                content_hash=rec.content_hash(),
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    # Ids matched back by record id, not by parameter order: ordered RETURNING makes SQLAlchemy send SQLite
    # one INSERT a row, unordered it batches hundreds (record ids are unique within a chunk of a source).
    by_record_id = dict(
        (srid, pid)
        for pid, srid in session.execute(
            insert(Person).returning(Person.id, Person.source_record_id), person_rows
        )
    )
    ids = [by_record_id[rec.record_id] for rec in recs]
    names, events = [], []
    for pid, rec in zip(ids, recs, strict=True):
        names.extend(dict(person_id=pid, **n) for n in name_rows(rec))
        events.extend(
            dict(
                person_id=pid,
                kind=e.kind,
                date=e.date,
                place=e.place,
                note=e.note,
                source_id=src.id,
                created_at=now,
            )
            for e in rec.events
        )
        audit.add("create", "person", pid, {"source": src.name, "record_id": rec.record_id})
    session.execute(insert(PersonName), names)
    if events:
        session.execute(insert(Event), events)
    return ids


def update_person(session: Session, pid: int, src: Source, rec: RecordIn, audit: AuditLog) -> bool:
    """Apply a changed row: fields and names replaced, new events added. True if anything changed."""
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
    known = {(e.kind, e.date or "", e.place or "") for e in person.events}
    added = [e for e in rec.events if e.key() not in known]
    for e in added:
        person.events.append(Event(kind=e.kind, date=e.date, place=e.place, note=e.note, source_id=src.id))
    if added:
        changes["events_added"] = [[e.kind, e.date, e.place] for e in added]
    person.content_hash = rec.content_hash()
    if not changes:
        return False
    history = [EventIn(e.kind, e.date, e.place) for e in person.events]
    person.status, person.status_date = _status(history)
    person.updated_at = utcnow()
    session.flush()
    audit.add("update", "person", pid, changes)
    return True
