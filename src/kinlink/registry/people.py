"""Reading the registry: one person, a list of persons, a person back as a registrar's row, the export.

Staff reads of personal data are audited here: one record by its id, a list by its filter, count and ids.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kinlink.errors import refuse
from kinlink.person.fields import EventIn, RecordIn, to_row
from kinlink.person.notes import note_english
from kinlink.person.status import DatedEvent, chronological, deciding_event
from kinlink.registry.files import write_rows
from kinlink.store.audit import record as audit
from kinlink.store.audit import record_read
from kinlink.store.models import Event, Person, Source


def get_person(session: Session, person_id: int) -> Person:
    """A record with its names and history (for the actions that work on it; not audited as a read)."""
    person = session.scalar(
        select(Person)
        .where(Person.id == person_id)
        .options(selectinload(Person.names), selectinload(Person.events))
    )
    if person is None:
        raise refuse("not_found", "person_id", "no record %(id)s", id=person_id)
    return person


def read_person(session: Session, actor: str, person_id: int, view: str) -> Person:
    """A staff member opens a record's details: that read is audited (who, which record, why)."""
    person = get_person(session, person_id)
    audit(session, actor, "read", "person", person.id, {"view": view})
    return person


@dataclass(frozen=True, slots=True)
class Listed:
    """A record as a list of results shows it (read as a plain row: searches are the busiest reads)."""

    id: int
    source: str  # the source's name
    source_record_id: str
    full_name: str
    sex: str | None
    birth_date: str | None
    unit: str | None
    status: str | None
    status_date: str | None

    @classmethod
    def of(cls, p: Person) -> Listed:
        """The same, from a record the ORM loaded (an API answer about one record)."""
        return cls(
            id=p.id,
            source=p.source.name,
            source_record_id=p.source_record_id,
            full_name=p.full_name,
            sex=p.sex,
            birth_date=p.birth_date,
            unit=p.unit,
            status=p.status,
            status_date=p.status_date,
        )


def read_people(
    session: Session,
    actor: str,
    view: str,
    *,
    status: str | None = None,
    source: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Person], int]:
    """A page of records and how many match in all, the read audited with its filter and ids."""
    people = list_people(session, status=status, source=source, limit=limit, offset=offset)
    total = count_people(session, status=status, source=source)
    filters = {"status": status, "source": source, "limit": limit, "offset": offset}
    record_read(session, actor, "person", [p.id for p in people], view, filters)
    return people, total


def export_registry(
    session: Session, actor: str, fmt: str, out: io.TextIOBase, source: str | None = None
) -> int:
    """Every record (of a source) in the import format, written to `out`; the export is audited."""
    n = write_rows(export_rows(session, source), fmt, out)
    audit(session, actor, "export", "registry", source, {"format": fmt, "records": n})
    return n


def list_people(
    session: Session,
    *,
    status: str | None = None,
    source: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Person]:
    q = select(Person).join(Source).options(selectinload(Person.names)).order_by(Person.id)
    if status:
        q = q.where(Person.status == status)
    if source:
        q = q.where(Source.name == source)
    if limit:
        q = q.limit(limit).offset(offset)
    return list(session.scalars(q))


def count_people(session: Session, *, status: str | None = None, source: str | None = None) -> int:
    q = select(func.count(Person.id)).join(Source)
    if status:
        q = q.where(Person.status == status)
    if source:
        q = q.where(Source.name == source)
    return session.scalar(q) or 0


MAX_ID = 2**31 - 1


def find_person(session: Session, ref: str) -> Person | None:
    """By kinlink id ('42') or by the source's own id ('source:record_id')."""
    opts = (selectinload(Person.names), selectinload(Person.events))
    if ref.isascii() and ref.isdigit():
        # A number past the ids' 32 bits names no record (and SQLite could not even compare it).
        n = int(ref)
        return None if n > MAX_ID else session.scalar(select(Person).where(Person.id == n).options(*opts))
    if ":" in ref:
        src, rid = ref.split(":", 1)
        return session.scalar(
            select(Person)
            .join(Source)
            .where(Source.name == src, Person.source_record_id == rid)
            .options(*opts)
        )
    return None


def record_of(person: Person) -> RecordIn:
    """A stored person back as the record a registrar's row would give (parts as stored)."""
    primary = person.names[0]
    fields = {k: getattr(person, k) for k in RecordIn.__dataclass_fields__ if k in Person.__table__.c}
    return RecordIn(
        **fields,
        record_id=person.source_record_id,
        family_name=primary.family_name,
        given_names=primary.given_names,
        patronymic=primary.patronymic,
        name_language=primary.language,
        alternate_names=[n.full_name for n in person.names[1:]],
        events=[
            EventIn(
                e.kind,
                e.date,
                e.place,
                e.note or note_english(e.note_message),
                e.confirmation,
                e.author,
                e.ref,
            )
            for e in person.events
        ],
    )


def every_person(session: Session, source: str | None = None) -> Iterator[Person]:
    """Every record (of a source) with its names and history, in id order, streamed (for exports)."""
    q = (
        select(Person)
        .join(Source)
        .options(selectinload(Person.names), selectinload(Person.events))
        .order_by(Person.id)
    )
    if source:
        q = q.where(Source.name == source)
    yield from session.scalars(q.execution_options(yield_per=1000))


def export_rows(session: Session, source: str | None = None) -> Iterator[dict[str, Any]]:
    for person in every_person(session, source):
        yield to_row(record_of(person))


def read_person_ref(session: Session, actor: str, ref: str, view: str) -> Person:
    """A record by its kinlink id ('42') or its source's own id ('source:record_id'); the read audited."""
    person = find_person(session, ref)
    if person is None:
        raise refuse(
            "not_found", "ref", "no record '%(ref)s': give a kinlink id or source:record_id", ref=ref
        )
    audit(session, actor, "read", "person", person.id, {"view": view})
    return person


def history_in_order(person: Person) -> list[Event]:
    """The history by date, as the status is derived from it (undated events where they were recorded)."""
    rows = list(person.events)
    return [rows[d.order] for d in chronological(DatedEvent(e.kind, e.date, i) for i, e in enumerate(rows))]


def status_event(person: Person) -> Event | None:
    """The event the person's current status comes from."""
    rows = list(person.events)
    found = deciding_event(DatedEvent(e.kind, e.date, i) for i, e in enumerate(rows))
    return None if found is None else rows[found.order]
