"""Tracing requests: a family asks for someone; they get a reference code and a secret to follow it.

The secret is shown once and only a keyed hash of it is stored; the reference alone reveals nothing.

The secret is 20 characters from an alphabet without look-alikes (no 0/O, no 1/I/L), about 99 random bits,
written in five groups of four to be read aloud or over the phone ("K7QM-4RTX-9HNP-2WCE-FJ6B"): the same
form from every door. The family may type it in any case, with or without the dashes or with spaces.
Secrets of the earlier form (16 characters of base64, case-sensitive) stay valid as they were given.
It is not a password a person chose: nobody can guess it, so it needs no slow hash. An HMAC-SHA-256
under a server key kept out of the database (`kinlink.keys`) verifies in microseconds, so anonymous
checks cost the server nothing, and a copy of the database alone cannot test a guess. Secrets stored
before (argon2 hashes) still verify, and are keyed on their first successful check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.keys import server_key
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
SECRET_GROUPS, SECRET_GROUP = 5, 4  # 31**20: about 99 bits
_SEPARATORS = str.maketrans("", "", " -‐‑–—_.\t")
_LEGACY = PasswordHasher()  # secrets stored before they were keyed
_KEYED = "hmac-sha256$"


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


def _grouped(body: str) -> str:
    return "-".join(body[i : i + SECRET_GROUP] for i in range(0, len(body), SECRET_GROUP))


def new_secret() -> str:
    """A new secret, grouped for reading aloud: 'K7QM-4RTX-9HNP-2WCE-FJ6B'."""
    return _grouped("".join(secrets.choice(_ALPHABET) for _ in range(SECRET_GROUPS * SECRET_GROUP)))


def canonical_secret(text: str) -> str | None:
    """A secret as typed ('k7qm 4rtx9hnp…') in the form it was given and is kept under, or None if it is
    not one of the grouped kind (then it may be a secret of the earlier form, compared as given)."""
    compact = text.strip().translate(_SEPARATORS).upper()
    if len(compact) != SECRET_GROUPS * SECRET_GROUP or any(c not in _ALPHABET for c in compact):
        return None
    return _grouped(compact)


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
        secret_hash=secret_digest(canonical_secret(secret) or secret),
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


def secret_digest(secret: str) -> str:
    """The stored form of a secret: its HMAC-SHA-256 under the family-secret server key."""
    mac = hmac.new(server_key("family-secret"), secret.encode(), hashlib.sha256).hexdigest()
    return _KEYED + mac


def is_keyed(req: TracingRequest) -> bool:
    """False for a secret stored as an argon2 hash, before secrets were keyed (see `upgrade_secret`)."""
    return req.secret_hash.startswith(_KEYED)


def verify_secret(req: TracingRequest | None, secret: str) -> TracingRequest | None:
    """`check_secret` for a request already read (None: no such reference), needing no database."""
    # Both forms are computed, for a missing reference too: timing tells nothing.
    as_given = secret_digest(secret.strip())
    grouped = secret_digest(canonical_secret(secret) or secret.strip())
    if req is None:
        return None
    if is_keyed(req):
        right = hmac.compare_digest(req.secret_hash, grouped)
        legacy = hmac.compare_digest(req.secret_hash, as_given)  # a secret of the earlier form
        return req if right or legacy else None
    try:
        _LEGACY.verify(req.secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return None
    return req


def upgrade_secret(session: Session, request_id: int, secret: str) -> None:
    """Store a secret that just proved right in its keyed form, in place of its argon2 hash."""
    req = session.get(TracingRequest, request_id)
    if req is not None and not is_keyed(req):
        req.secret_hash = secret_digest(secret)
        audit(session, "system", "update", "tracing_request", req.id, {"secret": "keyed"})


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
