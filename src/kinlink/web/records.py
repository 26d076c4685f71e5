"""One record at a time, as the registrar's web form and the REST API write them.

Every change goes through the registry's own row validation (`validate_row`) and its writers, so that a
record entered on the web obeys exactly the rules of an imported file and leaves the same audit entries.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, literal, or_, select, union_all
from sqlalchemy.orm import Session, selectinload

from kinlink.registry import service
from kinlink.registry.audit import AuditLog
from kinlink.registry.audit import record as audit
from kinlink.registry.fields import COLUMNS, CONSENT_COLUMNS, RecordIn, RowError, to_row, validate_row
from kinlink.store.models import Person, PersonName, Source, fold_name

WEB_SOURCE = "kinlink-web"
# Columns a form or an API body may set; the history is changed through events only.
EDITABLE = tuple(c for c in COLUMNS if c not in {"record_id", "status", "status_date", "place", "events"})


class RecordError(ValueError):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(f"{e.column}: {e.reason}" for e in errors))
        self.errors = errors


class StaleRecord(ValueError):
    """The record changed since the form was opened."""


class NoRecord(LookupError):
    pass


def _validated(row: Mapping[str, Any]) -> RecordIn:
    result = validate_row(dict(row), 1)
    if isinstance(result, list):
        raise RecordError(result)
    return result


def get_person(session: Session, person_id: int) -> Person:
    person = session.scalar(
        select(Person)
        .where(Person.id == person_id)
        .options(selectinload(Person.names), selectinload(Person.events))
    )
    if person is None:
        raise NoRecord(f"no record {person_id}")
    return person


def read_person(session: Session, actor: str, person_id: int, purpose: str) -> Person:
    """A staff member opens a record's details: that read is audited (who, which record, why)."""
    person = get_person(session, person_id)
    audit(session, actor, "read", "person", person.id, {"view": purpose})
    return person


def create_record(
    session: Session,
    actor: str,
    values: Mapping[str, Any],
    *,
    source: str = WEB_SOURCE,
    source_kind: str = "registry",
) -> Person:
    row = {k: v for k, v in values.items() if k in COLUMNS}
    if not str(row.get("record_id") or "").strip():
        row["record_id"] = f"W-{secrets.token_hex(5).upper()}"
    rec = _validated(row)
    log = AuditLog(session, actor)
    log.lock()
    # The registry's own writers: the same rows, names and audit entries as an import makes.
    src = service.get_or_create_source(session, source, source_kind, log)
    taken = session.scalar(
        select(Person.id).where(Person.source_id == src.id, Person.source_record_id == rec.record_id)
    )
    if taken is not None:
        raise RecordError([RowError(1, "record_id", f"'{rec.record_id}' already exists in {source}")])
    (pid,) = service.insert_records(session, src, [rec], log)
    log.flush()
    return get_person(session, pid)


def _apply(
    session: Session, actor: str, person: Person, row: dict[str, Any], expected_version: int | None
) -> bool:
    if expected_version is not None and person.version != expected_version:
        raise StaleRecord(
            f"record {person.id} was changed by someone else (version {person.version}, "
            f"you edited version {expected_version}): reload it and edit again"
        )
    rec = _validated(row)
    log = AuditLog(session, actor)
    log.lock()
    changed = service.update_record(session, person.id, person.source, rec, log)
    log.flush()
    session.expire(person)
    return changed


def current_row(person: Person) -> dict[str, Any]:
    return to_row(service.record_of(person))


def update_record(
    session: Session, actor: str, person_id: int, values: Mapping[str, Any], expected_version: int | None
) -> bool:
    """Replace the editable fields (names, GC III fields, consent, notes); the history stays."""
    person = get_person(session, person_id)
    row = current_row(person)
    for key in EDITABLE:
        if key in values:
            row[key] = values[key]
    return _apply(session, actor, person, row, expected_version)


def add_event(
    session: Session,
    actor: str,
    person_id: int,
    kind: str,
    date: str | None = None,
    place: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> bool:
    person = get_person(session, person_id)
    row = current_row(person)
    row["events"] = [
        *row["events"],
        {k: v for k, v in {"kind": kind, "date": date, "place": place, "note": note}.items() if v},
    ]
    return _apply(session, actor, person, row, expected_version)


def set_consent(
    session: Session,
    actor: str,
    person_id: int,
    consent: Mapping[str, bool],
    expected_version: int | None = None,
) -> bool:
    """The person's consent as recorded by the registrar: each flag given replaces the stored one."""
    person = get_person(session, person_id)
    row = current_row(person)
    for key in CONSENT_COLUMNS:
        if key in consent:
            row[key] = bool(consent[key])
    return _apply(session, actor, person, row, expected_version)


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


@dataclass(frozen=True, slots=True)
class SearchHit:
    person: Listed
    probability: float | None  # from the matcher; None for a plain text match


# Statements built once (with their filters as parameters): building and caching a statement costs more
# than the indexed reads a search makes.
_LISTED = select(
    Person.id,
    Source.name,
    Person.source_record_id,
    Person.full_name,
    Person.sex,
    Person.birth_date,
    Person.unit,
    Person.status,
    Person.status_date,
).join(Source, Source.id == Person.source_id)
# By record id or service number (what = 0), and by the beginning of a name (what = 1), in one statement.
_EXACT_AND_PREFIX = union_all(
    select(
        select(Person.id.label("pid"), literal(0).label("what"))
        .where(or_(Person.source_record_id == bindparam("q"), Person.service_number == bindparam("q")))
        .limit(bindparam("lim", type_=Integer))
        .subquery()
    ),
    select(
        select(PersonName.person_id.label("pid"), literal(1).label("what"))
        .where(PersonName.folded >= bindparam("lo"), PersonName.folded < bindparam("hi"))
        .distinct()
        .limit(bindparam("lim", type_=Integer))
        .subquery()
    ),
)


@lru_cache(maxsize=8)
def _listed_stmt(by_ids: bool, by_status: bool, by_kind: bool) -> Select:  # type: ignore[type-arg]
    stmt = _LISTED
    if by_ids:
        stmt = stmt.where(Person.id.in_(bindparam("ids", expanding=True)))
    if by_status:
        stmt = stmt.where(Person.status == bindparam("status"))
    if by_kind:
        stmt = stmt.where(Source.kind == bindparam("kind"))
    stmt = stmt.order_by(Person.id)
    if not by_ids:
        stmt = stmt.limit(bindparam("lim", type_=Integer)).offset(bindparam("off", type_=Integer))
    return stmt


def search_records(
    session: Session,
    query: str | None,
    *,
    status: str | None = None,
    source_kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
    model: Any = None,
) -> list[SearchHit]:
    """Records for staff: by the matcher (any script, transliterated), by record id or service number,
    and by the beginning of a name (a record not keyed for matching yet, a name typed in part), or all.

    Every lookup is an index read: nothing here scans the registry, whatever its size.
    """
    from kinlink.tracing.matching import reader as plain_reader

    q = (query or "").strip()
    params: dict[str, Any] = {"status": status, "kind": source_kind}
    reader = plain_reader(session)

    def listed(ids: list[int] | None) -> list[Listed]:
        stmt = _listed_stmt(ids is not None, bool(status), bool(source_kind))
        extra = {"ids": ids} if ids is not None else {"lim": limit, "off": offset}
        return [Listed(*row) for row in reader.execute(stmt, {**params, **extra})]

    if not q:
        return [SearchHit(p, None) for p in listed(None)]

    from kinlink.matching.model import load_model
    from kinlink.matching.record import MatchRecord
    from kinlink.tracing.matching import search, search_scorer

    model = model or load_model()
    hits: dict[int, float | None] = {
        int(rec.id): scored.probability  # type: ignore[arg-type]
        for rec, scored in search(
            session,
            MatchRecord(id=None, name=q),
            model=model,
            limit=limit,
            scorer=search_scorer(session, model),
            min_probability=0.01,
        )
    }
    folded = fold_name(q)
    exact: list[int] = []
    text_ids: list[int] = []
    found = {"lo": folded, "hi": folded + "\U0010ffff", "q": q, "lim": limit}
    for pid, what in reader.execute(_EXACT_AND_PREFIX, found):
        (text_ids if what else exact).append(pid)
    if len(hits) + len(exact) >= limit:
        # Names that begin with the text (case and spacing folded) only fill a list the others left short.
        text_ids = []
    for pid in [*exact, *text_ids]:
        hits.setdefault(pid, None)
    if not hits:
        return []
    people = {p.id: p for p in listed(list(hits))}
    ordered = sorted((pid for pid in hits if pid in people), key=lambda pid: (-(hits[pid] or 0.0), pid))
    return [SearchHit(people[pid], hits[pid]) for pid in ordered[offset : offset + limit]]
