"""The whole database at once (`kinlink match`): every open request against every record, and every record
against the others, through the in-memory index in forked workers, committed chunk by chunk."""

from __future__ import annotations

import os
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kinlink.matching.em import Estimate, estimate
from kinlink.matching.index import CandidateIndex
from kinlink.matching.model import Model, load_model
from kinlink.matching.score_values import Scored
from kinlink.matching.searcher import Searcher
from kinlink.store.audit import AuditLog
from kinlink.store.db import unit_of_work
from kinlink.store.match_keys import keys_stale, missing_keys, rebuild_keys
from kinlink.store.match_records import person_records, request_record
from kinlink.store.models import Person
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.batch_keys import BuildKeying, key_records  # noqa: F401  (importable from here)
from kinlink.tracing.batch_store import store_request_candidates_bulk, write_record_candidates
from kinlink.tracing.clusters import recluster
from kinlink.tracing.continuous import MatchSummary
from kinlink.tracing.requests import OPEN_STATES


def build_index(
    session: Session, model: Model, progress: Callable[[int], None] | None = None, processes: int = 1
) -> CandidateIndex:
    return CandidateIndex.build(model, person_records(session), progress=progress, processes=processes)


def default_processes(records: int) -> int:
    """Worker processes worth forking for a batch over this many records: one per core from 20,000 up."""
    return max(1, min(os.cpu_count() or 1, 8)) if records >= 20_000 else 1


# Requests or records per transaction of `match_all`. The search runs before the transaction opens, so the
# audit lock (which every writer takes) is held only while a chunk's candidates are written: about 0.3-0.6 s
# for 500 records on the shared 2-core machine, so a caseworker's decision or an import waits at most that
# long, whatever the size of the database; the cost of a commit per chunk is small against that.
BATCH_CHUNK = 500


def match_all(
    engine: Engine,
    actor: str,
    *,
    model: Model | None = None,
    dedup: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    chunk: int = BATCH_CHUNK,
    processes: int | None = None,
) -> MatchSummary:
    """Every open request against every record, and (dedup) every record against the others, in memory.

    progress(stage, done, total) is called as work advances. Keys missing from the key table are written,
    so that continuous matching finds these records afterwards.

    The work is committed in chunks of `chunk` requests or records, one transaction each, never the whole
    database at once: other writers go on between chunks, a process killed half-way loses only the chunk
    in flight (each chunk's candidates, request states and audit entries commit together), and a rerun
    completes the work without duplicates, since candidates are upserted by their pair.

    processes: worker processes for parsing names and searching (default: one per core on large
    databases); the results are the same whatever the number.
    """
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    model = model or load_model()
    summary = MatchSummary()
    refresh_stale_keys(engine, progress)
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count(Person.id))) or 0
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress("index", min(done[0], total), total)

        procs = processes if processes is not None else default_processes(total)
        keying = BuildKeying(engine)  # a first keying's rows, from the build, written meanwhile
        with keying.build():
            index = build_index(session, model, tick, procs)
        missing = [] if keying.beside else missing_keys(session)  # found after the build
        request_ids = list(
            session.scalars(
                select(TracingRequest.id)
                .where(TracingRequest.state.in_(OPEN_STATES))
                .order_by(TracingRequest.id)
            )
        )
    if progress:
        progress("index", total, total)
    keying.finish(missing, total, procs)

    with Searcher(index, procs) as searcher:
        for i in range(0, len(request_ids), chunk):
            _match_request_chunk(engine, actor, model, searcher, request_ids[i : i + chunk], summary)
            if progress:
                progress("requests", min(i + chunk, len(request_ids)), len(request_ids))
        if progress and not request_ids:
            progress("requests", 0, 0)
        if dedup:
            for start in range(0, len(index), chunk):
                rows = range(start, min(start + chunk, len(index)))
                _link_record_chunk(engine, actor, model, searcher, rows, summary)
                if progress:
                    progress("records", rows.stop, len(index))
    if dedup:
        recluster_all(engine, actor, model)
    return summary


def recluster_all(engine: Engine, actor: str, model: Model) -> None:
    """The clusters of records worked out again from the stored record-to-record candidates."""
    with unit_of_work(engine) as session:
        log = AuditLog(session, actor)
        log.lock()
        recluster(session, log, model)
        log.flush()


def refresh_stale_keys(engine: Engine, progress: Callable[[str, int, int], None] | None = None) -> None:
    """The key table rebuilt if an older kinlink's key scheme wrote it."""
    with unit_of_work(engine) as session:
        stale = keys_stale(session)
    if stale:
        rebuild_keys(engine, (lambda done, total: progress("keys", done, total)) if progress else None)


def _match_request_chunk(
    engine: Engine,
    actor: str,
    model: Model,
    searcher: Searcher,
    request_ids: list[int],
    summary: MatchSummary,
) -> None:
    """One transaction: these requests' keys, candidates and states, with their audit entries."""
    with unit_of_work(engine) as session:
        queries = [
            request_record(r)
            for r in session.scalars(
                select(TracingRequest).where(
                    TracingRequest.id.in_(request_ids), TracingRequest.state.in_(OPEN_STATES)
                )
            )
        ]
        found = searcher.search(queries, limit=20, min_probability=model.candidate_threshold)
        hits = {
            int(q.id): [(int(h.record.id), h.scored) for h in hs]  # type: ignore[arg-type]
            for q, hs in zip(queries, found, strict=True)
        }
        store_request_candidates_bulk(session, actor, model, hits, summary)


def _link_record_chunk(
    engine: Engine,
    actor: str,
    model: Model,
    searcher: Searcher,
    rows: range,
    summary: MatchSummary,
) -> None:
    """One transaction: the record-to-record candidates found from these rows of the index."""
    index = searcher.index
    found: list[tuple[int, int, Scored]] = []
    for row, hits in zip(rows, searcher.search_rows(rows, 6, model.candidate_threshold), strict=True):
        rec = index.record(row)
        for hit in hits:
            if hit.row == row:
                continue
            # A pair is always scored in the same direction (lower row as the query), so finding it from
            # either side gives the same probability and re-runs change nothing.
            scored = hit.scored if row < hit.row else index.score_rows(hit.row, row)
            found.append((int(rec.id), int(hit.record.id), scored))  # type: ignore[arg-type]
    write_record_candidates(engine, actor, model, found, summary)


def estimate_model(engine: Engine, model: Model) -> Estimate | None:
    """The model's m and u estimated from the registry's own records (EM), or None with fewer than 100."""
    with unit_of_work(engine) as session:
        records = list(person_records(session))
    if len(records) < 100:
        return None
    return estimate(
        model, records, random_pairs=min(200_000, len(records) * 20), sample=min(20_000, len(records))
    )
