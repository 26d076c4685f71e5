"""The registry's writers of person records, which an import and every other write go through: new records
in bulk, a changed record updated, each with its audit entry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, repeat
from operator import itemgetter, or_
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kinlink.names import detect_script, parse_name
from kinlink.names.parse import _SHAPES
from kinlink.names.parse import name_language as name_language_of
from kinlink.names.parts import PartFacts, joined_language, joined_script, part_facts
from kinlink.names.script import SCRIPT_OF_FLAGS
from kinlink.person.chunk import FIELD_INDEX, Record, record_of, record_tuple
from kinlink.person.confirmation import default_level
from kinlink.person.fields import PERSON_FIELDS, EventIn, RecordIn, event_key
from kinlink.person.status import status_of
from kinlink.registry.import_report import ImportReport
from kinlink.registry.known import SourceRecords
from kinlink.store import bulk
from kinlink.store.audit import AuditLog
from kinlink.store.models import Event, Person, PersonName, Source, fold_name, utcnow

# --- names --------------------------------------------------------------------------------------


def name_rows(rec: RecordIn) -> list[dict[str, Any]]:
    """The person's names as rows: the primary (parts as given, else parsed) then the alternates."""
    return [dict(zip(_NAME_KEYS, values, strict=True)) for values in name_values(rec)]


def name_values(rec: RecordIn) -> list[tuple[Any, ...]]:
    """`name_rows` as tuples in the order of _NAME_KEYS: what the bulk writer sends, without a dict a name."""
    r = rec
    return _names_of(
        r.full_name, r.family_name, r.given_names, r.patronymic, r.name_language, r.alternate_names
    )


def _names_of(
    full_name: str,
    family_name: str | None,
    given_names: str | None,
    patronymic: str | None,
    name_language: str | None,
    alternate_names: Iterable[str],
) -> list[tuple[Any, ...]]:
    """`name_values` of a record's name fields (a record's tuple gives them without a RecordIn)."""
    rows = []
    for position, written in enumerate([full_name, *alternate_names]):
        given_parts = position == 0 and (family_name or given_names or patronymic)
        if given_parts and name_language:  # parts and language as given: nothing to parse (issue 19)
            family, given, patronymic_, language = family_name, given_names, patronymic, name_language
        elif given_parts:  # parts as given: a name is parsed only for its language
            family, given, patronymic_ = family_name, given_names, patronymic
            language = name_language_of(written)  # parse_name(written).language, with less work
        else:
            parsed = parse_name(written)
            family, given, patronymic_ = parsed.family, " ".join(parsed.given) or None, parsed.patronymic
            language = (name_language if position == 0 else None) or parsed.language
        rows.append((position, written, family, given, patronymic_, detect_script(written), language))
    return rows


_NAME_KEYS = ("position", "full_name", "family_name", "given_names", "patronymic", "script", "language")


def _joined_name(
    full_name: str,
    family_name: str | None,
    given_names: str | None,
    patronymic: str | None,
    name_language: str | None,
    alternate_names: Iterable[str],
) -> tuple[Any, ...] | None:
    """A record's one name row (with its folded form first) when its full name is its parts joined (as the
    check joins them where a row gives no full name) and it has no alternates, from facts of each distinct
    part (`kinlink.names.parts`); None for any other record (`_names_of` then). Nearly every row of a
    registry whose names come in parts, each new, of parts that repeat (issue 19)."""
    if alternate_names:
        return None
    if family_name and given_names and patronymic:
        if full_name != f"{family_name} {given_names} {patronymic}":
            return None
        f, g, p = _part(family_name), _part(given_names), _part(patronymic)
        folded = " ".join(filter(None, (f[0], g[0], p[0])))
        script = joined_script(f[1], g[1], p[1])
        language = name_language or joined_language(full_name, f[1], g[1], p[1])
    else:
        given_parts = [x for x in (family_name, given_names, patronymic) if x]
        if not given_parts or full_name != " ".join(given_parts):
            return None
        facts = [_part(x) for x in given_parts]
        folded = " ".join(filter(None, [x[0] for x in facts]))
        script = joined_script(*(x[1] for x in facts))
        language = name_language or name_language_of(full_name)
    return folded, 0, full_name, family_name, given_names, patronymic, script, language


def _joined_names(ids: list[int], fields: list[Sequence[Any]]) -> list[Sequence[Any]] | None:
    """The chunk's name rows by column (_NAME_COLUMNS), each record's one row as `_joined_name` gives it, when
    every record's full name is its three parts joined and none has alternates (a registry's rows that give
    names in parts); else None. A column at a time: each part's folded form and facts looked up in C, the
    rest zipped (issue 19)."""
    full, family, given, patronymic, language, alternates = fields
    n = len(ids)
    if alternates.count(()) != n or any(None in c or "" in c for c in (family, given, patronymic)):
        return None
    if list(full) != list(map(" ".join, zip(family, given, patronymic, strict=True))):
        return None
    found = [_parts_of(c) for c in (family, given, patronymic)]
    folded_parts = [list(map(itemgetter(0), c)) for c in found]
    facts = [list(map(itemgetter(1), c)) for c in found]
    if any("" in c for c in folded_parts):  # a part with nothing left once folded: left out of the join
        folded = list(map(" ".join, map(filter, repeat(None), zip(*folded_parts, strict=True))))
    else:
        folded = list(map(" ".join, zip(*folded_parts, strict=True)))
    flags = (list(map(itemgetter(0), c)) for c in facts)
    scripts = list(
        map(SCRIPT_OF_FLAGS.__getitem__, map(or_, map(or_, next(flags), next(flags)), next(flags)))
    )
    if None in language or "" in language:
        # joined_language's: the shape of the name's three words' facts, else name_language of the name
        keys = zip(
            map(itemgetter(1), facts[0]),
            map(itemgetter(2), facts[1]),
            map(itemgetter(2), facts[2]),
            strict=True,
        )
        shapes = list(map(_SHAPES.get, keys))
        language = [
            given_language or (shape[1] if shape is not None else name_language_of(written))
            for given_language, shape, written in zip(language, shapes, full, strict=True)
        ]
    return [ids, folded, [0] * n, full, family, given, patronymic, scripts, language]


def _parts_of(column: Sequence[str]) -> list[tuple[str, PartFacts]]:
    """`_part` of each part of a column: the cached ones looked up in C."""
    found = list(map(_parts.get, column))
    if None in found:
        found = [hit if hit is not None else _part(part) for hit, part in zip(found, column, strict=True)]
    return found


# A part's folded form (`fold_name`) and its facts (`part_facts`), once per distinct part: the one cache of
# both. `fold_name` of parts joined by spaces is their folded forms joined, the empty ones left out: NFKC,
# case folding and the runs of spaces are each a character's own business, and a space stops any
# composition across it.
_parts: dict[str, tuple[str, PartFacts]] = {}
_PARTS_BOUND = 1 << 17


def _part(part: str) -> tuple[str, PartFacts]:
    found = _parts.get(part)
    if found is None:
        if len(_parts) >= _PARTS_BOUND:
            _parts.clear()
        found = _parts[part] = (fold_name(part), part_facts(part))
    return found


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


class NewRecords:
    """Checked rows by column (a record's fields in the order of RECORD_FIELDS, `kinlink.person.chunk`), with
    their rows' hashes: an import's batch of new records, written without a tuple a record (issue 19)."""

    __slots__ = ("columns", "digests")

    def __init__(self, columns: list[list[Any]], digests: list[str]) -> None:
        self.columns, self.digests = columns, digests

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
            report.changed_ids.extend(_insert_columns(session, src, chunk.columns, audit, chunk.digests))
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
    session: Session, src: Source, columns: list[Sequence[Any]], audit: AuditLog, digests: list[str]
) -> list[int]:
    """`insert_rows` of records by column, in the order of RECORD_FIELDS."""
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
    by_history: dict[int, tuple[tuple[str | None, str | None], list[tuple[Any, ...]]]] = {}
    for history in histories:
        if id(history) not in by_history:
            by_history[id(history)] = (
                _status_of_history(history),
                [
                    (e.kind, e.date, e.place, e.note, sid, e.confirmation or level, e.author, e.ref, now)
                    for e in history
                ],
            )
    found = list(map(by_history.__getitem__, map(id, histories)))
    statuses = list(map(itemgetter(0), found))
    # A person's row in the order of _PERSON_COLUMNS, by column: the chunk's own columns, no tuple a row.
    person_columns = [
        ids,
        [sid] * n,
        columns[_RECORD_ID],
        *(columns[i] for i in _PERSON_INDEXES),
        *zip(*statuses, strict=True),
        digests,
        [1] * n,
        [now] * n,
        [now] * n,
    ]
    name_fields = zip(ids, *(columns[i] for i in _NAME_FIELDS), strict=True)
    name_columns = None if bulk.copies(conn) else _joined_names(ids, [columns[i] for i in _NAME_FIELDS])
    if bulk.copies(conn):

        def person_rows() -> Iterator[tuple[Any, ...]]:
            # Each record's names are built once its person row is handed over: the server inserts the
            # rows COPY has sent meanwhile, instead of after every name is parsed (issue 19).
            for person, fields in zip(zip(*person_columns, strict=True), name_fields, strict=True):
                yield person
                _add_names(names, *fields)

        bulk.write_values(conn, _PERSONS, _PERSON_COLUMNS, person_rows())
    else:  # SQLite: a column that no row fills is left out before any row is built (`bulk.write_columns`)
        if name_columns is None:
            for fields in name_fields:
                _add_names(names, *fields)
        bulk.write_columns(conn, _PERSONS, _PERSON_COLUMNS, person_columns)
    # Each person's event rows, its id then a history's row, joined in C.
    rows_of = list(map(itemgetter(1), found))
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
        bulk.write_columns(conn, PersonName.__table__, _NAME_COLUMNS, name_columns)
    else:
        bulk.write_values(conn, PersonName.__table__, _NAME_COLUMNS, names)
    if bulk.copies(conn):
        bulk.write_values(
            conn, Event.__table__, _EVENT_COLUMNS, map(tuple.__add__, zip(event_pids), event_rows)
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


_RECORD_ID = FIELD_INDEX["record_id"]
_EVENTS = FIELD_INDEX["events"]


def _record_id_of(item: tuple[Record, str | None]) -> str:
    return item[0][_RECORD_ID]  # type: ignore[no-any-return]


def _add_names(
    names: list[tuple[Any, ...]],
    pid: int,
    full_name: str,
    family_name: str | None,
    given_names: str | None,
    patronymic: str | None,
    name_language: str | None,
    alternate_names: Iterable[str],
) -> None:
    """A person's name rows appended to `names`, from its record's name fields (_NAME_FIELDS)."""
    fields = (full_name, family_name, given_names, patronymic, name_language, alternate_names)
    joined = _joined_name(*fields)
    if joined is not None:
        names.append((pid, *joined))
    else:
        for n in _names_of(*fields):
            names.append((pid, fold_name(n[1]), *n))


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
_NAME_COLUMNS = ("person_id", "folded", *_NAME_KEYS)
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
