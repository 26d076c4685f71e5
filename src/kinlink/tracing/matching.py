"""Continuous matching against the database: new records and sightings against open requests, new requests
against all records, records against each other (duplicates), and the whole database at once.

Candidate generation here reads the `match_keys` table (an indexed lookup per key, never a scan); the whole
database run builds the in-memory index instead. Both shortlist the same way and score with the same Scorer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from kinlink.matching import names_bridge as nb
from kinlink.matching.cluster import Link, cluster
from kinlink.matching.compare import birth_range, sex_key
from kinlink.matching.index import MAX_POSTING, MISSING_DAY, CandidateIndex, prerank, query_keys, record_keys
from kinlink.matching.model import Model, load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scored, Scorer, TermFrequencies
from kinlink.registry.audit import AuditLog
from kinlink.store.db import unit_of_work
from kinlink.store.models import Event, Person, PersonName, Source, utcnow
from kinlink.store.tracing_models import MatchCandidate, MatchKey, PersonCluster, TracingRequest
from kinlink.tracing.candidates import store_candidate
from kinlink.tracing.requests import as_match_record, set_state

OPEN_STATES = ("open", "candidates")
SHORTLIST = 60
_TF_PREFIX = {"family": "tf:f:", "given": "tf:g:", "patronymic": "tf:p:"}
_CHUNK = 500

# --- reading records ------------------------------------------------------------------------------------


def person_records(
    session: Session, ids: Iterable[int] | None = None, chunk: int = 5000
) -> Iterator[MatchRecord]:
    """Records as the matcher sees them; all of them (in id order) when ids is None."""
    if ids is not None:
        id_list = sorted(set(ids))
        for i in range(0, len(id_list), _CHUNK):
            yield from _load_persons(session, select(Person.id).where(Person.id.in_(id_list[i : i + _CHUNK])))
        return
    last = 0
    while True:
        page = list(
            session.scalars(select(Person.id).where(Person.id > last).order_by(Person.id).limit(chunk))
        )
        if not page:
            return
        yield from _load_persons(session, select(Person.id).where(Person.id.in_(page)))
        last = page[-1]


def _load_persons(session: Session, id_query) -> list[MatchRecord]:  # type: ignore[no-untyped-def]
    ids = list(session.scalars(id_query))
    if not ids:
        return []
    other: dict[int, list[str]] = defaultdict(list)
    for pid, name in session.execute(
        select(PersonName.person_id, PersonName.full_name)
        .where(PersonName.person_id.in_(ids), PersonName.position > 0)
        .order_by(PersonName.person_id, PersonName.position)
    ):
        other[pid].append(name)
    captured: dict[int, tuple[str | None, str | None]] = {}
    for pid, d, place in session.execute(
        select(Event.person_id, Event.date, Event.place)
        .where(Event.person_id.in_(ids), Event.kind == "captured")
        .order_by(Event.person_id, Event.id)
    ):
        captured.setdefault(pid, (d, place))
    rows = session.execute(
        select(
            Person.id,
            Person.full_name,
            Person.source_record_id,
            Person.sex,
            Person.birth_date,
            Person.age,
            Person.age_as_of,
            Person.place_of_birth,
            Person.unit,
            Person.rank,
            Person.service_number,
            Source.kind,
        )
        .join(Source, Source.id == Person.source_id)
        .where(Person.id.in_(ids))
        .order_by(Person.id)
    )
    out = []
    for r in rows:
        cap = captured.get(r.id, (None, None))
        out.append(
            MatchRecord(
                id=r.id,
                name=r.full_name,
                other_names=tuple(n for n in other.get(r.id, ()) if n != r.full_name),
                source_record_id=r.source_record_id,
                sex=r.sex,
                birth_date=r.birth_date,
                age=r.age,
                age_as_of=r.age_as_of,
                place_of_birth=r.place_of_birth,
                unit=r.unit,
                rank=r.rank,
                service_number=r.service_number,
                capture_date=cap[0],
                capture_place=cap[1],
                kind="sighting" if r.kind == "report" else "record",
            )
        )
    return out


# --- the key index in the database ----------------------------------------------------------------------


def _all_keys(record: MatchRecord, with_tf: bool) -> set[str]:
    keys = record_keys(record)
    if with_tf and record.name:
        for table, key in zip(_TF_PREFIX, nb.tf_keys(record.name), strict=True):
            if key:
                keys.add(_TF_PREFIX[table] + key)
    return {k[:200] for k in keys}


def index_keys(session: Session, records: list[MatchRecord], entity: str = "p") -> None:
    """(Re)write the keys of these records or requests; persons' keys include the term-frequency ones."""
    if not records:
        return
    ids = [int(r.id) for r in records]  # type: ignore[arg-type]
    for i in range(0, len(ids), _CHUNK):
        session.execute(
            delete(MatchKey).where(MatchKey.entity == entity, MatchKey.entity_id.in_(ids[i : i + _CHUNK]))
        )
    rows = [
        {"entity": entity, "entity_id": int(r.id), "key": k}  # type: ignore[arg-type]
        for r in records
        for k in sorted(_all_keys(r, with_tf=entity == "p"))
    ]
    for i in range(0, len(rows), 5000):
        session.execute(insert(MatchKey), rows[i : i + 5000])


def ensure_keys(session: Session) -> int:
    """Key the records that have no keys yet (imported without matching); returns how many were keyed.

    An anti-join on the key table's (entity, entity_id) index: cheap when everything is keyed, which is the
    normal state once imports call `match_new_records`.
    """
    keyed = select(MatchKey.id).where(MatchKey.entity == "p", MatchKey.entity_id == Person.id).exists()
    missing = list(session.scalars(select(Person.id).where(~keyed).order_by(Person.id)))
    for i in range(0, len(missing), 5000):
        index_keys(session, list(person_records(session, missing[i : i + 5000])), "p")
    if missing:
        session.flush()
    return len(missing)


class DbTermFrequencies(TermFrequencies):
    """Name frequencies counted from the key table, looked up as needed (indexed count per key)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.population = session.scalar(select(func.count(Person.id))) or 0
        self._memo: dict[tuple[str, str], int] = {}

    def count(self, table: str, key: str) -> int:
        hit = self._memo.get((table, key))
        if hit is None:
            hit = (
                self.session.scalar(
                    select(func.count(MatchKey.id)).where(
                        MatchKey.entity == "p", MatchKey.key == _TF_PREFIX[table] + key
                    )
                )
                or 0
            )
            self._memo[(table, key)] = hit
        return hit


def _shortlist_ids(
    session: Session, query: MatchRecord, entity: str, exclude: set[int], limit: int = 2000
) -> list[int]:
    keys = list(query_keys(query))
    if not keys:
        return []
    sizes = dict(
        session.execute(
            select(MatchKey.key, func.count(MatchKey.id))
            .where(MatchKey.entity == entity, MatchKey.key.in_(keys))
            .group_by(MatchKey.key)
        ).all()
    )
    if not sizes:
        return []
    usable = [k for k, n in sizes.items() if n <= MAX_POSTING] or [min(sizes, key=sizes.__getitem__)]
    shared = func.count(MatchKey.id)
    rows = session.execute(
        select(MatchKey.entity_id, shared)
        .where(MatchKey.entity == entity, MatchKey.key.in_(usable))
        .group_by(MatchKey.entity_id)
        .order_by(shared.desc(), MatchKey.entity_id)
        .limit(limit + len(exclude))
    ).all()
    return [r[0] for r in rows if r[0] not in exclude][:limit]


def _rank_records(
    query: MatchRecord, records: list[MatchRecord], shared: list[int], size: int
) -> list[MatchRecord]:
    """The same cheap pre-rank as the in-memory index, over records read from the database."""
    if len(records) <= size:
        return records
    lo = np.empty(len(records), dtype=np.int32)
    hi = np.empty(len(records), dtype=np.int32)
    sex = np.zeros(len(records), dtype=np.int8)
    for i, r in enumerate(records):
        br = birth_range(r.birth_date, r.age, r.age_as_of, r.birth_year_to)
        lo[i], hi[i] = br if br else (MISSING_DAY, MISSING_DAY)
        s = sex_key(r.sex)
        sex[i] = 1 if s == "m" else 2 if s == "f" else 0
    rank = prerank(query, np.asarray(shared, dtype=np.float32), lo, hi, sex)
    top = np.argpartition(-rank, size)[:size]
    return [records[i] for i in sorted(top.tolist())]


def db_scorer(session: Session, model: Model) -> Scorer:
    tf = DbTermFrequencies(session)
    return Scorer(model, tf, population=tf.population)


def search(
    session: Session,
    query: MatchRecord,
    *,
    model: Model | None = None,
    limit: int = 10,
    scorer: Scorer | None = None,
    exclude: Iterable[int] = (),
) -> list[tuple[MatchRecord, Scored]]:
    """The best records for one query, best first, read through the key table."""
    model = model or load_model()
    scorer = scorer or db_scorer(session, model)
    excluded = {int(x) for x in exclude}
    ids = _shortlist_ids(session, query, "p", excluded)
    if not ids:
        return []
    order = {pid: n for n, pid in enumerate(ids)}
    records = sorted(person_records(session, ids), key=lambda r: order[int(r.id)])  # type: ignore[arg-type]
    shared = list(range(len(records), 0, -1))  # already in order of keys shared
    records = _rank_records(query, records, shared, SHORTLIST)
    q = scorer.prepare(query)
    scored = [(r, scorer.score(q, scorer.prepare(r))) for r in records]
    scored.sort(key=lambda t: (-t[1].weight, str(t[0].id)))
    return scored[:limit]


# --- continuous matching --------------------------------------------------------------------------------


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
    query = as_match_record(req)
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
    _refresh_request_state(session, actor, req, log)
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
        req_ids = _shortlist_ids(session, rec, "r", set(), limit=200)
        if req_ids:
            target = scorer.prepare(rec)
            for req in session.scalars(
                select(TracingRequest).where(
                    TracingRequest.id.in_(req_ids), TracingRequest.state.in_(OPEN_STATES)
                )
            ):
                s = scorer.score(scorer.prepare(as_match_record(req)), target)
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
            _refresh_request_state(session, actor, req, log)
    if dedup:
        recluster(session, log, model)
    log.flush()
    return summary


def _refresh_request_state(session: Session, actor: str, req: TracingRequest, log: AuditLog) -> None:
    if req.state != "open":
        return
    has = session.scalar(
        select(func.count(MatchCandidate.id)).where(
            MatchCandidate.request_id == req.id, MatchCandidate.state != "rejected"
        )
    )
    if has:
        set_state(session, actor, req, "candidates", log=log)


def recluster(session: Session, log: AuditLog, model: Model) -> int:
    """Rewrite the clusters from the record-to-record links; returns how many clusters there are."""
    links = [
        Link(a, b, p, state, cid)
        for cid, a, b, p, state in session.execute(
            select(
                MatchCandidate.id,
                MatchCandidate.left_person_id,
                MatchCandidate.person_id,
                MatchCandidate.probability,
                MatchCandidate.state,
            ).where(MatchCandidate.left_person_id.is_not(None))
        )
    ]
    clusters = cluster(links, model.cluster_threshold)
    wanted: dict[int, tuple[int, list]] = {}
    for c in clusters:
        for m in c.members:
            ev = [
                [lk.b if lk.a == m else lk.a, lk.probability, lk.ref]
                for lk in c.evidence
                if m in (lk.a, lk.b)
            ]
            wanted[int(m)] = (int(c.id), ev)  # type: ignore[call-overload]
    have = {pc.person_id: pc for pc in session.scalars(select(PersonCluster))}
    for pid, pc in have.items():
        if pid not in wanted:
            session.delete(pc)
            log.add("delete", "person_cluster", pid, {"cluster_id": pc.cluster_id})
    for pid, (cid, ev) in wanted.items():
        pc = have.get(pid)
        if pc is None:
            session.add(PersonCluster(person_id=pid, cluster_id=cid, evidence=ev))
            log.add("create", "person_cluster", pid, {"cluster_id": cid})
        elif pc.cluster_id != cid or pc.evidence != ev:
            log.add("update", "person_cluster", pid, {"cluster_id": [pc.cluster_id, cid]})
            pc.cluster_id, pc.evidence, pc.updated_at = cid, ev, utcnow()
    session.flush()
    return len(clusters)


def cluster_of(session: Session, person_id: int) -> list[int]:
    """The records taken to be the same person as this one (itself included)."""
    cid = session.scalar(select(PersonCluster.cluster_id).where(PersonCluster.person_id == person_id))
    if cid is None:
        return [person_id]
    return sorted(session.scalars(select(PersonCluster.person_id).where(PersonCluster.cluster_id == cid)))


# --- the whole database ---------------------------------------------------------------------------------


def build_index(
    session: Session, model: Model, progress: Callable[[int], None] | None = None
) -> CandidateIndex:
    return CandidateIndex.build(model, person_records(session), progress=progress)


def match_all(
    engine: Engine,
    actor: str,
    *,
    model: Model | None = None,
    dedup: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> MatchSummary:
    """Every open request against every record, and (dedup) every record against the others, in memory.

    progress(stage, done, total) is called as work advances. Keys missing from the key table are written,
    so that continuous matching finds these records afterwards.
    """
    model = model or load_model()
    summary = MatchSummary()
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count(Person.id))) or 0
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress("index", min(done[0], total), total)

        index = build_index(session, model, tick)
        if progress:
            progress("index", total, total)
        ensure_keys(session)
        log = AuditLog(session, actor)
        log.lock()
        requests = list(session.scalars(select(TracingRequest).where(TracingRequest.state.in_(OPEN_STATES))))
        for n, req in enumerate(requests, 1):
            query = as_match_record(req)
            index_keys(session, [query], "r")
            for hit in index.search(query, limit=20, min_probability=model.candidate_threshold):
                summary.add(
                    store_candidate(
                        session, log, model, hit.scored, request_id=req.id, person_id=int(hit.record.id)
                    ).outcome  # type: ignore[arg-type]
                )
            _refresh_request_state(session, actor, req, log)
            summary.requests.add(req.id)
            if progress:
                progress("requests", n, len(requests))
        if dedup:
            for row in range(len(index)):
                rec = index.record(row)
                for hit in index.search(rec, limit=6, min_probability=model.candidate_threshold):
                    if hit.row == row:
                        continue
                    # A pair is always scored in the same direction (lower row as the query), so finding
                    # it from either side gives the same probability and re-runs change nothing.
                    scored = hit.scored if row < hit.row else index.score_rows(hit.row, row)
                    summary.add(
                        store_candidate(
                            session,
                            log,
                            model,
                            scored,
                            left_person_id=int(rec.id),
                            person_id=int(hit.record.id),  # type: ignore[arg-type]
                        ).outcome
                    )
                if progress and (row + 1) % 1000 == 0:
                    progress("records", row + 1, len(index))
            if progress:
                progress("records", len(index), len(index))
            recluster(session, log, model)
        log.flush()
    return summary
