"""One record at a time, as the registrar's web form and the REST API write them.

Every change goes through the registry's own row validation (`validate_row`) and its writers, so that a
record entered on the web obeys exactly the rules of an imported file and leaves the same audit entries.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
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


@dataclass
class SearchHit:
    person: Person
    probability: float | None  # from the matcher; None for a plain text match


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
    q = (query or "").strip()
    base = select(Person).join(Source).order_by(Person.id)  # lists show no other names: not loaded
    if status:
        base = base.where(Person.status == status)
    if source_kind:
        base = base.where(Source.kind == source_kind)
    if not q:
        return [SearchHit(p, None) for p in session.scalars(base.limit(limit).offset(offset))]

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
    exact = session.scalars(
        select(Person.id).where(or_(Person.source_record_id == q, Person.service_number == q)).limit(limit)
    ).all()
    text_ids: list[int] = []
    if len(hits) + len(exact) < limit:
        # Names that begin with the text (case and spacing folded): one range of the folded-name index.
        folded = fold_name(q)
        text_ids = list(
            session.scalars(
                select(PersonName.person_id)
                .where(PersonName.folded >= folded, PersonName.folded < folded + "\U0010ffff")
                .distinct()
                .limit(limit)
            )
        )
    for pid in [*exact, *text_ids]:
        hits.setdefault(pid, None)
    if not hits:
        return []
    people = {p.id: p for p in session.scalars(base.where(Person.id.in_(list(hits))))}
    ordered = sorted((pid for pid in hits if pid in people), key=lambda pid: (-(hits[pid] or 0.0), pid))
    return [SearchHit(people[pid], hits[pid]) for pid in ordered[offset : offset + limit]]
