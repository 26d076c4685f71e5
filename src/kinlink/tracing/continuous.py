"""Continuous matching: each new or changed request or record matched at once, against what is there.

A request filed is matched against every record; a record written (or a sighting stored) against the open
requests and, for duplicates, against the other records. Candidates above the model's threshold are stored
for a caseworker's review. The whole database at once is `tracing.batch`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kinlink.matching.model import Model, load_model
from kinlink.store.audit import AuditLog
from kinlink.store.casework_models import Notification
from kinlink.store.db import unit_of_work
from kinlink.store.match_keys import ensure_keys, index_keys, index_shared_keys
from kinlink.store.match_records import person_records, request_record
from kinlink.store.shortlist import requests_sharing_keys, shortlist_ids
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.candidates import store_candidate
from kinlink.tracing.clusters import recluster
from kinlink.tracing.matcher import db_scorer, search
from kinlink.tracing.notifications import news_for_persons
from kinlink.tracing.remains_matching import match_against_remains
from kinlink.tracing.requests import OPEN_STATES, set_state

logger = logging.getLogger("kinlink.tracing.continuous")


@dataclass(frozen=True)
class Matching:
    """What continuous matching runs with: the model, and whether writes are matched as they are made.

    Every door holds one and hands it to the actions that write; a door that turns `on_write` off (tests
    of other parts) leaves the matching to `kinlink match`.
    """

    model: Model = field(default_factory=load_model)
    on_write: bool = True


@dataclass
class MatchSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    requests: set[int] = field(default_factory=set)

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def match_request(
    session: Session, actor: str, request_id: int, *, model: Model | None = None
) -> MatchSummary:
    """A new (or changed) request against all records; candidates above the threshold stored for review."""
    model = model or load_model()
    req = session.get(TracingRequest, request_id)
    if req is None:
        raise LookupError(f"no request {request_id}")
    query = request_record(req)
    index_keys(session, [query], entity="r")
    ensure_keys(session)
    log = AuditLog(session, actor)
    log.lock()
    summary = MatchSummary(requests={req.id})
    for rec, s in search(session, query, model=model, limit=20):
        if s.probability >= model.candidate_threshold:
            summary.add(
                store_candidate(session, log, model, s, request_id=req.id, person_id=int(rec.id)).outcome
            )  # type: ignore[arg-type]
    refresh_request_state(session, actor, req, log)
    log.flush()
    return summary


def match_new_records(
    session: Session, actor: str, person_ids: Iterable[int], *, model: Model | None = None, dedup: bool = True
) -> MatchSummary:
    """New or changed records and sightings against open requests, and (dedup) against other records."""
    model = model or load_model()
    records = list(person_records(session, person_ids))
    index_keys(session, records, entity="p")
    session.flush()
    log = AuditLog(session, actor)
    log.lock()
    summary = MatchSummary()
    scorer = db_scorer(session, model)
    for rec in records:
        pid = int(rec.id)  # type: ignore[arg-type]
        # Requests that could be about this person: looked up under the record's keys.
        req_ids = shortlist_ids(session, rec, "r", set(), limit=200)
        if req_ids:
            target = scorer.prepare(rec)
            for req in session.scalars(
                select(TracingRequest).where(
                    TracingRequest.id.in_(req_ids), TracingRequest.state.in_(OPEN_STATES)
                )
            ):
                s = scorer.score(scorer.prepare(request_record(req)), target)
                if s.probability >= model.candidate_threshold:
                    summary.add(
                        store_candidate(session, log, model, s, request_id=req.id, person_id=pid).outcome
                    )
                    summary.requests.add(req.id)
        if dedup:
            for other, s in search(session, rec, model=model, scorer=scorer, limit=10, exclude={pid}):
                if s.probability >= model.candidate_threshold:
                    summary.add(
                        store_candidate(
                            session, log, model, s, left_person_id=pid, person_id=int(other.id)
                        ).outcome  # type: ignore[arg-type]
                    )
    for rid in sorted(summary.requests):
        req = session.get(TracingRequest, rid)
        if req is not None:
            refresh_request_state(session, actor, req, log)
    if dedup:
        recluster(session, log, model)
    log.flush()
    return summary


def refresh_request_state(session: Session, actor: str, req: TracingRequest, log: AuditLog) -> None:
    if req.state != "open":
        return
    has = session.scalar(
        select(func.count(MatchCandidate.id)).where(
            MatchCandidate.request_id == req.id, MatchCandidate.state != "rejected"
        )
    )
    if has:
        set_state(session, actor, req, "candidates", log=log)


def match_in_savepoint(
    session: Session,
    actor: str,
    matching: Matching,
    *,
    request_id: int | None = None,
    person_ids: list[int] | None = None,
) -> MatchSummary | None:
    """Match a request just filed, or records just written, in a savepoint of their transaction: if the
    matching fails, what was written stands (staff can re-run `kinlink match`), and the log says so
    without personal data. None when nothing was matched."""
    if not matching.on_write or (request_id is None and not person_ids):
        return None
    summary = None
    try:
        with session.begin_nested():
            if request_id is not None:
                summary = match_request(session, actor, request_id, model=matching.model)
            else:
                summary = match_new_records(session, actor, person_ids or [], model=matching.model)
    except Exception as e:  # the write stands; the failure is logged and `kinlink match` re-runs it
        what = f"request {request_id}" if request_id else "records"
        logger.error("matching %s failed: %s", what, type(e).__name__)
    _against_remains(session, actor, matching, request_id, person_ids or [])
    return summary


def _against_remains(
    session: Session, actor: str, matching: Matching, request_id: int | None, person_ids: list[int]
) -> None:
    """The same writes against the unidentified remains, in a savepoint of their own (`kinlink remains
    match` re-runs what fails)."""
    try:
        with session.begin_nested():
            match_against_remains(
                session,
                actor,
                person_ids=person_ids,
                request_ids=[request_id] if request_id is not None else [],
                model=matching.model,
            )
    except Exception as e:
        logger.error("matching against remains failed: %s", type(e).__name__)


def after_records_written(
    session: Session, actor: str, person_ids: list[int], matching: Matching, *, match: bool = True
) -> list[Notification]:
    """What follows any write to records: they are matched (unless `match` is off, as for a new event,
    which changes no key) and the families who may now learn something new about them are told."""
    if match:
        match_in_savepoint(session, actor, matching, person_ids=person_ids)
    return news_for_persons(session, person_ids)


def match_imported(
    engine: Engine, actor: str, person_ids: list[int], matching: Matching, chunk: int = 2000
) -> int:
    """Records an import has committed: keyed for searches, and every open request sharing a key with one
    of them matched again (so a family's request meets a list the day it arrives), a transaction per
    chunk or request. Duplicates among the records are left to `kinlink match`, which links them all at
    once. Returns how many requests were matched."""
    requests: set[int] = set()
    for i in range(0, len(person_ids), chunk):
        with unit_of_work(engine) as session:
            ids = person_ids[i : i + chunk]
            index_shared_keys(session, list(person_records(session, ids)))  # a request may key them too
            requests.update(requests_sharing_keys(session, ids, OPEN_STATES))
    for rid in sorted(requests):
        with unit_of_work(engine) as session:
            match_request(session, actor, rid, model=matching.model)
    return len(requests)
