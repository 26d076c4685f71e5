"""The registry's writers of person records, which an import and every other write go through: new records
in bulk, a changed record updated, each with its audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kinlink.person.chunk import FIELD_INDEX, Record, record_of, record_tuple
from kinlink.person.confirmation import default_level
from kinlink.person.fields import PERSON_FIELDS, EventIn, RecordIn, event_key
from kinlink.person.status import status_of
from kinlink.registry.import_report import ImportReport
from kinlink.registry.known import SourceRecords
from kinlink.registry.record_names import (
    NAME_KEYS,
    JoinedAhead,
    Learned,
    add_names,
    joined_ahead,
    joined_names,
    name_rows,
    names_of_joined,
)
from kinlink.store import bulk
from kinlink.store.audit import AuditLog
from kinlink.store.models import Event, Person, PersonName, Source, utcnow


def _status(events: list[EventIn]) -> tuple[str | None, str | None]:
    return status_of([(e.kind, e.date) for e in events])


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
    write_chunk(session, src, [(record_tuple(r), r.content_hash()) for r in recs], report, audit)


class WorkedAhead(NamedTuple):
    """A batch of new records' per-row work that needs no database, done by the process that checked them
    (`kinlink.registry.checking_process`) while this one writes the batch before: each record's history
    status and date, and its name row's own columns where `joined_names` gives them (else None). The same
    functions as `_insert_columns` would run, so the same values (issue 19)."""

    statuses: list[str | None]
    status_dates: list[str | None]
    names: JoinedAhead | None


def worked_ahead(columns: list[list[Any]]) -> tuple[Learned, WorkedAhead]:
    """`WorkedAhead` of records by column (in the order of RECORD_FIELDS), with what the names' caches
    learned on the way (`record_names.joined_ahead`) for the importer's chunks that are not taken as is."""
    learned, names = joined_ahead([columns[i] for i in _NAME_FIELDS])
    statuses, status_dates = _status_columns(columns[_EVENTS])
    return learned, WorkedAhead(list(statuses), list(status_dates), names)


class NewRecords:
    """Checked rows by column (a record's fields in the order of RECORD_FIELDS, `kinlink.person.chunk`), with
    their rows' hashes: an import's batch of new records, written without a tuple a record (issue 19).
    ahead: their work done by the process that checked them, if any."""

    __slots__ = ("ahead", "columns", "digests")

    def __init__(
        self, columns: list[list[Any]], digests: list[str], ahead: WorkedAhead | None = None
    ) -> None:
        self.columns, self.digests, self.ahead = columns, digests, ahead

    def __len__(self) -> int:
        return len(self.digests)


def write_chunk(
    session: Session,
    src: Source,
    chunk: list[tuple[Record, str | None]] | NewRecords,
    report: ImportReport,
    audit: AuditLog,
    known: SourceRecords | None = None,
) -> None:
    """Write checked rows (records as tuples, `kinlink.person.chunk`, with their rows' hashes, or by column):
    new records inserted, changed ones updated. known: the source's records as the import looks them up
    (else looked up here, for one batch of records)."""
    known = known or SourceRecords(session, src, distinct_ids=False)
    if isinstance(chunk, NewRecords):
        ids = list(chunk.columns[_RECORD_ID])
        if not known.erased(ids) and not known.existing(ids):  # (a first import's every chunk)
            report.changed_ids.extend(
                _insert_columns(session, src, chunk.columns, audit, chunk.digests, chunk.ahead)
            )
            report.created += len(chunk)
            return
        chunk = list(zip(zip(*chunk.columns, strict=True), chunk.digests, strict=True))
    record_ids = list(map(_record_id_of, chunk))
    erased = known.erased(record_ids)
    if erased:
        report.erased += len(erased)
        chunk = [(c, d) for c, d in chunk if c[_RECORD_ID] not in erased]
        record_ids = list(map(_record_id_of, chunk))
    existing = known.existing(record_ids)
    if not existing:  # a first import's every row: the chunk's records and hashes taken apart in C
        if chunk:
            recs, digests = map(list, zip(*chunk, strict=True))
            report.changed_ids.extend(insert_rows(session, src, recs, audit, digests))
            report.created += len(chunk)
        return
    new = [(c, d) for c, d in chunk if c[_RECORD_ID] not in existing]
    for rec, digest in chunk:
        if rec[_RECORD_ID] not in existing:
            continue
        pid, old_hash = existing[rec[_RECORD_ID]]
        if old_hash == digest:
            report.unchanged += 1
        elif update_person(session, pid, src, record_of(rec), audit, digest):
            report.updated += 1
            report.changed_ids.append(pid)
            report.updated_ids.append(pid)
        else:
            report.unchanged += 1  # the same record in other words (a row written otherwise, an old hash)
    if new:
        recs = [c for c, _d in new]
        report.changed_ids.extend(insert_rows(session, src, recs, audit, [d for _c, d in new]))
        report.created += len(new)


def insert_records(
    session: Session,
    src: Source,
    recs: list[RecordIn],
    audit: AuditLog,
    digests: list[str | None] | None = None,
) -> list[int]:
    """New records in bulk (`insert_rows`). digests: the hashes of the rows they come from (`row_hash`),
    else each record's own (`content_hash`)."""
    hashes = [d or r.content_hash() for d, r in zip(digests or [None] * len(recs), recs, strict=True)]
    return insert_rows(session, src, [record_tuple(r) for r in recs], audit, hashes)


def insert_rows(
    session: Session, src: Source, recs: list[Record], audit: AuditLog, digests: list[str | None]
) -> list[int]:
    """New records, as tuples (`kinlink.person.chunk`), in bulk (`kinlink.store.bulk`: COPY on PostgreSQL,
    the driver's executemany on SQLite), never through the ORM, whose bookkeeping a row cost more than the
    database's own work (issue 19). digests: the hashes stored with them."""
    if not recs:
        return []
    if None in digests:
        digests = [d or record_of(r).content_hash() for d, r in zip(digests, recs, strict=True)]
    return _insert_columns(session, src, list(zip(*recs, strict=True)), audit, digests)  # type: ignore[arg-type]


def _insert_columns(
    session: Session,
    src: Source,
    columns: list[Sequence[Any]],
    audit: AuditLog,
    digests: list[str],
    ahead: WorkedAhead | None = None,
) -> list[int]:
    """`insert_rows` of records by column, in the order of RECORD_FIELDS. ahead: their statuses and names'
    columns worked out by another process (`worked_ahead`), else worked out here."""
    audit.lock()  # before ids are drawn (kinlink.store.bulk.next_ids): a no-op when the caller took it
    now = utcnow()
    conn = session.connection()
    n = len(digests)
    ids = bulk.next_ids(conn, _PERSONS, n)
    names: list[tuple[Any, ...]] = []
    level = default_level(src.kind)
    sid = src.id

    # A history's status and event rows are worked out once per distinct history: the column check's records
    # share them (`kinlink.person.chunk`), and `recs` holds each, so no id is another's.
    histories = columns[_EVENTS]
    by_history: dict[int, list[tuple[Any, ...]]] = {}
    for history in histories:
        if id(history) not in by_history:
            by_history[id(history)] = [
                (e.kind, e.date, e.place, e.note, sid, e.confirmation or level, e.author, e.ref, now)
                for e in history
            ]
    rows_of = list(map(by_history.__getitem__, map(id, histories)))
    if ahead is not None:
        status_columns: Sequence[Sequence[Any]] = (ahead.statuses, ahead.status_dates)
    else:
        status_columns = _status_columns(histories)
    # A person's row in the order of _PERSON_COLUMNS, by column: the chunk's own columns, no tuple a row.
    person_columns = [
        ids,
        [sid] * n,
        columns[_RECORD_ID],
        *(columns[i] for i in _PERSON_INDEXES),
        *status_columns,
        digests,
        [1] * n,
        [now] * n,
        [now] * n,
    ]
    # The chunk's names by column where every record's name is its parts joined (a registry's rows), else a
    # record at a time, on both stores: on PostgreSQL they were built a record at a time while COPY sent its
    # person row, twice the CPU of the column way (44 -> 22 ms for 20,000 records, warm; issue 19). The
    # persons by column (`bulk.write_columns`; on SQLite a column that no row fills is left out first).
    name_fields = [columns[i] for i in _NAME_FIELDS]
    if ahead is not None and ahead.names is not None:
        name_columns: list[Sequence[Any]] | None = names_of_joined(ids, name_fields, ahead.names)
    else:
        name_columns = joined_names(ids, name_fields)
    if name_columns is None:
        for fields in zip(ids, *(columns[i] for i in _NAME_FIELDS), strict=True):
            add_names(names, *fields)
    bulk.write_columns(conn, _PERSONS, _PERSON_COLUMNS, person_columns, typed=True)
    # Each person's event rows, its id then a history's row, joined in C.
    event_pids = list(chain.from_iterable(map(repeat, ids, map(len, rows_of))))
    event_rows = list(chain.from_iterable(rows_of))
    audit.add_many(
        "create",
        "person",
        (
            (pid, {"source": src.name, "record_id": rid})
            for pid, rid in zip(ids, columns[_RECORD_ID], strict=True)
        ),
    )
    if name_columns is not None:
        bulk.write_columns(conn, PersonName.__table__, _NAME_COLUMNS, name_columns, typed=True)
    else:
        bulk.write_values(conn, PersonName.__table__, _NAME_COLUMNS, names, typed=True)
    if bulk.copies(conn):
        bulk.write_values(
            conn, Event.__table__, _EVENT_COLUMNS, map(tuple.__add__, zip(event_pids), event_rows), typed=True
        )
    else:
        bulk.write_columns(
            conn, Event.__table__, _EVENT_COLUMNS, [event_pids, *zip(*event_rows, strict=True)]
        )
    return ids


# A history's status (`status_of` of its events), once per distinct history across an import's chunks: the
# column check's records share each history object (`kinlink.person.chunk`). An entry holds its history, so
# that no other object takes its id while it lives; emptied when full.
_statuses: dict[int, tuple[Any, tuple[str | None, str | None]]] = {}
_STATUSES_BOUND = 1 << 16


def _status_of_history(history: tuple[EventIn, ...]) -> tuple[str | None, str | None]:
    hit = _statuses.get(id(history))
    if hit is None or hit[0] is not history:
        if len(_statuses) >= _STATUSES_BOUND:
            _statuses.clear()
        hit = _statuses[id(history)] = (history, status_of([(e.kind, e.date) for e in history]))
    return hit[1]


def _status_columns(histories: Sequence[tuple[EventIn, ...]]) -> tuple[Sequence[Any], Sequence[Any]]:
    """Each history's status and its date, by column: worked out once per distinct history (a chunk's
    records share them, `kinlink.person.chunk`)."""
    distinct = {id(history): history for history in histories}
    status_of_id = dict(zip(distinct, map(_status_of_history, distinct.values()), strict=True))
    found = list(map(status_of_id.__getitem__, map(id, histories)))
    return list(map(itemgetter(0), found)), list(map(itemgetter(1), found))


_RECORD_ID = FIELD_INDEX["record_id"]
_EVENTS = FIELD_INDEX["events"]


def _record_id_of(item: tuple[Record, str | None]) -> str:
    return item[0][_RECORD_ID]  # type: ignore[no-any-return]


_PERSON_INDEXES = tuple(FIELD_INDEX[f] for f in PERSON_FIELDS)
_NAME_FIELDS = tuple(
    FIELD_INDEX[f]
    for f in ("full_name", "family_name", "given_names", "patronymic", "name_language", "alternate_names")
)
_PERSONS = Person.__table__
_PERSON_COLUMNS = (
    "id",
    "source_id",
    "source_record_id",
    *PERSON_FIELDS,
    "status",
    "status_date",
    "content_hash",
    "version",
    "created_at",
    "updated_at",
)
_NAME_COLUMNS = ("person_id", "folded", *NAME_KEYS)
_EVENT_COLUMNS = (
    "person_id",
    "kind",
    "date",
    "place",
    "note",
    "source_id",
    "confirmation",
    "author",
    "ref",
    "created_at",
)


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
