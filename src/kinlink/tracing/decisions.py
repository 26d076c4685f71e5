"""A caseworker's decision on a candidate: the one action behind the review page, the API and
`kinlink candidates decide`.

What a family is told follows from these decisions, so each needs a reason (kept in the audit log beside
the decision), is taken under the audit lock against the version the caseworker saw (two reviewers
deciding at once are served one after the other, the second refused), moves the request's state, and
queues the family's notification. Setting a candidate back to pending undoes a decision, with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.matching.model import Model
from kinlink.person.text import text_problem
from kinlink.store.audit import AuditLog
from kinlink.store.casework_models import Notification
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.candidates import STATES, SUPERSEDED
from kinlink.tracing.clusters import recluster
from kinlink.tracing.notifications import news_for_requests

MAX_REASON = 2000


@dataclass
class Decided:
    candidate: MatchCandidate
    notifications: list[Notification]


def _checked(decision: str, reason: str | None) -> str:
    if decision not in STATES:
        raise refuse("invalid", "decision", "the decision is confirmed, rejected or pending")
    text = (reason or "").strip()
    if not text:
        raise refuse("invalid", "reason", "a decision needs a reason")
    found = text_problem(text)
    if found:
        raise refuse("invalid", "reason", found[0], **found[1])
    if len(text) > MAX_REASON:
        raise refuse("invalid", "reason", "at most %(n)s characters", n=MAX_REASON)
    return text


def _move_request(session: Session, audit: AuditLog, cand: MatchCandidate, decision: str) -> None:
    """A confirmation matches the request to the record; undoing it (or rejecting the matched record)
    sends the request back to its candidates. A closed request stays closed."""
    req = session.get(TracingRequest, cand.request_id) if cand.request_id is not None else None
    if req is None or req.state == "closed":
        return
    if decision == "confirmed":
        new_state, matched = "matched", cand.person_id
    elif req.matched_person_id == cand.person_id:
        new_state, matched = "candidates", None
    else:
        new_state, matched = req.state, req.matched_person_id
    if (new_state, matched) != (req.state, req.matched_person_id):
        audit.add(
            "update",
            "tracing_request",
            req.id,
            {"state": [req.state, new_state], "matched_person_id": [req.matched_person_id, matched]},
        )
        req.state, req.matched_person_id, req.updated_at = new_state, matched, utcnow()
        session.flush()


def _supersede(session: Session, audit: AuditLog, cand: MatchCandidate, supersede: bool, reason: str) -> None:
    """A request has one confirmed match. Confirming another candidate of it replaces the confirmed one
    only when the caseworker says so (`supersede`); the earlier one is then marked superseded."""
    if cand.request_id is None:
        return  # two records of one person: any number of pairs may be confirmed (they form a cluster)
    earlier = list(
        session.scalars(
            select(MatchCandidate).where(
                MatchCandidate.request_id == cand.request_id,
                MatchCandidate.state == "confirmed",
                MatchCandidate.id != cand.id,
            )
        )
    )
    if earlier and not supersede:
        raise refuse(
            "conflict",
            "supersede",
            "the request already has a confirmed match (candidate %(id)s): replace it explicitly, "
            "with a reason",
            id=earlier[0].id,
        )
    for old in earlier:
        old.state, old.updated_at = SUPERSEDED, utcnow()
        session.flush()
        audit.add("update", "match_candidate", old.id, {"state": ["confirmed", SUPERSEDED], "by": cand.id})
        audit.add("reason", "match_candidate", old.id, {"decision": SUPERSEDED, "reason": reason})


def decide(
    session: Session,
    actor: str,
    candidate_id: int,
    decision: str,
    reason: str | None,
    expected_version: int,
    *,
    model: Model,
    supersede: bool = False,
) -> Decided:
    """Confirm, reject or reopen a candidate; `expected_version` is the version the caseworker saw.
    Confirming a second match for a request is refused unless `supersede` says to replace the first."""
    reason_text = _checked(decision, reason)
    audit = AuditLog(session, actor)
    # The lock first, then the read: two reviewers deciding at once are served one after the other, and
    # the second sees the first's decision (a new version) instead of overwriting it.
    audit.lock()
    cand = session.get(MatchCandidate, candidate_id, populate_existing=True)
    if cand is None:
        raise refuse("not_found", "candidate_id", "no candidate %(id)s", id=candidate_id)
    if cand.version != expected_version:
        raise refuse(
            "conflict",
            "version",
            "candidate %(id)s changed (version %(now)s, you saw %(seen)s): reload it and decide again",
            id=candidate_id,
            now=cand.version,
            seen=expected_version,
        )
    if decision == "confirmed" and cand.state != "confirmed":
        _supersede(session, audit, cand, supersede, reason_text)
    before = cand.state
    cand.state = decision
    cand.decided_by = actor if decision != "pending" else None
    cand.decided_at = utcnow() if decision != "pending" else None
    cand.updated_at = utcnow()
    session.flush()  # the version check happens here too, against concurrent writers
    audit.add("update", "match_candidate", cand.id, {"state": [before, decision]})
    # The tracing tables have no place for the reason: it is kept in the audit log with the decision.
    audit.add("reason", "match_candidate", cand.id, {"decision": decision, "reason": reason_text})
    _move_request(session, audit, cand, decision)
    if cand.left_person_id is not None:
        recluster(session, audit, model)
    audit.flush()
    notes: list[Notification] = []
    if cand.request_id is not None:
        req = session.get(TracingRequest, cand.request_id)
        if req is not None:
            notes = news_for_requests(session, [req], "match_confirmed")
    return Decided(cand, notes)
