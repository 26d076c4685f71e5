"""The tracing workflow as the web app and the API drive it, on top of the tracing services:
filing a request, deciding a candidate, telling families there is news after a record changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kinlink.registry.audit import record as audit
from kinlink.registry.dates import DateError, parse_partial_date
from kinlink.store.models import Person
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.store.web_models import Notification
from kinlink.tracing import candidates as candidate_service
from kinlink.tracing import requests as request_service
from kinlink.web import disclosure, notify
from kinlink.web.i18n import LANGUAGES

log = logging.getLogger("kinlink.web.cases")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str  # English, also the msgid the pages translate
    values: tuple[tuple[str, Any], ...] = ()

    def text(self) -> str:
        return self.message % dict(self.values) if self.values else self.message


class FieldErrors(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.text()}" for e in errors))
        self.errors = errors


LIMITS = {
    "full_name": 400,
    "other_names": 1000,
    "place_of_birth": 300,
    "rank": 200,
    "unit": 300,
    "service_number": 100,
    "capture_place": 300,
    "last_seen": 2000,
    "enquirer_name": 400,
    "relationship": 100,
    "contact": 400,
}


def _clean(values: dict[str, Any], key: str) -> str | None:
    raw = values.get(key)
    s = str(raw).strip() if raw is not None else ""
    return s or None


def parse_request(values: dict[str, Any]) -> tuple[request_service.SoughtPerson, request_service.Enquirer]:
    """A family's form (or API body) checked field by field; every problem is reported at once."""
    errors: list[FieldError] = []
    v = {k: _clean(values, k) for k in (*LIMITS, "sex", "birth_date", "capture_date", "language")}
    for key, limit in LIMITS.items():
        if v[key] and len(v[key] or "") > limit:
            errors.append(FieldError(key, "at most %(n)s characters", (("n", limit),)))
    if not v["full_name"] or not any(c.isalpha() for c in v["full_name"]):
        errors.append(FieldError("full_name", "the name of the person you are looking for is needed"))
    if not v["enquirer_name"] or not any(c.isalpha() for c in v["enquirer_name"]):
        errors.append(FieldError("enquirer_name", "your name is needed"))
    if v["sex"] and v["sex"] not in ("m", "f"):
        errors.append(FieldError("sex", "choose male, female or leave it empty"))
    dates: dict[str, str | None] = {}
    for key in ("birth_date", "capture_date"):
        dates[key] = None
        if v[key]:
            try:
                dates[key] = parse_partial_date(v[key] or "").iso()
            except DateError:
                errors.append(FieldError(key, "write a date as YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY"))
    contact = v["contact"]
    if contact and "@" in contact and not notify.EMAIL.match(contact):
        errors.append(FieldError("contact", "this email address is not valid"))
    if values.get("agree") not in (True, "1", "on", "yes", "true"):
        errors.append(FieldError("agree", "please agree to the use of this information for tracing"))
    if errors:
        raise FieldErrors(errors)
    others = [n.strip() for n in (v["other_names"] or "").replace("\n", "|").split("|") if n.strip()]
    sought = request_service.SoughtPerson(
        full_name=v["full_name"] or "",
        other_names=others,
        sex=v["sex"],
        birth_date=dates["birth_date"],
        place_of_birth=v["place_of_birth"],
        rank=v["rank"],
        unit=v["unit"],
        service_number=v["service_number"],
        capture_place=v["capture_place"],
        capture_date=dates["capture_date"],
        last_seen=v["last_seen"],
    )
    lang = v["language"] if v["language"] in LANGUAGES else None
    enquirer = request_service.Enquirer(
        name=v["enquirer_name"] or "", relationship=v["relationship"], contact=contact, language=lang
    )
    return sought, enquirer


def file_request(
    session: Session, actor: str, values: dict[str, Any], *, match: bool = True, model: Any = None
) -> tuple[TracingRequest, str, Notification | None]:
    """File a family's request and look for candidates at once. Returns the request, its secret (shown
    once, never stored) and the email to send (with the secret) if an address was given."""
    sought, enquirer = parse_request(values)
    try:
        req, secret = request_service.create_request(session, actor, sought, enquirer)
    except request_service.RequestError as e:
        raise FieldErrors([FieldError(e.field or "full_name", str(e))]) from e
    if match:
        try:
            with session.begin_nested():
                from kinlink.tracing.matching import match_request

                match_request(session, actor, req.id, model=model)
        except Exception as e:  # the request stands even if matching fails; staff can re-run it
            log.error("matching request %s failed: %s", req.id, type(e).__name__)
    return req, secret, notify.queue(session, req, "request_filed")


def news_for_requests(session: Session, requests: list[TracingRequest], kind: str) -> list[Notification]:
    """Announce by email what a family may now learn, once per change of what it may learn."""
    out = []
    for req in requests:
        outcome = disclosure.outcome_for(session, req)
        if outcome.stage not in ("found", "dead"):
            continue
        digest = outcome.digest()
        if notify.last_digest(session, req.id) == digest:
            continue
        n = notify.queue(session, req, kind, digest)
        if n is not None:
            out.append(n)
    return out


def news_for_person(session: Session, person_id: int) -> list[Notification]:
    reqs = list(
        session.scalars(
            select(TracingRequest).where(
                TracingRequest.matched_person_id == person_id, TracingRequest.state == "matched"
            )
        )
    )
    return news_for_requests(session, reqs, "status_changed")


def records_written(
    session: Session, actor: str, person_ids: list[int], *, match: bool = True, model: Any = None
) -> list[Notification]:
    """After records were created or changed: match them against open requests, tell families the news."""
    if match and person_ids:
        try:
            with session.begin_nested():
                from kinlink.tracing.matching import match_new_records

                match_new_records(session, actor, person_ids, model=model)
        except Exception as e:  # the record stands; matching can be re-run from the CLI
            log.error("matching records failed: %s", type(e).__name__)
    out: list[Notification] = []
    for pid in person_ids:
        out.extend(news_for_person(session, pid))
    return out


def decide_candidate(
    session: Session, actor: str, candidate_id: int, decision: str, reason: str | None, expected_version: int
) -> tuple[MatchCandidate, list[Notification]]:
    if decision not in ("confirmed", "rejected"):
        raise FieldErrors([FieldError("decision", "the decision is confirmed or rejected")])
    reason = (reason or "").strip()
    if decision == "rejected" and not reason:
        raise FieldErrors([FieldError("reason", "a rejection needs a reason")])
    if len(reason) > 2000:
        raise FieldErrors([FieldError("reason", "at most %(n)s characters", (("n", 2000),))])
    cand = candidate_service.decide(session, actor, candidate_id, decision, expected_version)
    if reason:
        # The tracing tables have no place for the reason: it is kept in the audit log with the decision.
        audit(session, actor, "reason", "match_candidate", cand.id, {"decision": decision, "reason": reason})
    notes: list[Notification] = []
    if cand.request_id is not None:
        req = session.get(TracingRequest, cand.request_id)
        if req is not None:
            notes = news_for_requests(session, [req], "match_confirmed")
    return cand, notes


# --- the caseworker's side-by-side view ------------------------------------------------------------------


def _person_values(session: Session, person: Person) -> dict[str, str | None]:
    captures = [e for e in person.events if e.kind == "captured"]
    names = [n.full_name for n in person.names]
    return {
        "name": " | ".join(names) if names else person.full_name,
        "sex": person.sex,
        "birth": person.birth_date
        or (f"{person.age} ({person.age_as_of})" if person.age is not None else None),
        "place_of_birth": person.place_of_birth,
        "unit": person.unit,
        "rank": person.rank,
        "service_number": person.service_number,
        "capture_place": (captures[-1].place if captures else None) or person.location,
        "capture_date": captures[-1].date if captures else None,
        "status": person.status,
    }


def _request_values(req: TracingRequest) -> dict[str, str | None]:
    birth = req.birth_date
    if birth and req.birth_year_to:
        birth = f"{birth}–{req.birth_year_to}"
    return {
        "name": " | ".join([req.full_name, *(req.other_names or [])]),
        "sex": req.sex,
        "birth": birth or (f"{req.age} ({req.age_as_of})" if req.age is not None else None),
        "place_of_birth": req.place_of_birth,
        "unit": req.unit,
        "rank": req.rank,
        "service_number": req.service_number,
        "capture_place": req.capture_place,
        "capture_date": req.capture_date,
        "status": None,
    }


# Which side-by-side row each part of the explanation speaks about.
EXPLAINED_ROW = {"family_name": "name", "given_name": "name", "patronymic": "name"}
ROWS = (
    "name",
    "sex",
    "birth",
    "place_of_birth",
    "unit",
    "rank",
    "service_number",
    "capture_place",
    "capture_date",
    "status",
)


@dataclass
class ComparisonRow:
    field: str
    left: str | None
    right: str | None
    evidence: list[dict[str, Any]]  # [{field, level, weight, text}]


@dataclass
class CandidateView:
    candidate: MatchCandidate
    left_kind: str  # request | record
    left_id: int
    right: Person
    rows: list[ComparisonRow]
    reasons: list[dict[str, Any]]


def load_person(session: Session, person_id: int) -> Person | None:
    return session.scalar(
        select(Person)
        .where(Person.id == person_id)
        .options(selectinload(Person.names), selectinload(Person.events))
    )


def candidate_view(session: Session, actor: str, candidate_id: int) -> CandidateView | None:
    cand = session.get(MatchCandidate, candidate_id)
    if cand is None:
        return None
    right = load_person(session, cand.person_id)
    if right is None:
        return None
    if cand.request_id is not None:
        req = session.get(TracingRequest, cand.request_id)
        if req is None:
            return None
        left, left_kind, left_id = _request_values(req), "request", req.id
    else:
        other = load_person(session, cand.left_person_id or 0)
        if other is None:
            return None
        left, left_kind, left_id = _person_values(session, other), "record", other.id
        audit(session, actor, "read", "person", other.id, {"view": f"candidate {cand.id}"})
    audit(session, actor, "read", "person", right.id, {"view": f"candidate {cand.id}"})
    rv = _person_values(session, right)
    evidence: dict[str, list[dict[str, Any]]] = {r: [] for r in ROWS}
    for fld, ex in (cand.explanation or {}).items():
        evidence.setdefault(EXPLAINED_ROW.get(fld, fld), []).append({"field": fld, **ex})
    rows = [ComparisonRow(r, left.get(r), rv.get(r), evidence.get(r, [])) for r in ROWS]
    from kinlink.store.models import AuditEntry

    reasons = [
        {"by": e.actor, "at": e.at, **(e.changes or {})}
        for e in session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity == "match_candidate",
                AuditEntry.entity_id == str(cand.id),
                AuditEntry.action == "reason",
            )
            .order_by(AuditEntry.id)
        )
    ]
    return CandidateView(cand, left_kind, left_id, right, rows, reasons)
