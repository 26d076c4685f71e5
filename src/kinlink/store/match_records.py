"""Records and requests as the matcher sees them (`MatchRecord`), read from the database in few statements.

Every matching path (a search, continuous matching, the batch, the key table) reads records here, so that
they all see the same fields.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Dialect,
    Select,
    String,
    TypeDecorator,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kinlink.matching.record import MatchRecord
from kinlink.store.driver import read_rows
from kinlink.store.models import Event, Person, PersonName, Source
from kinlink.store.tracing_models import TracingRequest

IDS_PER_QUERY = 500  # ids in one IN (...) list


def person_records(
    session: Session, ids: Iterable[int] | None = None, chunk: int = 5000
) -> Iterator[MatchRecord]:
    """Records as the matcher sees them; all of them (in id order) when ids is None."""
    if ids is not None:
        id_list = sorted(set(ids))
        for i in range(0, len(id_list), IDS_PER_QUERY):
            yield from _load_persons(session, id_list[i : i + IDS_PER_QUERY])
        return
    last = 0
    while True:
        page = list(
            session.scalars(select(Person.id).where(Person.id > last).order_by(Person.id).limit(chunk))
        )
        if not page:
            return
        yield from _load_persons(session, page)
        last = page[-1]


class _JsonList(TypeDecorator[list[Any]]):
    """A list bound as one JSON text, for SQLite's json_each."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(list(value))


def among(column: Any, name: str, array: bool) -> ColumnElement[bool]:
    """`column` is one of the list given as parameter `name`: with `array` (PostgreSQL), = ANY(one array
    parameter); else (SQLite) IN the values of one JSON text (json_each). An IN list of each length was a
    statement text of its own: PostgreSQL parsed and planned it at every run, SQLite prepared it again
    whenever its statement cache had let it go, and SQLAlchemy expanded the list into a parameter per item
    at every run (on SQLite a tenth of its time in a search). One text and one parameter, the same rows
    (issue 19)."""
    if array:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(name, type_=_JsonList())).table_valued("value")
    return column.in_(select(listed.c.value))


def for_dialect(conn: Connection, forms: tuple[Select[Any], Select[Any]]) -> Select[Any]:
    """Of a statement's (IN list, array) forms (`among`), the one for this connection's database."""
    return forms[conn.dialect.name == "postgresql"]


def _names_and_captures(array: bool) -> Select[Any]:
    # Built once: the statement, not the query, is the costly part of reading a few dozen records.
    # A record's other names and its capture events, in one statement: (person, 0, name, None) or
    # (person, 1, date, place), in order.
    return (
        select(
            PersonName.person_id.label("pid"),
            literal(0).label("what"),
            PersonName.full_name.label("a"),
            null().label("b"),
            PersonName.position.label("n"),
        )
        .where(among(PersonName.person_id, "ids", array), PersonName.position > 0)
        .union_all(
            select(Event.person_id, literal(1), Event.date, Event.place, Event.id).where(
                among(Event.person_id, "ids", array), Event.kind == "captured"
            )
        )
        .order_by("pid", "what", "n")
    )


def _records(array: bool) -> Select[Any]:
    return (
        select(
            Person.id,
            Person.full_name,
            Person.source_record_id,
            Person.sex,
            Person.birth_date,
            Person.age,
            Person.age_as_of,
            Person.place_of_birth,
            Person.unit,
            Person.rank,
            Person.service_number,
            Source.kind,
        )
        .join(Source, Source.id == Person.source_id)
        .where(among(Person.id, "ids", array))
        .order_by(Person.id)
    )


def _records_whole() -> Select[Any]:
    """PostgreSQL: `_records` with each record's other names (by position) and its first capture (the
    lowest event id), the rows `_names_and_captures` gives, as columns: one round trip, not two (issue 19).
    Each is read through its covering index (ix_person_names_other, ix_events_captures)."""
    capture = _first_capture()
    return (
        _records(True)
        .add_columns(_other_names().label("others"), capture.c.date.label("captured_on"), capture.c.place)
        .outerjoin(capture, true())
    )


def _other_names() -> Any:
    """PostgreSQL: a record's other names, by position, as one array column (a correlated subquery)."""
    return (
        select(func.array_agg(aggregate_order_by(PersonName.full_name, PersonName.position)))
        .where(PersonName.person_id == Person.id, PersonName.position > 0)
        .scalar_subquery()
    )


def _first_capture(*where: Any) -> Any:
    """PostgreSQL: a record's first capture (the lowest event id), where `where` holds, as a lateral join."""
    return (
        select(Event.date, Event.place)
        .where(Event.person_id == Person.id, Event.kind == "captured", *where)
        .order_by(Event.id)
        .limit(1)
        .lateral("capture")
    )


def _versions_and_records() -> Select[Any]:
    """PostgreSQL: the version and creation time (the prepared-record cache's key) of each of a list of
    records, and the whole record (`_records_whole`'s columns) of those not in the list `known`: one
    statement where the versions, then the records the cache lacked, were two, each looking every record
    up by its id again (issue 19). A known record's other names and capture are not read (NULLs)."""
    unknown = ~(Person.id == any_(bindparam("known", type_=ARRAY(Person.id.type))))
    capture = _first_capture(unknown)
    return (
        _records(True)
        .add_columns(
            Person.version,
            cast(Person.created_at, String).label("created"),
            unknown.label("whole"),
            case((unknown, _other_names())).label("others"),
            capture.c.date.label("captured_on"),
            capture.c.place,
        )
        .outerjoin(capture, true())
    )


def _versions_and_names(array: bool) -> Select[Any]:
    """The version and creation time (the prepared-record cache's key) and the primary name of each of a
    list of records, with a row more for each other name (by position) of those not in the list `known`:
    all a search bounds a candidate by (its names), read where the versions alone were (issue 19)."""
    other = and_(
        PersonName.person_id == Person.id, PersonName.position > 0, ~among(Person.id, "known", array)
    )
    return (
        select(
            Person.id,
            Person.version,
            cast(Person.created_at, String),
            Person.full_name,
            PersonName.full_name.label("other"),
        )
        .outerjoin(PersonName, other)
        .where(among(Person.id, "ids", array))
        .order_by(Person.id, PersonName.position)
    )


_VERSIONS_AND_NAMES = (_versions_and_names(False), _versions_and_names(True))
_NAMES_AND_CAPTURES = (_names_and_captures(False), _names_and_captures(True))
_RECORDS = (_records(False), _records(True))
_RECORDS_WHOLE = _records_whole()
_VERSIONS_AND_RECORDS = _versions_and_records()


def versions_and_records(
    conn: Connection, ids: list[int], known: list[int]
) -> list[tuple[int, int, str, MatchRecord | None]]:
    """PostgreSQL: (id, version, created, the record or None) of each of these records that exists, in id
    order; the record read whole only for an id not in `known` (`_versions_and_records`)."""
    out: list[tuple[int, int, str, MatchRecord | None]] = []
    for r in conn.execute(_VERSIONS_AND_RECORDS, {"ids": ids, "known": known}).all():
        rec = _match_record(r, r.others or [], (r.captured_on, r.place)) if r.whole else None
        out.append((r.id, r.version, r.created, rec))
    return out


def versions_and_names(
    conn: Connection, ids: list[int], known: list[int]
) -> list[tuple[int, int, str, tuple[str, ...] | None]]:
    """(id, version, created, names) of each of these records that exists, in id order: its names as a
    record read whole gives them (`MatchRecord.all_names`) for an id not in `known`, else None."""
    out: list[tuple[int, int, str, tuple[str, ...] | None]] = []
    skip = set(known)
    rows = read_rows(conn, for_dialect(conn, _VERSIONS_AND_NAMES), {"ids": ids, "known": known})
    at = 0
    while at < len(rows):
        pid, version, created, name, _other = rows[at]
        end = at + 1
        while end < len(rows) and rows[end][0] == pid:
            end += 1
        if pid in skip:
            names = None
        else:  # as _match_record: the other names but those written as the primary
            names = (name, *(r[4] for r in rows[at:end] if r[4] is not None and r[4] != name))
        out.append((pid, version, created, names))
        at = end
    return out


def reader(session: Session) -> Connection:
    """The session's connection, for plain reads: a fraction of the ORM's cost per statement. What the
    session holds unwritten is written first, as autoflush would."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection()


def _load_persons(session: Session, ids: list[int]) -> list[MatchRecord]:
    """The records of these ids (those that exist), in id order."""
    if not ids:
        return []
    params = {"ids": ids}
    conn = reader(session)
    other: dict[int, list[str]] = defaultdict(list)
    captured: dict[int, tuple[str | None, str | None]] = {}
    if conn.dialect.name == "postgresql":  # the names and captures as columns of the records' rows
        rows = conn.execute(_RECORDS_WHOLE, params).all()
        for r in rows:
            other[r.id] = r.others or []
            captured[r.id] = (r.captured_on, r.place)  # (None, None) without a capture, as below
    else:
        # Fetched whole (one call), not row by row: a search reads a few hundred rows in all.
        for pid, what, a, b, _n in conn.execute(for_dialect(conn, _NAMES_AND_CAPTURES), params).all():
            if what == 0:
                other[pid].append(a)
            else:
                captured.setdefault(pid, (a, b))
        rows = conn.execute(for_dialect(conn, _RECORDS), params).all()
    return [_match_record(r, other.get(r.id, ()), captured.get(r.id, (None, None))) for r in rows]


def _match_record(r: Any, other: Iterable[str], cap: tuple[str | None, str | None]) -> MatchRecord:
    """A record as the matcher sees it, of a `_records` row, its other names and its first capture."""
    return MatchRecord(
        id=r.id,
        name=r.full_name,
        other_names=tuple(n for n in other if n != r.full_name),
        source_record_id=r.source_record_id,
        sex=r.sex,
        birth_date=r.birth_date,
        age=r.age,
        age_as_of=r.age_as_of,
        place_of_birth=r.place_of_birth,
        unit=r.unit,
        rank=r.rank,
        service_number=r.service_number,
        capture_date=cap[0],
        capture_place=cap[1],
        kind="sighting" if r.kind == "report" else "record",
    )


def request_record(req: TracingRequest) -> MatchRecord:
    """The person a tracing request seeks, as the matcher compares it."""
    return MatchRecord(
        id=req.id,
        name=req.full_name,
        other_names=tuple(req.other_names or ()),
        sex=req.sex,
        birth_date=req.birth_date,
        birth_year_to=req.birth_year_to,
        age=req.age,
        age_as_of=req.age_as_of,
        place_of_birth=req.place_of_birth,
        unit=req.unit,
        rank=req.rank,
        service_number=req.service_number,
        capture_place=req.capture_place,
        capture_date=req.capture_date,
        kind="request",
    )
