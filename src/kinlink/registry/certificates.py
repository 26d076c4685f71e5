"""Certificates for families: an extract of the register stating a person's status, its dates and how it
is known, issued by the bureau with a serial number and a verification code (issue, revoke, check).

For a request (TR-...) the certificate says only what that family may be told: its enquirer verified, its
match confirmed, and the person's consent (or the registrar's decision on telling a death) allowing the
status to be told; it is recorded as a disclosure to the family. For a record, the caseworker names to whom
it is issued and the same rules of consent apply (a missing person's status needs none).

The code is printed on the certificate only; the database keeps its SHA-256 (a copy of the database cannot
produce a certificate's code). Anyone may check a code at /verify/CODE, which says whether the certificate
is genuine and current, nothing else (GC III Art. 13): current while it is not revoked and the status it
states is still the person's (the same deciding event). Codes that belong to no certificate are limited
per address and over all addresses, like wrong family secrets.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from kinlink.accounts.throttle import RateLimiter, too_many
from kinlink.bureau import Bureau
from kinlink.errors import refuse
from kinlink.pdf.certificates import CertificateContent, render
from kinlink.pdf.layout import paper_languages
from kinlink.person.confirmation import is_confirmed
from kinlink.person.text import message_id, text_problem
from kinlink.registry.people import find_person, get_person, status_event
from kinlink.store.audit import AuditLog
from kinlink.store.casework_models import Certificate, Disclosure
from kinlink.store.db import session_factory
from kinlink.store.models import Event, Person, utcnow
from kinlink.tracing.disclosure import death_decision, death_level, outcome_for, verification_of
from kinlink.tracing.requests import find_request

# No 0/O, 1/I/L: codes are read out over the phone. 20 of 31 symbols: 99 bits, never guessed.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 20
MAX_RECIPIENT = 400
MAX_REASON = 2000
CheckState = Literal["current", "not_current", "unknown"]


def new_code() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(body[i : i + 5] for i in range(0, CODE_LENGTH, 5))


def normalised(code: str) -> str:
    """A code as typed (any case, with or without dashes and spaces) in its one stored form."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_digest(code: str) -> str:
    return hashlib.sha256(normalised(code).encode()).hexdigest()


def event_level(event: Event) -> str | None:
    """How the event is known (kinlink.person.confirmation): the certificate states it."""
    return event.confirmation


@dataclass
class Issued:
    certificate: Certificate
    code: str  # printed on the certificate; not kept
    pdf: bytes
    file_name: str


def _text(field: str, value: str | None, limit: int, required: str) -> str:
    text = (value or "").strip()
    if not text:
        raise refuse("invalid", field, required)
    found = text_problem(text, multiline=False)
    if found:
        raise refuse("invalid", field, found[0], **found[1])
    if len(text) > limit:
        raise refuse("invalid", field, "at most %(n)s characters", n=limit)
    return text


def _may_state(session: Session, person: Person) -> None:
    """The record's status may be certified to a family: the rules of what families may be told."""
    if person.status is None:
        raise refuse("invalid", "ref", "record %(id)s has no status to certify", id=person.id)
    if person.status == "dead":
        death = death_decision(session, person.id)
        if death is None or not death.disclose:
            raise refuse(
                "invalid", "ref", "the registrar has not decided that this death may be told to families"
            )
        if not is_confirmed(death_level(person)):
            raise refuse(
                "invalid",
                "ref",
                "the death is known only from open sources or a member of the public: a certificate cannot "
                "state it as a fact",
            )
    elif person.status != "missing" and not person.consent_inform_family:
        raise refuse("invalid", "ref", "the person has not agreed that their family is told they were found")


def issue_certificate(
    session: Session,
    actor: str,
    ref: str,
    *,
    base_url: str,
    recipient: str | None = None,
    language: str | None = None,
    bureau: Bureau | None = None,
    today: date | None = None,
) -> Issued:
    """A certificate of the status of the person a request (TR-...) was matched to, for its family; or of
    a record (its id or source:record_id), for the `recipient` named."""
    bureau = bureau or Bureau()
    today = today or date.today()
    ref = (ref or "").strip()
    req = None
    if ref.upper().startswith("TR-"):
        req = find_request(session, ref)
        if req is None:
            raise refuse("not_found", "ref", "no request %(reference)s", reference=ref)
        if verification_of(session, req.id) is None:
            raise refuse(
                "invalid",
                "ref",
                "the enquirer of %(reference)s is not verified: record how before anything is disclosed",
                reference=req.reference,
            )
        if req.state != "matched" or req.matched_person_id is None:
            raise refuse("invalid", "ref", "no match is confirmed for %(reference)s", reference=req.reference)
        outcome = outcome_for(session, req)
        if outcome.stage not in ("found", "dead"):
            raise refuse(
                "invalid",
                "ref",
                "what the family may be told does not include the person's status (their consent, or the "
                "decision on telling a death)",
            )
        person = get_person(session, req.matched_person_id)
        to = f"enquirer of {req.reference}"
        langs = paper_languages(language or req.enquirer_language, bureau.language)
    else:
        person = find_person(session, ref)
        if person is None:
            raise refuse(
                "not_found",
                "ref",
                "no record '%(ref)s': give a kinlink id, source:record_id or TR-...",
                ref=ref,
            )
        to = _text("recipient", recipient, MAX_RECIPIENT, message_id("say to whom the certificate is issued"))
        langs = paper_languages(language, bureau.language)
    _may_state(session, person)
    event = status_event(person)
    assert event is not None and person.status is not None  # a status comes from an event
    code = new_code()
    log = AuditLog(session, actor)
    log.lock()
    cert = Certificate(
        serial=f"pending-{secrets.token_hex(8)}",
        code_hash=code_digest(code),
        person_id=person.id,
        request_id=req.id if req else None,
        event_id=event.id,
        recipient=to,
        status=person.status,
        status_date=person.status_date,
        level=event_level(event),
        languages=",".join(langs),
        bureau=bureau.name,
        issued_by=str(actor),
    )
    session.add(cert)
    session.flush()
    cert.serial = f"{bureau.serial_prefix}-{today.year}-{cert.id:06d}"
    content = CertificateContent(
        serial=cert.serial,
        code=code,
        verify_url=f"{base_url.rstrip('/')}/verify/{code}",
        languages=langs,
        bureau=bureau.name,
        full_name=person.full_name,
        birth_date=person.birth_date,
        status=person.status,
        status_date=person.status_date,
        recorded_on=event.created_at.date().isoformat() if event.created_at else None,
        level=cert.level,
        issued_on=today.isoformat(),
    )
    pdf = render(content)
    stated = {"status": cert.status, "status_date": cert.status_date, "level": cert.level}
    log.add("read", "person", person.id, {"view": "certificate"})
    log.add(
        "issue",
        "certificate",
        cert.id,
        {"serial": cert.serial, "person_id": person.id, "request_id": cert.request_id, **stated},
    )
    if req is not None:
        outcome = outcome_for(session, req)
        row = Disclosure(
            request_id=req.id,
            person_id=person.id,
            recipient=to,
            channel="certificate",
            items={"stage": outcome.stage, "certificate": cert.serial, **stated},
            consent=outcome.consent,
            digest=hashlib.sha256(cert.serial.encode()).hexdigest(),
        )
        session.add(row)
        session.flush()
        verified = outcome.consent.get("enquirer_verification", {}).get("id")
        log.add(
            "disclose",
            "tracing_request",
            req.id,
            {"disclosure": row.id, "certificate": cert.serial, "enquirer_verification": verified},
        )
    log.flush()
    return Issued(cert, code, pdf, f"certificate-{cert.serial}.pdf")


def revoke_certificate(session: Session, actor: str, serial: str | int, reason: str | None) -> Certificate:
    """The certificate (by its serial number, or its row id) is no longer current, whatever the record says
    (issued in error, to the wrong person, lost)."""
    if isinstance(serial, int):
        cert = session.get(Certificate, serial)
    else:
        cert = session.scalar(select(Certificate).where(Certificate.serial == (serial or "").strip().upper()))
    if cert is None:
        raise refuse("not_found", "serial", "no certificate %(serial)s", serial=serial)
    if cert.revoked_at is not None:
        raise refuse("conflict", "serial", "certificate %(serial)s is already revoked", serial=cert.serial)
    cert.revoked_reason = _text(
        "reason", reason, MAX_REASON, message_id("say why the certificate is revoked")
    )
    cert.revoked_by, cert.revoked_at = str(actor), utcnow()
    session.flush()
    log = AuditLog(session, actor)
    log.add("revoke", "certificate", cert.id, {"serial": cert.serial})
    log.flush()
    return cert


def is_current(session: Session, cert: Certificate) -> bool:
    """Not revoked, and the status it states is still the person's, known the same way."""
    if cert.revoked_at is not None or cert.person_id is None:
        return False
    person = session.scalar(
        select(Person).where(Person.id == cert.person_id).options(selectinload(Person.events))
    )
    if person is None:
        return False
    event = status_event(person)
    return (
        event is not None
        and event.id == cert.event_id
        and person.status == cert.status
        and event_level(event) == cert.level
    )


@dataclass
class Listed:
    certificate: Certificate
    current: bool


def certificates_of(
    session: Session, *, person_id: int | None = None, request_id: int | None = None
) -> list[Listed]:
    """The certificates issued for a record or a request, newest first, each with whether it is current."""
    q = select(Certificate).order_by(Certificate.id.desc())
    if person_id is not None:
        q = q.where(Certificate.person_id == person_id)
    if request_id is not None:
        q = q.where(Certificate.request_id == request_id)
    return [Listed(c, is_current(session, c)) for c in session.scalars(q)]


def code_state(session: Session, code: str) -> CheckState:
    """Whether a certificate with this code exists and is current; nothing else."""
    key = normalised(code or "")
    if len(key) != CODE_LENGTH:
        return "unknown"
    cert = session.scalar(select(Certificate).where(Certificate.code_hash == code_digest(key)))
    if cert is None:
        return "unknown"
    return "current" if is_current(session, cert) else "not_current"


def check_code(engine: Engine, limiter: RateLimiter, address: str, code: str) -> CheckState:
    """`code_state` for anyone: a code that belongs to no certificate counts against the limits (per
    address, over all); past either, refused (too_many). A genuine code is always answered."""
    with session_factory(engine)() as s:
        found = code_state(s, code)
    if found != "unknown":
        return found
    quotas = limiter.quotas
    limits = [
        (("verify-fail-ip", address), quotas.verify_failures_per_ip),
        (("verify-fail", "all"), quotas.verify_failures_global),
    ]
    if limiter.take(limits, quotas.window_seconds) is None:
        raise too_many(limiter.wait_seconds(limits, quotas.window_seconds) or 1)
    return "unknown"
