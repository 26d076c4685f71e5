"""Match candidates: stored idempotently (one row per pair), so that re-running matching adds nothing;
a decided candidate keeps its decision (`tracing.decisions`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.matching.model import Model
from kinlink.matching.score_values import Scored
from kinlink.store.audit import AuditLog
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import MatchCandidate

Outcome = Literal["created", "updated", "unchanged"]
STATES = ("pending", "confirmed", "rejected")  # what a caseworker decides
# A confirmation replaced by a later one for the same request (an explicit act, with its reason).
SUPERSEDED = "superseded"
LISTED_STATES = (*STATES, SUPERSEDED)


def pair_key(*, request_id: int | None = None, left_person_id: int | None = None, person_id: int) -> str:
    if request_id is not None:
        return f"r{request_id}:p{person_id}"
    if left_person_id is None:
        raise ValueError("a candidate links a request or a record to a record")
    a, b = sorted((left_person_id, person_id))
    return f"p{a}:p{b}"


@dataclass
class StoreResult:
    candidate: MatchCandidate
    outcome: Outcome


def store_candidate(
    session: Session,
    audit: AuditLog,
    model: Model,
    scored: Scored,
    *,
    person_id: int,
    request_id: int | None = None,
    left_person_id: int | None = None,
) -> StoreResult:
    """Insert or refresh the candidate for this pair; a decided candidate keeps its decision."""
    if left_person_id is not None:
        left_person_id, person_id = sorted((left_person_id, person_id))
    key = pair_key(request_id=request_id, left_person_id=left_person_id, person_id=person_id)
    explanation = scored.explanation()
    prob = round(scored.probability, 6)
    existing = session.scalar(select(MatchCandidate).where(MatchCandidate.pair == key))
    if existing is None:
        cand = MatchCandidate(
            pair=key,
            request_id=request_id,
            left_person_id=left_person_id,
            person_id=person_id,
            probability=prob,
            weight=round(scored.weight, 4),
            explanation=explanation,
            model_name=model.name,
            model_version=model.version,
            state="pending",
        )
        stored, created = add_unique_pair(session, MatchCandidate, key, cand)
        if created:
            audit.add("create", "match_candidate", cand.id, {"pair": key, "probability": prob})
            return StoreResult(cand, "created")
        existing = stored
    if existing.state != "pending" or (
        abs(existing.probability - prob) < 1e-6 and existing.model_version == model.version
    ):
        return StoreResult(existing, "unchanged")
    changes = {"probability": [existing.probability, prob]}
    existing.probability = prob
    existing.weight = round(scored.weight, 4)
    existing.explanation = explanation
    existing.model_name, existing.model_version = model.name, model.version
    existing.updated_at = utcnow()
    session.flush()
    audit.add("update", "match_candidate", existing.id, changes)
    return StoreResult(existing, "updated")


def list_candidates(
    session: Session,
    *,
    state: str | None = None,
    request_id: int | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> list[MatchCandidate]:
    """Candidates, most probable first. kind: 'request' (request -> record) or 'record' (duplicates)."""
    q = select(MatchCandidate)
    if state:
        q = q.where(MatchCandidate.state == state)
    if request_id is not None:
        q = q.where(MatchCandidate.request_id == request_id)
    if kind == "request":
        q = q.where(MatchCandidate.request_id.is_not(None))
    elif kind == "record":
        q = q.where(MatchCandidate.left_person_id.is_not(None))
    q = q.order_by(MatchCandidate.probability.desc(), MatchCandidate.id)
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


def current_version(session: Session, table: Any, candidate_id: int, expected_version: int | None) -> Any:
    """The candidate as the database holds it now, refused when it is gone or when it changed since the
    reader saw `expected_version` (an optimistic check: two reviewers deciding at once, the second is told
    to reload). One check for request/record candidates and candidates of remains alike."""
    cand = session.get(table, candidate_id, populate_existing=True)
    if cand is None:
        raise refuse("not_found", "candidate_id", "no candidate %(id)s", id=candidate_id)
    if expected_version is not None and cand.version != expected_version:
        raise refuse(
            "conflict",
            "version",
            "candidate %(id)s changed (version %(now)s, you saw %(seen)s): reload it and decide again",
            id=candidate_id,
            now=cand.version,
            seen=expected_version,
        )
    return cand


def add_unique_pair(session: Session, table: Any, pair: str, candidate: Any) -> tuple[Any, bool]:
    """Adds a candidate whose `pair` is unique: (it, True); or, when another matcher stored the same pair
    meanwhile, (that one, False)."""
    try:
        with session.begin_nested():
            session.add(candidate)
            session.flush()
    except IntegrityError:
        existing = session.scalar(select(table).where(table.pair == pair))
        if existing is None:
            raise
        return existing, False
    return candidate, True
