"""One record at a time: the actions behind the registrar's forms, the API and the CLI.

Each action checks the record with the registry's own row rules (`validate_row`, the rules of an imported
file), writes it with the registry's writers (the same rows, names and audit entries as an import), then
matches it against the open requests in a savepoint and queues the news for families who may now learn
something new. A refusal names the field; nothing of a refused write is kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.errors import Problem, Refused, invalid, refuse
from kinlink.person.fields import COLUMNS, CONSENT_COLUMNS, RecordIn, RowError, to_row, validate_row
from kinlink.registry.imports import get_or_create_source, insert_records, update_person
from kinlink.registry.people import get_person, record_of
from kinlink.store.audit import AuditLog
from kinlink.store.casework_models import Notification
from kinlink.store.models import Person
from kinlink.tracing.continuous import Matching, after_records_written
from kinlink.tracing.disclosure import record_death_decision
from kinlink.tracing.notifications import news_for_person

WEB_SOURCE = "kinlink-web"  # the source of records entered one at a time (web form, API, CLI)
HISTORY = ("status", "status_date", "place", "events")
# Columns a form or an API body may change on a record; its history changes through events only.
EDITABLE = tuple(c for c in COLUMNS if c not in {"record_id", *HISTORY})


@dataclass
class Written:
    person: Person
    changed: bool
    notifications: list[Notification]


def problems_of(errors: list[RowError]) -> Refused:
    return invalid(Problem(e.column, e.reason, e.values) for e in errors)


def _validated(row: Mapping[str, Any]) -> RecordIn:
    result = validate_row(dict(row), 1)
    if isinstance(result, list):
        raise problems_of(result)
    return result


def _unknown(values: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(set(values) - set(allowed))
    if extra:
        raise invalid(Problem(k, "is not a field that can be set here") for k in extra)


def create_record(
    session: Session,
    actor: str,
    values: Mapping[str, Any],
    *,
    matching: Matching,
    source: str = WEB_SOURCE,
    source_kind: str = "registry",
) -> Written:
    """A new record (its history from `status`/`events`); a record id is made up when none is given."""
    _unknown(values, COLUMNS)
    row = dict(values)
    if not str(row.get("record_id") or "").strip():
        row["record_id"] = f"W-{secrets.token_hex(5).upper()}"
    rec = _validated(row)
    log = AuditLog(session, actor)
    log.lock()
    src = get_or_create_source(session, source, source_kind, log)
    taken = session.scalar(
        select(Person.id).where(Person.source_id == src.id, Person.source_record_id == rec.record_id)
    )
    if taken is not None:
        raise refuse(
            "conflict", "record_id", "'%(id)s' already exists in %(source)s", id=rec.record_id, source=source
        )
    (pid,) = insert_records(session, src, [rec], log)
    log.flush()
    notes = after_records_written(session, actor, [pid], matching)
    return Written(get_person(session, pid), True, notes)


def _apply(
    session: Session,
    actor: str,
    person: Person,
    row: dict[str, Any],
    expected_version: int | None,
    matching: Matching,
    *,
    match: bool = True,
) -> Written:
    if expected_version is not None and person.version != expected_version:
        raise refuse(
            "conflict",
            "version",
            "record %(id)s was changed by someone else (version %(now)s, you edited version %(seen)s): "
            "reload it and edit again",
            id=person.id,
            now=person.version,
            seen=expected_version,
        )
    rec = _validated(row)
    log = AuditLog(session, actor)
    log.lock()
    changed = update_person(session, person.id, person.source, rec, log)
    log.flush()
    session.expire(person)
    notes = after_records_written(session, actor, [person.id], matching, match=match and changed)
    return Written(get_person(session, person.id), changed, notes)


def current_row(person: Person) -> dict[str, Any]:
    return to_row(record_of(person))


def update_record(
    session: Session,
    actor: str,
    person_id: int,
    values: Mapping[str, Any],
    expected_version: int | None,
    *,
    matching: Matching,
) -> Written:
    """Replace the editable fields (names, GC III fields, consent, notes); the history stays."""
    if values.get("record_id") not in (None, ""):
        raise refuse("invalid", "record_id", "the record id cannot be changed")
    for key in HISTORY:
        if values.get(key) not in (None, "", []):
            raise refuse("invalid", key, "cannot be changed here: the history changes through events")
    _unknown(values, ("record_id", *EDITABLE, *HISTORY))
    person = get_person(session, person_id)
    row = current_row(person)
    for key in EDITABLE:
        if key in values:
            row[key] = values[key]
    return _apply(session, actor, person, row, expected_version, matching)


def add_event(
    session: Session,
    actor: str,
    person_id: int,
    kind: str,
    date: str | None = None,
    place: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    *,
    matching: Matching,
) -> Written:
    """A dated event added to the history (the status follows from it). An event changes none of the keys
    a record is found by, so it is not matched again; families may have news."""
    person = get_person(session, person_id)
    row = current_row(person)
    row["events"] = [
        *row["events"],
        {k: v for k, v in {"kind": kind, "date": date, "place": place, "note": note}.items() if v},
    ]
    return _apply(session, actor, person, row, expected_version, matching, match=False)


def set_consent(
    session: Session,
    actor: str,
    person_id: int,
    consent: Mapping[str, bool],
    expected_version: int | None = None,
    *,
    matching: Matching,
) -> Written:
    """The person's consent as recorded by the registrar: each flag given replaces the stored one, and
    what families may be told changes with it."""
    _unknown(consent, CONSENT_COLUMNS)
    person = get_person(session, person_id)
    row = current_row(person)
    for key in CONSENT_COLUMNS:
        if key in consent:
            row[key] = bool(consent[key])
    return _apply(session, actor, person, row, expected_version, matching, match=False)


@dataclass
class DeathDecision:
    person_id: int
    disclose: bool
    include_place: bool
    notifications: list[Notification]


def set_death_disclosure(
    session: Session, actor: str, person_id: int, disclose: bool, include_place: bool
) -> DeathDecision:
    """The registrar's decision whether families tracing this person are told of the death (and where)."""
    get_person(session, person_id)  # refused (not_found) for no such record
    row = record_death_decision(session, actor, person_id, disclose, include_place)
    return DeathDecision(person_id, row.disclose, row.include_place, news_for_person(session, person_id))
