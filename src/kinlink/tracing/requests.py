"""Tracing requests: a family asks for someone; they get a reference code and a secret to follow it.

The secret is shown once and only its argon2 hash is stored; the reference alone reveals nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.matching.comparators import birth_range
from kinlink.person.fields import name_problem
from kinlink.store.audit import AuditLog
from kinlink.store.audit import record as audit
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import TracingRequest

STATES = ("open", "candidates", "matched", "closed")
OPEN_STATES = ("open", "candidates")  # still looked for: matching adds candidates to these
# No 0/O, 1/I/L: codes are read out over the phone.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_HASHER = PasswordHasher()


@dataclass
class SoughtPerson:
    full_name: str
    other_names: list[str] = field(default_factory=list)
    sex: str | None = None
    birth_date: str | None = None
    birth_year_to: int | None = None
    age: int | None = None
    age_as_of: str | None = None
    place_of_birth: str | None = None
    rank: str | None = None
    unit: str | None = None
    service_number: str | None = None
    capture_place: str | None = None
    capture_date: str | None = None
    last_seen: str | None = None


@dataclass
class Enquirer:
    name: str
    relationship: str | None = None
    contact: str | None = None
    language: str | None = None


def new_reference() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"TR-{body[:4]}-{body[4:]}"


def new_secret() -> str:
    return secrets.token_urlsafe(12)


def _validate(sought: SoughtPerson) -> None:
    if not sought.full_name or not sought.full_name.strip():
        raise refuse("invalid", "full_name", "the name of the person you are looking for is needed")
    for fld, name in [("full_name", sought.full_name), *(("other_names", n) for n in sought.other_names)]:
        problem = name_problem(name.strip())
        if problem:
            raise refuse("invalid", fld, problem)
    if (sought.age is None) != (sought.age_as_of is None):
        raise refuse("invalid", "age_as_of", "an age needs the date it was true on (age_as_of)")
    if sought.birth_date and birth_range(sought.birth_date) is None:
        raise refuse("invalid", "birth_date", "write a date as YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY")
    if sought.age_as_of and birth_range(None, sought.age, sought.age_as_of) is None:
        raise refuse("invalid", "age", "the age and its date cannot be read")
    if sought.birth_year_to is not None and (
        not sought.birth_date or sought.birth_year_to < int(sought.birth_date[:4])
    ):
        raise refuse("invalid", "birth_date", "a range of birth years ends before it starts")
    if sought.sex and sought.sex not in ("m", "f"):
        raise refuse("invalid", "sex", "choose male, female or leave it empty")


def create_request(
    session: Session, actor: str, sought: SoughtPerson, enquirer: Enquirer
) -> tuple[TracingRequest, str]:
    """Record a request; returns it with the secret, which is not kept and cannot be shown again."""
    _validate(sought)
    if not enquirer.name or not enquirer.name.strip():
        raise refuse("invalid", "enquirer_name", "your name is needed")
    problem = name_problem(enquirer.name.strip())
    if problem:
        raise refuse("invalid", "enquirer_name", problem)
    secret = new_secret()
    reference = new_reference()
    while session.scalar(select(TracingRequest.id).where(TracingRequest.reference == reference)) is not None:
        reference = new_reference()
    values = asdict(sought)
    values["other_names"] = values["other_names"] or None
    req = TracingRequest(
        reference=reference,
        secret_hash=_HASHER.hash(secret),
        state="open",
        enquirer_name=enquirer.name.strip(),
        enquirer_relationship=enquirer.relationship,
        enquirer_contact=enquirer.contact,
        enquirer_language=enquirer.language,
        **values,
    )
    session.add(req)
    session.flush()
    # The audit entry names what was done, not the family's personal data.
    audit(session, actor, "create", "tracing_request", req.id, {"reference": reference, "state": "open"})
    return req, secret


def find_request(session: Session, reference: str) -> TracingRequest | None:
    return session.scalar(select(TracingRequest).where(TracingRequest.reference == reference.strip().upper()))


def find_request_by_contact(session: Session, contact: str) -> TracingRequest | None:
    return session.scalar(select(TracingRequest).where(TracingRequest.enquirer_contact == contact).limit(1))


def check_secret(session: Session, reference: str, secret: str) -> TracingRequest | None:
    """The request if the secret is right for the reference, else None (the same answer for both faults)."""
    return verify_secret(find_request(session, reference), secret)


def verify_secret(req: TracingRequest | None, secret: str) -> TracingRequest | None:
    """`check_secret` for a request already read (None: no such reference), needing no database: the
    deliberately slow hash need not hold a connection."""
    if req is None:
        # Hash anyway, so that timing does not tell whether a reference exists.
        _HASHER.hash(secret)
        return None
    try:
        _HASHER.verify(req.secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return None
    return req


def set_state(
    session: Session,
    actor: str,
    req: TracingRequest,
    state: str,
    matched_person_id: int | None = None,
    log: AuditLog | None = None,
) -> None:
    """Change the state; with `log`, the entry joins that unit of work's audit log (flushed by its owner)."""
    if state not in STATES:
        raise refuse("invalid", "state", "state must be one of %(states)s", states=", ".join(STATES))
    if req.state == state and matched_person_id in (None, req.matched_person_id):
        return
    changes: dict[str, Any] = {"state": [req.state, state]}
    req.state = state
    if matched_person_id is not None:
        changes["matched_person_id"] = [req.matched_person_id, matched_person_id]
        req.matched_person_id = matched_person_id
    req.updated_at = utcnow()
    session.flush()
    if log is not None:
        log.add("update", "tracing_request", req.id, changes)
    else:
        audit(session, actor, "update", "tracing_request", req.id, changes)
