"""The bulk write of a batch engine's candidates (both engines') stores what storing the candidates one at a
time, as continuous matching does, stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, select, update

from kinlink.demo import DEMO_REGISTRY
from kinlink.matching.model import Model, load_model
from kinlink.matching.score_values import Scored
from kinlink.matching.searcher import Searcher
from kinlink.registry import imports
from kinlink.store import audit
from kinlink.store.audit import AuditLog
from kinlink.store.db import unit_of_work
from kinlink.store.match_keys import index_keys
from kinlink.store.match_records import request_record
from kinlink.store.tracing_models import MatchCandidate, MatchKey, TracingRequest
from kinlink.tracing import batch
from kinlink.tracing.batch_store import write_request_candidates_bulk
from kinlink.tracing.candidates import store_candidate
from kinlink.tracing.continuous import MatchSummary, refresh_request_state
from kinlink.tracing.requests import Enquirer, SoughtPerson, create_request

ACTOR = "test:caseworker"
NAMES = ("Пактышев Леонид Андреевич", "Leonid Paktishev", "Савченко Надія", "Никто Никтович")


def _counts(s: MatchSummary) -> tuple[int, int, int]:
    return s.created, s.updated, s.unchanged


def _one_at_a_time(
    engine: Engine, model: Model, hits: Mapping[int, Sequence[tuple[int, Scored]]], summary: MatchSummary
) -> None:
    """The reference: each candidate stored by `store_candidate` and each request's state refreshed, as
    continuous matching stores a request's (the batch engines' write before the bulk one)."""
    with unit_of_work(engine) as s:
        log = AuditLog(s, ACTOR)
        log.lock()
        for req in s.scalars(select(TracingRequest).where(TracingRequest.id.in_(list(hits)))):
            index_keys(s, [request_record(req)], "r")
            for pid, scored in hits[req.id]:
                summary.add(store_candidate(s, log, model, scored, request_id=req.id, person_id=pid).outcome)
            refresh_request_state(s, ACTOR, req, log)
            summary.requests.add(req.id)
        log.flush()


def _stored(engine: Engine) -> tuple[list[Any], list[Any], list[Any]]:
    with unit_of_work(engine) as s:
        cands = s.execute(
            select(
                MatchCandidate.pair,
                MatchCandidate.request_id,
                MatchCandidate.left_person_id,
                MatchCandidate.person_id,
                MatchCandidate.probability,
                MatchCandidate.weight,
                MatchCandidate.explanation,
                MatchCandidate.model_version,
                MatchCandidate.state,
                MatchCandidate.version,
            ).order_by(MatchCandidate.pair)
        ).all()
        states = s.execute(select(TracingRequest.id, TracingRequest.state).order_by(TracingRequest.id)).all()
        keys = s.execute(
            select(MatchKey.entity_id, MatchKey.key).where(MatchKey.entity == "r").order_by(MatchKey.key)
        ).all()
    return [tuple(c) for c in cands], [tuple(r) for r in states], sorted(map(tuple, keys))


def _decision_kept_and_one_entry_a_write(engine: Engine, rejected: int, n: int) -> None:
    """The decided candidate kept its decision; the chain holds; one entry a candidate created or updated
    (n created, then all but the decided one updated)."""
    with unit_of_work(engine) as s:
        assert s.get(MatchCandidate, rejected).state == "rejected"
        assert not audit.verify(s)
        entries = s.scalars(
            select(audit.AuditEntry.action).where(audit.AuditEntry.entity == "match_candidate")
        ).all()
    assert sorted(entries) == ["create"] * n + ["update"] * (n - 1)


def _filed(engine: Engine) -> tuple[Model, dict[int, list[tuple[int, Scored]]], int]:
    """The demo registry and requests filed: the model, the requests' hits as `kinlink match` finds them,
    how many."""
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR).written
    with unit_of_work(engine) as s:
        for name in NAMES:
            create_request(s, ACTOR, SoughtPerson(full_name=name), Enquirer("Полівцева Ольга"))
    model = load_model()
    with unit_of_work(engine) as s:
        searcher = Searcher(batch.build_index(s, model))
        queries = [request_record(r) for r in s.scalars(select(TracingRequest).order_by(TracingRequest.id))]
    found = searcher.search(queries, limit=20, min_probability=model.candidate_threshold)
    hits = {
        int(q.id): [(int(h.record.id), h.scored) for h in hs] for q, hs in zip(queries, found, strict=True)
    }
    n = sum(map(len, hits.values()))
    assert n >= 2 and not hits[queries[-1].id]  # candidates, and a request with none
    return model, hits, n


def test_the_bulk_write_stores_what_the_per_candidate_write_stores(engine: Engine) -> None:
    model, hits, n = _filed(engine)
    first = MatchSummary()
    write_request_candidates_bulk(engine, ACTOR, model, hits, first)
    assert _counts(first) == (n, 0, 0) and first.requests == set(hits)
    stored = _stored(engine)
    assert {state for _rid, state in stored[1]} == {"candidates", "open"}  # the one without stays open
    # Stored one at a time, each finds every row as it would have written it: nothing to change.
    again = MatchSummary()
    _one_at_a_time(engine, model, hits, again)
    assert _counts(again) == (0, 0, n) and _stored(engine) == stored

    # Scores changed (a new model's), one candidate decided meanwhile: it keeps its decision.
    with unit_of_work(engine) as s:
        rejected = s.scalars(select(MatchCandidate.id).order_by(MatchCandidate.id).limit(1)).one()
        s.execute(update(MatchCandidate).where(MatchCandidate.id == rejected).values(state="rejected"))
    changed = {
        rid: [(pid, replace(sc, probability=sc.probability * 0.99, weight=sc.weight - 0.1)) for pid, sc in hs]
        for rid, hs in hits.items()
    }
    bulk = MatchSummary()
    write_request_candidates_bulk(engine, ACTOR, model, changed, bulk)
    assert _counts(bulk) == (0, n - 1, 1)
    after = MatchSummary()
    _one_at_a_time(engine, model, changed, after)
    assert _counts(after) == (0, 0, n)
    _decision_kept_and_one_entry_a_write(engine, rejected, n)


def test_kinlink_match_stores_what_the_per_candidate_write_stores(engine: Engine) -> None:
    """The in-process engine writes through the bulk write too: the same counts, and the same rows as
    storing its hits one at a time."""
    model, hits, n = _filed(engine)
    first = batch.match_all(engine, ACTOR, model=model, dedup=False)
    assert _counts(first) == (n, 0, 0) and first.requests == set(hits)
    stored = _stored(engine)
    again = MatchSummary()
    _one_at_a_time(engine, model, hits, again)
    assert _counts(again) == (0, 0, n) and _stored(engine) == stored
    rerun = batch.match_all(engine, ACTOR, model=model, dedup=False)
    assert _counts(rerun) == (0, 0, n) and rerun.requests == set(hits) and _stored(engine) == stored
    with unit_of_work(engine) as s:
        assert not audit.verify(s)
        entries = s.scalars(
            select(audit.AuditEntry.action).where(audit.AuditEntry.entity == "match_candidate")
        ).all()
    assert sorted(entries) == ["create"] * n


def _record_pairs(engine: Engine, model: Model) -> list[tuple[int, int, Scored]]:
    """Every record against the others as `kinlink match --dedup` finds them: a pair found from both its
    records is given twice, the lower row as the query."""
    with unit_of_work(engine) as s:
        index = batch.build_index(s, model)
    searcher = Searcher(index)
    rows = range(len(index))
    found = []
    for row, hits in zip(rows, searcher.search_rows(rows, 6, model.candidate_threshold), strict=True):
        for hit in hits:
            if hit.row != row:
                scored = hit.scored if row < hit.row else index.score_rows(hit.row, row)
                found.append((int(index.record(row).id), int(hit.record.id), scored))  # type: ignore[arg-type]
    return found


def _pairs_one_at_a_time(
    engine: Engine, model: Model, found: Sequence[tuple[int, int, Scored]], summary: MatchSummary
) -> None:
    with unit_of_work(engine) as s:
        log = AuditLog(s, ACTOR)
        log.lock()
        for left, right, scored in found:
            summary.add(store_candidate(s, log, model, scored, left_person_id=left, person_id=right).outcome)
        log.flush()


def test_record_pairs_in_bulk_store_what_the_per_candidate_write_stores(engine: Engine) -> None:
    # The same people from two registrars: every record has its duplicate to be linked.
    for source in ("registrar-a", "registrar-b"):
        assert imports.import_registry(engine, DEMO_REGISTRY, source, ACTOR).written
    model = load_model()
    found = _record_pairs(engine, model)
    n = len({frozenset((a, b)) for a, b, _ in found})
    assert n >= 2 and len(found) > n  # pairs, some found from both sides
    first = MatchSummary()
    batch.write_record_candidates(engine, ACTOR, model, found, first)
    assert _counts(first) == (n, 0, len(found) - n)  # the second sighting of a pair is unchanged
    stored = _stored(engine)
    assert len(stored[0]) == n
    for pair, request_id, left, right, *_ in stored[
        0
    ]:  # the lower id on the left, as store_candidate puts it
        assert request_id is None and left < right and pair == f"p{left}:p{right}"
    again = MatchSummary()
    _pairs_one_at_a_time(engine, model, found, again)
    assert _counts(again) == (0, 0, len(found)) and _stored(engine) == stored

    with unit_of_work(engine) as s:
        rejected = s.scalars(select(MatchCandidate.id).order_by(MatchCandidate.id).limit(1)).one()
        s.execute(update(MatchCandidate).where(MatchCandidate.id == rejected).values(state="rejected"))
    changed = [
        (a, b, replace(sc, probability=sc.probability * 0.99, weight=sc.weight - 0.1)) for a, b, sc in found
    ]
    bulk = MatchSummary()
    batch.write_record_candidates(engine, ACTOR, model, changed, bulk)
    assert _counts(bulk) == (0, n - 1, len(found) - n + 1)
    after = MatchSummary()
    _pairs_one_at_a_time(engine, model, changed, after)
    assert _counts(after) == (0, 0, len(found))
    _decision_kept_and_one_entry_a_write(engine, rejected, n)
