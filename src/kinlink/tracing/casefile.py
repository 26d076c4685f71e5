"""What a caseworker reads: the queue of candidates, the cases, one case, one candidate side by side.

Each view is one function that gathers what its page or API answer shows and audits the read: a list
with its filter, its count and its ids, one record by its id. The web pages and the API render the same
views, so that they cannot show different things or audit them differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kinlink.errors import refuse
from kinlink.store.audit import record as audit
from kinlink.store.audit import record_read
from kinlink.store.casework_models import Disclosure, Message, Notification
from kinlink.store.models import AuditEntry, Person
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.candidates import list_candidates
from kinlink.tracing.disclosure import Outcome, disclosures_of, outcome_for


def _load_person(session: Session, person_id: int) -> Person | None:
    return session.scalar(
        select(Person)
        .where(Person.id == person_id)
        .options(selectinload(Person.names), selectinload(Person.events))
    )


def _people(session: Session, ids: set[int]) -> dict[int, Person]:
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}


# --- lists -----------------------------------------------------------------------------------------------


@dataclass
class Queue:
    """Candidates waiting (or decided), most probable first, with the records and requests they link."""

    candidates: list[MatchCandidate]
    people: dict[int, Person] = field(default_factory=dict)
    requests: dict[int, TracingRequest] = field(default_factory=dict)


def read_candidates(
    session: Session,
    actor: str,
    view: str,
    *,
    state: str | None = "pending",
    request_id: int | None = None,
    kind: str | None = None,
    limit: int = 200,
) -> Queue:
    """The caseworker's queue: candidates with the people on both sides (a read of those people)."""
    cands = list_candidates(session, state=state, request_id=request_id, kind=kind, limit=limit)
    people = _people(
        session, {c.person_id for c in cands} | {c.left_person_id for c in cands if c.left_person_id}
    )
    req_ids = {c.request_id for c in cands if c.request_id}
    reqs = {r.id: r for r in session.scalars(select(TracingRequest).where(TracingRequest.id.in_(req_ids)))}
    filters = {"state": state, "request_id": request_id, "kind": kind, "limit": limit}
    record_read(session, actor, "match_candidate", [c.id for c in cands], view, filters)
    return Queue(cands, people, reqs)


def read_requests(
    session: Session,
    actor: str,
    view: str,
    *,
    state: str | None = None,
    limit: int = 200,
    offset: int = 0,
    newest_first: bool = False,
) -> list[TracingRequest]:
    """Tracing requests (who is sought, and by whom: the families' personal data), audited as a list."""
    order = TracingRequest.id.desc() if newest_first else TracingRequest.id
    q = select(TracingRequest).order_by(order).limit(limit).offset(offset)
    if state:
        q = q.where(TracingRequest.state == state)
    reqs = list(session.scalars(q))
    filters = {"state": state, "limit": limit, "offset": offset}
    record_read(session, actor, "tracing_request", [r.id for r in reqs], view, filters)
    return reqs


def matched_requests(session: Session, person_id: int) -> list[TracingRequest]:
    """The requests whose family was matched to this record (shown with the record, which is audited)."""
    return list(session.scalars(select(TracingRequest).where(TracingRequest.matched_person_id == person_id)))


def references(session: Session, request_ids: set[int]) -> dict[int, str]:
    """Requests' references by id (a reference tells nothing about the family)."""
    if not request_ids:
        return {}
    rows = session.execute(
        select(TracingRequest.id, TracingRequest.reference).where(TracingRequest.id.in_(request_ids))
    )
    return {rid: ref for rid, ref in rows}


def pending_counts(session: Session) -> dict[int, int]:
    """Candidates waiting for review, by request."""
    return dict(
        session.execute(
            select(MatchCandidate.request_id, func.count(MatchCandidate.id))
            .where(MatchCandidate.state == "pending", MatchCandidate.request_id.is_not(None))
            .group_by(MatchCandidate.request_id)
        ).all()
    )


def read_request(session: Session, actor: str, request_id: int, view: str) -> TracingRequest:
    req = session.get(TracingRequest, request_id)
    if req is None:
        raise refuse("not_found", "request_id", "no request %(id)s", id=request_id)
    audit(session, actor, "read", "tracing_request", req.id, {"view": view})
    return req


# --- one case --------------------------------------------------------------------------------------------


@dataclass
class Case:
    request: TracingRequest
    candidates: list[MatchCandidate]
    people: dict[int, Person]
    outcome: Outcome
    disclosures: list[Disclosure]
    messages: list[Message]
    notifications: list[Notification]


def read_case(session: Session, actor: str, request_id: int, view: str) -> Case:
    """A request with its candidates, what its family may be told and was told, its messages and emails."""
    req = session.get(TracingRequest, request_id)
    if req is None:
        raise refuse("not_found", "request_id", "no request %(id)s", id=request_id)
    cands = list_candidates(session, request_id=request_id)
    people = _people(session, {c.person_id for c in cands})
    record_read(session, actor, "person", sorted(people), f"{view} {req.reference}", {"request_id": req.id})
    if req.matched_person_id is not None:
        # What the family may be told and was told about the person found: a read of that person's details.
        audit(session, actor, "read", "person", req.matched_person_id, {"view": f"{view} {req.reference}"})
    return Case(
        request=req,
        candidates=cands,
        people=people,
        outcome=outcome_for(session, req),
        disclosures=disclosures_of(session, req.id),
        messages=list(
            session.scalars(select(Message).where(Message.request_id == req.id).order_by(Message.id))
        ),
        notifications=list(
            session.scalars(
                select(Notification).where(Notification.request_id == req.id).order_by(Notification.id)
            )
        ),
    )


# --- one candidate, side by side -------------------------------------------------------------------------


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
    request: TracingRequest | None = None  # the request, when the left side is one


def read_candidate(session: Session, actor: str, candidate_id: int) -> CandidateView:
    """A candidate with both sides field by field, the evidence per field and the decisions' reasons."""
    cand = session.get(MatchCandidate, candidate_id)
    right = _load_person(session, cand.person_id) if cand is not None else None
    left: dict[str, str | None] | None = None
    req = None
    if cand is not None and right is not None and cand.request_id is not None:
        req = session.get(TracingRequest, cand.request_id)
        if req is not None:
            left, left_kind, left_id = _request_values(req), "request", req.id
    elif cand is not None and right is not None:
        other = _load_person(session, cand.left_person_id or 0)
        if other is not None:
            left, left_kind, left_id = _person_values(session, other), "record", other.id
            audit(session, actor, "read", "person", other.id, {"view": f"candidate {cand.id}"})
    if cand is None or right is None or left is None:
        raise refuse("not_found", "candidate_id", "no candidate %(id)s", id=candidate_id)
    audit(session, actor, "read", "person", right.id, {"view": f"candidate {cand.id}"})
    rv = _person_values(session, right)
    evidence: dict[str, list[dict[str, Any]]] = {r: [] for r in ROWS}
    for fld, ex in (cand.explanation or {}).items():
        evidence.setdefault(EXPLAINED_ROW.get(fld, fld), []).append({"field": fld, **ex})
    rows = [ComparisonRow(r, left.get(r), rv.get(r), evidence.get(r, [])) for r in ROWS]
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
    return CandidateView(cand, left_kind, left_id, right, rows, reasons, req)
