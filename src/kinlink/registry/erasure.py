"""Erasure: a record deleted with its names, history and sightings, leaving a tombstone without personal
data, so that partners who hold a copy can erase theirs too; and retention, erasing what has expired."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.person.partial_dates import parse_partial_date
from kinlink.store.audit import AuditLog
from kinlink.store.match_keys import drop_keys
from kinlink.store.models import Person, Tombstone


def erase_person(session: Session, audit: AuditLog, person: Person, reason: str) -> Tombstone:
    """Delete a record with its names, history, sightings and matching keys; keep a tombstone without
    personal data."""
    audit.lock()
    stone = Tombstone(
        entity="person",
        source=person.source.name,
        key=person.source_record_id,
        reason=reason,
        erased_by=audit.actor,
    )
    session.add(stone)
    audit.add(
        "erase", "person", person.id, {"source": stone.source, "record_id": stone.key, "reason": reason}
    )
    drop_keys(session, "p", [person.id])  # its blocking keys and name counts are derived from its names
    session.delete(person)
    session.flush()
    return stone


def expired_people(session: Session, today: date) -> list[Person]:
    # Partial expiry dates count from their last day: '2030' expires after 2030-12-31.
    return [
        p
        for p in session.scalars(select(Person).where(Person.expiry_date.is_not(None)))
        if parse_partial_date(p.expiry_date or "", allow_future=True).latest() < today
    ]


def tombstones(session: Session, since: datetime | None = None) -> list[Tombstone]:
    q = select(Tombstone).order_by(Tombstone.id)
    if since:
        q = q.where(Tombstone.erased_at >= since)
    return list(session.scalars(q))


def erase_record(session: Session, actor: str, person: Person, reason: str) -> Tombstone:
    """Erase one record, on request or as an error, leaving its tombstone."""
    log = AuditLog(session, actor)
    stone = erase_person(session, log, person, reason)
    log.flush()
    return stone


def erase_expired(session: Session, actor: str, today: date) -> int:
    """Retention: erase every record whose expiry date has passed; how many were erased."""
    log = AuditLog(session, actor)
    expired = expired_people(session, today)
    for person in expired:
        erase_person(session, log, person, "expired")
    log.flush()
    return len(expired)
