"""Candidates found by a batch engine, stored in bulk: a chunk in a few statements. Both engines write
requests' candidates and record pairs (`--dedup`) through here (`tracing.batch` a chunk of requests or
records, `engines/spark` a chunk of a partition); continuous matching stores a request's few one at a time
(`tracing.candidates.store_candidate`).

Their write was a candidate at a time (`store_candidate`, then `continuous.refresh_request_state`): a
read, a savepoint, an insert and an audit entry each, a count and a state change a request; some 80 round
trips a request, 0.3-0.6 s for a chunk of 500 requests under the writers' lock, which made the Spark
engine's write-back of 10M requests take hours (issue 23). Here the same rows and the same audit entries
are written with a statement per kind of row for the whole chunk: the candidates that exist already read
by their pairs, the new ones and the requests' keys COPYed (PostgreSQL; the driver's executemany on
SQLite), the changed ones updated in one executemany, the requests' states likewise, and the audit entries
hashed in bulk (`AuditLog.add_many`) and appended as one batch on the writers' chain.

What is stored is what that write stored (tests/tracing/test_batch_store.py: storing the same hits one
at a time afterwards finds nothing to change): the same candidate rows, one audit entry per candidate
created or updated and one per request state changed; decided candidates keep their decision; requests no
longer open and records erased since the search are passed over. Only the order of the entries within the
transaction differs (creates, updates, then states, rather than request by request); the chain stays one
line.
Written by pairs, it is idempotent: the same hits again find every candidate unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.orm import Session

from kinlink.matching.model import Model
from kinlink.matching.score_values import Scored
from kinlink.store import bulk
from kinlink.store.audit import AuditLog
from kinlink.store.db import unit_of_work
from kinlink.store.match_keys import index_keys
from kinlink.store.match_records import IDS_PER_QUERY, request_record
from kinlink.store.models import Person, utcnow
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.candidates import pair_key
from kinlink.tracing.continuous import MatchSummary
from kinlink.tracing.requests import OPEN_STATES

_CAND = MatchCandidate.__table__
_REQ = TracingRequest.__table__
_UPDATE_CANDIDATE = (
    update(_CAND)
    .where(_CAND.c.id == bindparam("cid"))
    .values(
        probability=bindparam("p"),
        weight=bindparam("w"),
        explanation=bindparam("x"),
        model_name=bindparam("mn"),
        model_version=bindparam("mv"),
        updated_at=bindparam("at"),
        version=_CAND.c.version + 1,  # as the ORM's version counter does
    )
)
_TO_CANDIDATES = (
    update(_REQ)
    .where(_REQ.c.id == bindparam("rid"), _REQ.c.state == "open")
    .values(state="candidates", updated_at=bindparam("at"), version=_REQ.c.version + 1)
)
# A candidate to store: (request id or None, left record id or None, record id, score).
_Found = tuple[int | None, int | None, int, Scored]


def store_request_candidates_bulk(
    session: Session,
    actor: str,
    model: Model,
    hits: Mapping[int, Sequence[tuple[int, Scored]]],
    summary: MatchSummary,
) -> None:
    """Requests' candidates (request id -> (person id, score), best first) with the requests' keys and
    states and their audit entries, under the audit lock, in the caller's transaction: what storing them
    one at a time (`store_candidate`) writes, in a few statements for the whole batch."""
    log = AuditLog(session, actor)
    log.lock()  # the writers' mutex, as every candidate writer takes it; read what we change after it
    requests = _open_requests(session, sorted(hits))
    if not requests:
        return
    alive = existing_persons(session, {pid for r in requests for pid, _s in hits[r.id]})
    index_keys(session, [request_record(r) for r in requests], "r", in_bulk=True)
    found: dict[str, _Found] = {}  # pair -> (request, left record, record, score), in hit order
    for r in requests:
        for pid, scored in hits[r.id]:
            if pid in alive:
                found.setdefault(pair_key(request_id=r.id, person_id=pid), (r.id, None, pid, scored))
    _store_found(session, log, model, found, summary)
    # A request still open with a candidate not rejected now has candidates (`refresh_request_state`).
    opened = [r.id for r in requests if r.state == "open"]
    listed = sorted(_with_candidates(session, opened))
    if listed:
        at = utcnow()
        session.execute(_TO_CANDIDATES, [{"rid": rid, "at": at} for rid in listed])
        log.add_many(
            "update", "tracing_request", ((rid, {"state": ["open", "candidates"]}) for rid in listed)
        )
    summary.requests.update(r.id for r in requests)
    log.flush()


def _store_found(
    session: Session, log: AuditLog, model: Model, found: Mapping[str, _Found], summary: MatchSummary
) -> None:
    """Candidates by pair, under the caller's audit lock: the new ones inserted, the changed ones updated,
    an audit entry each; a decided candidate keeps its decision."""
    existing = _candidates(session, list(found))
    new = [pair for pair in found if pair not in existing]
    created = _insert(session, model, {pair: found[pair] for pair in new})
    updates, changes = [], []
    for pair, (*_ids, scored) in found.items():
        if pair in created:
            summary.add("created")
            continue
        cid, state, old, version = existing[pair]
        prob = round(scored.probability, 6)
        if state != "pending" or (abs(old - prob) < 1e-6 and version == model.version):
            summary.add("unchanged")
            continue
        summary.add("updated")
        updates.append(
            {"cid": cid, "p": prob, "w": round(scored.weight, 4), "x": scored.explanation()}
            | {"mn": model.name, "mv": model.version, "at": utcnow()}
        )
        changes.append((cid, {"probability": [old, prob]}))
    log.add_many(
        "create",
        "match_candidate",
        (
            (created[pair], {"pair": pair, "probability": round(found[pair][3].probability, 6)})
            for pair in new
            if pair in created
        ),
    )
    if updates:
        session.execute(_UPDATE_CANDIDATE, updates)
        log.add_many("update", "match_candidate", changes)


def write_record_candidates(
    engine: Engine, actor: str, model: Model, found: Sequence[tuple[int, int, Scored]], summary: MatchSummary
) -> None:
    """Record-to-record candidates (left, right, score: the lower id as the query) in one transaction, in
    a few statements; both engines write through here.

    A pair given twice (found from both its records) is stored once and counted unchanged the second time,
    as storing them one at a time counts it; records erased since the search are passed over."""
    if not found:
        return
    with unit_of_work(engine) as session:
        log = AuditLog(session, actor)
        log.lock()
        alive = existing_persons(session, {p for a, b, _ in found for p in (a, b)})
        pairs: dict[str, _Found] = {}
        for left, right, scored in found:
            if left in alive and right in alive:
                a, b = sorted((left, right))
                pair = pair_key(left_person_id=a, person_id=b)
                if pair in pairs:
                    summary.add("unchanged")
                else:
                    pairs[pair] = (None, a, b, scored)
        _store_found(session, log, model, pairs, summary)
        log.flush()


def _open_requests(session: Session, ids: list[int]) -> list[TracingRequest]:
    out: list[TracingRequest] = []
    for i in range(0, len(ids), IDS_PER_QUERY):
        out += session.scalars(
            select(TracingRequest)
            .where(TracingRequest.id.in_(ids[i : i + IDS_PER_QUERY]), TracingRequest.state.in_(OPEN_STATES))
            .order_by(TracingRequest.id)
            .execution_options(populate_existing=True)
        )
    return out


def existing_persons(session: Session, ids: set[int]) -> set[int]:
    """Those of these records still in the registry (not erased since the search found them)."""
    out: set[int] = set()
    id_list = sorted(ids)
    for i in range(0, len(id_list), IDS_PER_QUERY):
        out.update(session.scalars(select(Person.id).where(Person.id.in_(id_list[i : i + IDS_PER_QUERY]))))
    return out


def _candidates(session: Session, pairs: list[str]) -> dict[str, tuple[int, str, float, int]]:
    """pair -> (id, state, probability, model version) of the candidates stored for these pairs."""
    out: dict[str, tuple[int, str, float, int]] = {}
    cols = (_CAND.c.pair, _CAND.c.id, _CAND.c.state, _CAND.c.probability, _CAND.c.model_version)
    for i in range(0, len(pairs), IDS_PER_QUERY):
        for pair, cid, state, prob, version in session.execute(
            select(*cols).where(_CAND.c.pair.in_(pairs[i : i + IDS_PER_QUERY]))
        ):
            out[pair] = (cid, state, prob, version)
    return out


def _insert(session: Session, model: Model, new: Mapping[str, _Found]) -> dict[str, int]:
    """The new candidates written in bulk (COPY on PostgreSQL), their ids drawn first: pair -> id.

    Safe without ON CONFLICT: every writer of a request's candidates (this, `match_request`,
    `match_new_records`) takes the writers' mutex before it reads what is stored, so no other transaction
    can store one of these pairs between the read and this write. Were one to (a writer added without the
    mutex), the pair's unique constraint fails the whole chunk and a rerun stores it (nothing twice)."""
    if not new:
        return {}
    conn = session.connection()
    ids = bulk.next_ids(conn, _CAND, len(new))
    at = utcnow()
    copies = bulk.copies(conn)  # COPY takes the JSON column as its text; executemany converts it itself
    bulk.write_rows(
        conn,
        _CAND,
        (
            {
                "id": cid,
                "pair": pair,
                "request_id": rid,
                "left_person_id": left,
                "person_id": pid,
                "probability": round(scored.probability, 6),
                "weight": round(scored.weight, 4),
                "explanation": json.dumps(scored.explanation()) if copies else scored.explanation(),
                "model_name": model.name,
                "model_version": model.version,
                "state": "pending",
                "version": 1,
                "created_at": at,
                "updated_at": at,
            }
            for cid, (pair, (rid, left, pid, scored)) in zip(ids, new.items(), strict=True)
        ),
    )
    return dict(zip(new, ids, strict=True))


def _with_candidates(session: Session, request_ids: list[int]) -> set[int]:
    """Those of these requests with a candidate not rejected."""
    out: set[int] = set()
    for i in range(0, len(request_ids), IDS_PER_QUERY):
        out.update(
            session.scalars(
                select(_CAND.c.request_id)
                .where(
                    _CAND.c.request_id.in_(request_ids[i : i + IDS_PER_QUERY]), _CAND.c.state != "rejected"
                )
                .group_by(_CAND.c.request_id)
            )
        )
    return out


def write_request_candidates_bulk(
    engine: Engine,
    actor: str,
    model: Model,
    hits: Mapping[int, Sequence[tuple[int, Scored]]],
    summary: MatchSummary,
) -> None:
    """`store_request_candidates_bulk` in a transaction of its own: all of it stored, or none of it."""
    with unit_of_work(engine) as session:
        store_request_candidates_bulk(session, actor, model, hits, summary)
