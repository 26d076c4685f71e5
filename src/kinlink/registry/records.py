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

from kinlink.errors import Problem, Refused, invalid, problem, refuse
from kinlink.person.confirmation import LEVELS, default_level, parse_level
from kinlink.person.fields import (
    COLUMNS,
    CONSENT_COLUMNS,
    TEXT_COLUMNS,
    RecordIn,
    RowError,
    to_row,
)
from kinlink.person.partial_dates import DateError, parse_partial_date
from kinlink.person.rows import validate_row
from kinlink.person.status import event_kind_for_status
from kinlink.person.text import text_problem
from kinlink.registry.people import get_person, record_of
from kinlink.registry.record_writes import get_or_create_source, insert_records, update_person
from kinlink.store.audit import AuditLog
from kinlink.store.casework_models import ConsentStatement, Notification
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
    confirmation: str | None = None,
) -> Written:
    """A dated event added to the history (the status follows from it), with how it is known (by default
    as the bureau's own records are: notified by the detaining power). An event changes none of the keys a
    record is found by, so it is not matched again; families may have news. Refusals name the event's own
    field (kind, date, place, note, confirmation), every problem at once."""
    _checked_event(kind, date, place, note, confirmation)
    person = get_person(session, person_id)
    row = current_row(person)
    level = parse_level(confirmation) if confirmation else None
    row["events"] = [
        *row["events"],
        {
            k: v
            for k, v in {
                "kind": kind,
                "date": date,
                "place": place,
                "note": note,
                "confirmation": level or default_level(person.source.kind),
            }.items()
            if v
        },
    ]
    return _apply(session, actor, person, row, expected_version, matching, match=False)


# How the person's word reached the registrar.
CONSENT_WAYS = ("in_person", "in_writing", "remote", "capture_card", "notification", "other")
MAX_GIVEN_BY = 300


@dataclass(frozen=True)
class ConsentSource:
    """When the person gave (or withdrew) the consent, who said so, and how it was said."""

    given_on: str | None
    given_by: str | None
    given_how: str | None


def _checked_source(source: ConsentSource) -> tuple[str, str, str]:
    errors: list[Problem] = []
    given_on = (source.given_on or "").strip()
    if not given_on:
        errors.append(problem("given_on", "the date the person gave or withdrew the consent is needed"))
    else:
        try:
            given_on = parse_partial_date(given_on).iso()
        except DateError as e:
            errors.append(Problem("given_on", e.message, tuple(sorted(e.values.items()))))
    given_by = (source.given_by or "").strip()
    found = text_problem(given_by, multiline=False)
    if found:
        errors.append(Problem("given_by", found[0], tuple(sorted(found[1].items()))))
    elif not given_by:
        errors.append(problem("given_by", "say who gave the consent: the person, a delegate who met them..."))
    elif len(given_by) > MAX_GIVEN_BY:
        errors.append(problem("given_by", "at most %(n)s characters", n=MAX_GIVEN_BY))
    if source.given_how not in CONSENT_WAYS:
        errors.append(problem("given_how", "say how the consent was given"))
    if errors:
        raise invalid(errors)
    return given_on, given_by, str(source.given_how)


def _checked_event(
    kind: str, date: str | None, place: str | None, note: str | None, confirmation: str | None = None
) -> None:
    errors: list[Problem] = []
    if event_kind_for_status(kind or "") is None:
        errors.append(problem("kind", "choose what happened (captured, transferred, released...)"))
    if confirmation and parse_level(confirmation) is None:
        errors.append(
            problem(
                "confirmation",
                "say how it is known: %(known)s",
                known=", ".join(LEVELS),
            )
        )
    if date:
        try:
            parse_partial_date(date)
        except DateError as e:
            errors.append(Problem("date", e.message, tuple(sorted(e.values.items()))))
    for key, value, limit in (
        ("place", place, TEXT_COLUMNS["place"][1]),
        ("note", note, TEXT_COLUMNS["notes"][1]),
    ):
        found = text_problem(value, multiline=key == "note")
        if found:
            errors.append(Problem(key, found[0], tuple(sorted(found[1].items()))))
        elif value and len(value) > limit:
            errors.append(Problem(key, "at most %(n)s characters", (("n", limit),)))
    if errors:
        raise invalid(errors)


def set_consent(
    session: Session,
    actor: str,
    person_id: int,
    consent: Mapping[str, bool],
    expected_version: int | None = None,
    *,
    matching: Matching,
    source: ConsentSource,
) -> Written:
    """The person's consent as recorded by the registrar, with when it was given and who said so, how (a
    consent statement, kept with the record's history of them): each flag given replaces the stored one,
    and what families may be told changes with it."""
    _unknown(consent, CONSENT_COLUMNS)
    given_on, given_by, given_how = _checked_source(source)
    person = get_person(session, person_id)
    row = current_row(person)
    for key in CONSENT_COLUMNS:
        if key in consent:
            row[key] = bool(consent[key])
    written = _apply(session, actor, person, row, expected_version, matching, match=False)
    statement = ConsentStatement(
        person_id=person_id,
        flags={k: bool(row[k]) for k in CONSENT_COLUMNS},
        given_on=given_on,
        given_by=given_by,
        given_how=given_how,
        recorded_by=actor,
    )
    session.add(statement)
    session.flush()
    log = AuditLog(session, actor)
    log.add(
        "create",
        "consent_statement",
        statement.id,
        {
            "person_id": person_id,
            "flags": statement.flags,
            "given_on": given_on,
            "given_by": given_by,
            "given_how": given_how,
        },
    )
    log.flush()
    return written


def consent_statements(session: Session, person_id: int) -> list[ConsentStatement]:
    """The consent statements recorded for a person, the latest first (shown with the record)."""
    return list(
        session.scalars(
            select(ConsentStatement)
            .where(ConsentStatement.person_id == person_id)
            .order_by(ConsentStatement.id.desc())
        )
    )


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
