"""Continuous matching against the database: new records and sightings against open requests, new requests
against all records, records against each other (duplicates), and the whole database at once.

Candidate generation here reads the `match_keys` table (an indexed lookup per key, never a scan); the whole
database run builds the in-memory index instead. Both shortlist the same way and score with the same Scorer.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import (
    CompoundSelect,
    Engine,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kinlink.matching import names_bridge as nb
from kinlink.matching.cluster import Link, cluster
from kinlink.matching.compare import birth_range, sex_key
from kinlink.matching.index import (
    MAX_POSTING,
    MISSING_DAY,
    CandidateIndex,
    Searcher,
    prerank,
    query_keys,
    record_keys,
)
from kinlink.matching.model import Model, load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Prepared, Scored, Scorer, TermFrequencies
from kinlink.registry.audit import AuditLog
from kinlink.store.db import unit_of_work
from kinlink.store.models import Event, Person, PersonName, Source, Tombstone, utcnow
from kinlink.store.tracing_models import (
    MatchCandidate,
    MatchKey,
    MatchKeyScheme,
    PersonCluster,
    TracingRequest,
)
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
            yield from _load_persons(session, id_list[i : i + _CHUNK])
        return
    last = 0
    while True:
        page = list(
            session.scalars(select(Person.id).where(Person.id > last).order_by(Person.id).limit(chunk))
        )
        if not page:
            return
        yield from _load_persons(session, page)
        last = page[-1]


_IDS = bindparam("ids", expanding=True)
# Built once: the statement, not the query, is the costly part of reading a few dozen records.
# A record's other names and its capture events, in one statement: (person, 0, name, None) or
# (person, 1, date, place), in order.
_NAMES_AND_CAPTURES = (
    select(
        PersonName.person_id.label("pid"),
        literal(0).label("what"),
        PersonName.full_name.label("a"),
        null().label("b"),
        PersonName.position.label("n"),
    )
    .where(PersonName.person_id.in_(_IDS), PersonName.position > 0)
    .union_all(
        select(Event.person_id, literal(1), Event.date, Event.place, Event.id).where(
            Event.person_id.in_(_IDS), Event.kind == "captured"
        )
    )
    .order_by("pid", "what", "n")
)
_RECORDS = (
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
    .where(Person.id.in_(_IDS))
    .order_by(Person.id)
)


def reader(session: Session) -> Connection:
    """The session's connection, for plain reads: a fraction of the ORM's cost per statement. What the
    session holds unwritten is written first, as autoflush would."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection()


def _load_persons(session: Session, ids: list[int]) -> list[MatchRecord]:
    """The records of these ids (those that exist), in id order."""
    if not ids:
        return []
    params = {"ids": ids}
    conn = reader(session)
    other: dict[int, list[str]] = defaultdict(list)
    captured: dict[int, tuple[str | None, str | None]] = {}
    # Fetched whole (one call), not row by row: a search reads a few hundred rows in all.
    for pid, what, a, b, _n in conn.execute(_NAMES_AND_CAPTURES, params).all():
        if what == 0:
            other[pid].append(a)
        else:
            captured.setdefault(pid, (a, b))
    rows = conn.execute(_RECORDS, params).all()
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
    _stamp_if_first(session)
    for i in range(0, len(rows), 5000):
        session.execute(insert(MatchKey), rows[i : i + 5000])


def missing_keys(session: Session) -> list[int]:
    """The records that have no keys yet (imported without matching), in id order.

    An anti-join on the key table's (entity, entity_id) index: cheap when everything is keyed, which is the
    normal state once imports call `match_new_records`.
    """
    keyed = select(MatchKey.id).where(MatchKey.entity == "p", MatchKey.entity_id == Person.id).exists()
    return list(session.scalars(select(Person.id).where(~keyed).order_by(Person.id)))


# Names whose keys stand for the whole derivation: when kinlink.names or the key code change how keys are
# made, some of these change too, and so does the fingerprint (a version number would depend on someone
# remembering to bump it).
_PROBES = (
    MatchRecord(id=1, name="ПАКТЫШЕВ Леонид Андреевич", service_number="АБ-123456"),
    MatchRecord(id=2, name="Leonid Paktishev"),
    MatchRecord(id=3, name="Савченко Надія Вікторівна"),
    MatchRecord(id=4, name="Nadija Sawtschenko"),
    MatchRecord(id=5, name="Щербаков Е. В."),
    MatchRecord(id=6, name="Hruschtschow, Nikita"),
    MatchRecord(id=7, name="Konașenkov Igor"),
    MatchRecord(id=8, name="Кирило Буйничів"),
    MatchRecord(id=9, name="Michaił Kałasznikow"),
    MatchRecord(id=10, name="Oleg Sențov"),
    MatchRecord(id=11, name="Мустафа Джемілєв"),
    MatchRecord(id=12, name="Сашко Ярошенко-Бойко"),
)


_REBUILDING = "rebuilding"  # the fingerprint while rebuild_keys runs: never this version's


@lru_cache(maxsize=1)
def key_fingerprint() -> str:
    """A digest of the keys this kinlink derives for a fixed set of names."""
    digest = hashlib.sha256()
    for r in _PROBES:
        digest.update("\x1f".join(sorted(_all_keys(r, with_tf=True))).encode() + b"\x1e")
    return digest.hexdigest()


def _scheme_row(session: Session) -> MatchKeyScheme:
    row = session.get(MatchKeyScheme, 1)
    if row is None:
        row = MatchKeyScheme(id=1, fingerprint=None)
        session.add(row)
    return row


def _stamp_if_first(session: Session) -> None:
    # The first keys of a new database are this version's: stamp them, or the next `kinlink match` would
    # take them for an older kinlink's and rebuild them all. Only a never-stamped (None) table qualifies:
    # a rebuild marks the table while it runs, so that one cut short stays stale.
    row = _scheme_row(session)
    if row.fingerprint is None and session.scalar(select(MatchKey.id).limit(1)) is None:
        row.fingerprint = key_fingerprint()


def keys_stale(session: Session) -> bool:
    """True when the key table holds keys derived otherwise than this kinlink derives them.

    An empty key table is never stale: its fingerprint is set to this version's on the spot.
    """
    row = _scheme_row(session)
    if row.fingerprint == key_fingerprint():
        return False
    if session.scalar(select(MatchKey.id).limit(1)) is None:
        row.fingerprint = key_fingerprint()
        session.flush()
        return False
    return True


def rebuild_keys(
    engine: Engine, progress: Callable[[int, int], None] | None = None, chunk: int = 5000
) -> int:
    """Rewrite every record's and request's keys, chunk by chunk; returns how many records were keyed.

    The fingerprint is written last: a rebuild cut short leaves the table marked stale, and the next run
    starts it again.
    """
    with unit_of_work(engine) as session:
        session.execute(delete(MatchKey))
        _scheme_row(session).fingerprint = _REBUILDING
        person_ids = list(session.scalars(select(Person.id).order_by(Person.id)))
        request_ids = list(session.scalars(select(TracingRequest.id).order_by(TracingRequest.id)))
    for i in range(0, len(person_ids), chunk):
        with unit_of_work(engine) as session:
            index_keys(session, list(person_records(session, person_ids[i : i + chunk])), "p")
        if progress:
            progress(min(i + chunk, len(person_ids)), len(person_ids))
    for i in range(0, len(request_ids), chunk):
        with unit_of_work(engine) as session:
            reqs = session.scalars(
                select(TracingRequest).where(TracingRequest.id.in_(request_ids[i : i + chunk]))
            )
            index_keys(session, [as_match_record(r) for r in reqs], "r")
    with unit_of_work(engine) as session:
        _scheme_row(session).fingerprint = key_fingerprint()
    return len(person_ids)


def ensure_keys(session: Session) -> int:
    """Key the records that have no keys yet; returns how many were keyed."""
    missing = missing_keys(session)
    for i in range(0, len(missing), 5000):
        index_keys(session, list(person_records(session, missing[i : i + 5000])), "p")
    if missing:
        session.flush()
    return len(missing)


class DbTermFrequencies(TermFrequencies):
    """Name frequencies counted from the key table, looked up as needed (indexed count per key).

    With `shared` (a `_SearchCache`'s counts) the counts are kept between searches of this process.
    """

    def __init__(
        self, session: Session, population: int | None = None, shared: dict[str, int] | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.population = (
            population if population is not None else session.scalar(select(func.count(Person.id))) or 0
        )
        self._memo: dict[str, int] = shared if shared is not None else {}

    def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Count these (table, key) pairs in one query, so that scoring asks the database nothing."""
        wanted = {_TF_PREFIX[t] + k for t, k in keys} - self._memo.keys()
        if not wanted:
            return
        found = dict.fromkeys(wanted, 0)
        for key, n in reader(self.session).execute(
            select(MatchKey.key, func.count())
            .where(MatchKey.entity == "p", MatchKey.key.in_(sorted(wanted)))
            .group_by(MatchKey.key)
        ):
            found[key] = n
        self._memo.update(found)

    def count(self, table: str, key: str) -> int:
        full = _TF_PREFIX[table] + key
        hit = self._memo.get(full)
        if hit is None:
            hit = (
                self.session.scalar(select(func.count()).where(MatchKey.entity == "p", MatchKey.key == full))
                or 0
            )
            self._memo[full] = hit
        return hit


# The statements of the key lookups are built once per number of keys (bound parameters k0, k1...):
# building a many-key statement costs more than running it.


@lru_cache(maxsize=128)
def _sizes_stmt(n: int, capped: bool) -> Select | CompoundSelect:
    parts = []
    for i in range(n):
        key = bindparam(f"k{i}", type_=String)
        posting = select(MatchKey.entity_id).where(
            MatchKey.entity == bindparam("entity"), MatchKey.key == key
        )
        if capped:
            posting = posting.limit(bindparam("cap", type_=Integer))
        count = select(func.count()).select_from(posting.subquery()).scalar_subquery()
        parts.append(select(key.label("key"), count.label("n")))
    return parts[0] if n == 1 else union_all(*parts)


@lru_cache(maxsize=128)
def _postings_stmt(n: int) -> Select:
    parts = [
        select(MatchKey.entity_id.label("eid")).where(
            MatchKey.entity == bindparam("entity"), MatchKey.key == bindparam(f"k{i}", type_=String)
        )
        for i in range(n)
    ]
    postings = (parts[0] if n == 1 else union_all(*parts)).subquery()
    shared = func.count().label("shared")
    return (
        select(postings.c.eid, shared)
        .group_by(postings.c.eid)
        .order_by(shared.desc(), postings.c.eid)
        .limit(bindparam("lim", type_=Integer))
    )


@lru_cache(maxsize=1)
def _narrowest_stmt() -> Select:
    return (
        select(MatchKey.entity_id.label("eid"), literal(1).label("shared"))
        .where(MatchKey.entity == bindparam("entity"), MatchKey.key == bindparam("k0", type_=String))
        .order_by(MatchKey.entity_id)
        .limit(bindparam("lim", type_=Integer))
    )


@lru_cache(maxsize=256)
def _with_persons_stmt(shortlist: Select) -> Select:
    sl = shortlist.subquery()
    return (
        select(
            sl.c.eid,
            sl.c.shared,
            Person.sex,
            Person.birth_date,
            Person.age,
            Person.age_as_of,
            Person.version,
            # As stored (text), not parsed into a datetime: it only tells a reused id apart.
            cast(Person.created_at, String),
        )
        .join(Person, Person.id == sl.c.eid)
        .order_by(sl.c.shared.desc(), sl.c.eid)
    )


def _key_sizes(session: Session, entity: str, keys: list[str], cap: int | None) -> dict[str, int]:
    """Entries per key (those present), each counted up to `cap`: a broad key costs no more than that."""
    params: dict[str, object] = {"entity": entity, "cap": cap, **{f"k{i}": k for i, k in enumerate(keys)}}
    return {k: n for k, n in reader(session).execute(_sizes_stmt(len(keys), cap is not None), params) if n}


def _shortlist_query(
    session: Session, query: MatchRecord, entity: str, limit: int
) -> tuple[Select, dict[str, object]] | None:
    """A statement of ids and keys shared (`eid`, `shared`), most shared first, with its parameters: the
    postings of the query's selective keys (as `CandidateIndex.shortlist` takes them), or of its
    narrowest key when none is selective.

    Each key's entries are read through the covering (key, entity, entity_id) index, and never more than
    MAX_POSTING + 1 of a broad key, so the cost does not grow with the registry.
    """
    keys = sorted(query_keys(query))
    if not keys:
        return None
    sizes = _key_sizes(session, entity, keys, MAX_POSTING + 1)
    if not sizes:
        return None
    usable = [k for k in keys if k in sizes and sizes[k] <= MAX_POSTING]
    if not usable:
        exact = _key_sizes(session, entity, sorted(sizes), None)  # rare: every key is broad
        narrowest = min(exact, key=lambda k: (exact[k], k))
        return _narrowest_stmt(), {"entity": entity, "k0": narrowest, "lim": limit}
    params: dict[str, object] = {"entity": entity, "lim": limit, **{f"k{i}": k for i, k in enumerate(usable)}}
    return _postings_stmt(len(usable)), params


def _shortlist_ids(
    session: Session, query: MatchRecord, entity: str, exclude: set[int], limit: int = 2000
) -> list[int]:
    found = _shortlist_query(session, query, entity, limit + len(exclude))
    if found is None:
        return []
    return [r[0] for r in reader(session).execute(*found) if r[0] not in exclude][:limit]


def _prerank(query: MatchRecord, rows: list[Row[Any]], size: int) -> list[Row[Any]]:
    """Of shortlisted (id, shared, sex, birth_date, age, age_as_of, ...) rows, the `size` best by the same
    cheap pre-rank as the in-memory index, best first."""
    if len(rows) <= size:
        return rows
    lo = np.empty(len(rows), dtype=np.int32)
    hi = np.empty(len(rows), dtype=np.int32)
    sex = np.zeros(len(rows), dtype=np.int8)
    for i, r in enumerate(rows):
        br = birth_range(r[3], r[4], r[5], None)
        lo[i], hi[i] = br if br else (MISSING_DAY, MISSING_DAY)
        s = sex_key(r[2])
        sex[i] = 1 if s == "m" else 2 if s == "f" else 0
    shared = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
    rank = prerank(query, shared, lo, hi, sex)
    top = np.argpartition(-rank, size)[:size]
    return [rows[i] for i in sorted(top.tolist(), key=lambda i: (-rank[i], i))]


def db_scorer(session: Session, model: Model) -> Scorer:
    """A scorer counting names exactly, now (for the matching that stores candidates)."""
    tf = DbTermFrequencies(session)
    return Scorer(model, tf, population=tf.population)


# Searches keep the name counts of the key table and the number of records between requests while the
# registry is unchanged: the largest record, key and tombstone ids (an index lookup each) tell an import,
# new keys or an erasure. SEARCH_CACHE_SECONDS bounds the age of everything whatever happens (a rename
# that reuses key ids, a transaction committing an older id late); only then are all records counted.
SEARCH_CACHE_SECONDS = 60.0


@dataclass
class _SearchCache:
    stamp: tuple[int, int, int]
    population: int
    made: float
    counts: dict[str, int] = field(default_factory=dict)  # tf key -> records (shared by threads)
    # Per model: its scorers' memo tables (weights by name count), valid while these counts are.
    memos: dict[int, tuple[Model, dict[str, Any]]] = field(default_factory=dict)


_SEARCH_CACHES: weakref.WeakKeyDictionary[Engine, _SearchCache] = weakref.WeakKeyDictionary()
_SEARCH_LOCK = threading.Lock()


_STAMP = select(
    select(func.max(Person.id)).scalar_subquery(),
    select(func.max(MatchKey.id)).scalar_subquery(),
    select(func.max(Tombstone.id)).scalar_subquery(),
)


_COUNT_ALL = select(func.count(Person.id))
_COUNT_SINCE = select(func.count(Person.id)).where(Person.id > bindparam("last"))


def _registry_stamp(session: Session) -> tuple[int, int, int]:
    row = reader(session).execute(_STAMP).one()
    return (row[0] or 0, row[1] or 0, row[2] or 0)


def search_scorer(session: Session, model: Model) -> Scorer:
    """The scorer for staff searches: name counts kept per process while the registry is unchanged.

    The counts are those `db_scorer` would give (the registry's stamp is checked at each search); only
    the round trips are saved. Counts not yet known are read in this search's own transaction.
    """
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    stamp = _registry_stamp(session)
    now = time.monotonic()
    with _SEARCH_LOCK:
        cache = _SEARCH_CACHES.get(engine)
    expired = cache is not None and now - cache.made > SEARCH_CACHE_SECONDS
    if cache is None or cache.stamp != stamp or expired:
        if cache is not None and not expired and stamp[0] >= cache.stamp[0] and stamp[2] == cache.stamp[2]:
            # Records are removed only by erasure, which leaves a tombstone: with none new, the
            # population grew by the records past the last id seen (a range of the primary key).
            population = cache.population + (
                reader(session).execute(_COUNT_SINCE, {"last": cache.stamp[0]}).scalar_one()
            )
            made = cache.made  # the whole count is still redone every SEARCH_CACHE_SECONDS
        else:
            population = reader(session).execute(_COUNT_ALL).scalar_one()
            made = now
        cache = _SearchCache(stamp, population, made)
        with _SEARCH_LOCK:
            _SEARCH_CACHES[engine] = cache
    tf = DbTermFrequencies(session, cache.population, cache.counts)
    return Scorer(model, tf, population=cache.population, memos=_for_model(cache.memos, model, dict))


def search(
    session: Session,
    query: MatchRecord,
    *,
    model: Model | None = None,
    limit: int = 10,
    scorer: Scorer | None = None,
    exclude: Iterable[int] = (),
    min_probability: float = 0.0,
) -> list[tuple[MatchRecord, Scored]]:
    """The best records for one query, best first, read through the key table.

    The shortlist's records are pre-ranked on the shortlist's own row (keys shared, birth, sex); only the
    best SHORTLIST are read whole and scored, best first, a candidate whose bound (`Scorer.bound`)
    cannot reach the results being skipped, as `CandidateIndex.search` does: the results are those of
    scoring them all. Below `min_probability` nothing is returned.
    """
    model = model or load_model()
    scorer = scorer or db_scorer(session, model)
    excluded = {int(x) for x in exclude}
    found = _shortlist_query(session, query, "p", 2000 + len(excluded))
    if found is None:
        return []
    stmt, params = found
    rows = [
        r for r in reader(session).execute(_with_persons_stmt(stmt), params).all() if r[0] not in excluded
    ]
    rows = rows[:2000]
    best_rows = _prerank(query, rows, SHORTLIST)
    if not best_rows:
        return []
    prepared = _prepared_records(session, scorer, [(r[0], r[6], r[7]) for r in best_rows])
    if isinstance(scorer.tf, DbTermFrequencies):
        scorer.tf.prefetch(
            (table, key) for p in prepared for table, key in zip(_TF_PREFIX, p.tf_keys, strict=True) if key
        )
    best = scorer.best(
        scorer.prepare(query), prepared, limit, min_probability, tie=lambda n: str(prepared[n].record.id)
    )
    return [(prepared[n].record, s) for n, s in best]  # type: ignore[misc]


class _PreparedCache:
    """Records as the scorer of one model prepares them, kept between searches of this process (LRU).

    Keyed by id, version and creation time: every write to a record (fields, names, events) goes
    through the ORM, whose version counter it bumps, and SQLite may give an erased record's id to a new
    one, which the creation time tells apart. An entry is never stale, only no longer asked for.
    """

    SIZE = 20_000

    def __init__(self) -> None:
        self.items: OrderedDict[tuple[int, int, str], tuple[Any, ...]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[int, int, str]) -> tuple[Any, ...] | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def put(self, key: tuple[int, int, str], value: tuple[Any, ...]) -> None:
        with self.lock:
            self.items[key] = value
            if len(self.items) > self.SIZE:
                self.items.popitem(last=False)


_T = TypeVar("_T")


def _for_model(table: dict[int, tuple[Model, _T]], model: Model, make: Callable[[], _T]) -> _T:
    """What `table` keeps for this model, made if new. The model is held beside it, so that its id stays
    its own; models come and go only in tests and EM runs, so a few are kept."""
    with _SEARCH_LOCK:
        held = table.get(id(model))
        if held is None or held[0] is not model:
            if len(table) >= 4:
                table.clear()
            held = table[id(model)] = (model, make())
        return held[1]


# Per model: the prepared values follow its comparisons.
_PREPARED: dict[int, tuple[Model, _PreparedCache]] = {}


def _prepared_records(session: Session, scorer: Scorer, keyed: list[tuple[int, int, str]]) -> list[Prepared]:
    """The records of these (id, version, created) keys, prepared for scoring, in that order (those that
    exist): from this process's cache, the others read and prepared."""
    cache = _for_model(_PREPARED, scorer.model, _PreparedCache)
    found: dict[int, tuple[Any, ...]] = {}
    missing = []
    for key in keyed:
        hit = cache.get(key)
        if hit is None:
            missing.append(key)
        else:
            found[key[0]] = hit
    if missing:
        keys = {k[0]: k for k in missing}
        for rec in person_records(session, list(keys)):
            p = scorer.prepare(rec)
            parts = (p.record, p.names, p.values, p.tf_keys)
            cache.put(keys[int(rec.id)], parts)  # type: ignore[arg-type]
            found[int(rec.id)] = parts  # type: ignore[arg-type]
    # A fresh Prepared each search: the bound it memoises follows this search's name counts.
    return [Prepared(*found[k[0]]) for k in keyed if k[0] in found]


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
    with unit_of_work(engine) as session:
        stale = keys_stale(session)
    if stale:
        rebuild_keys(engine, (lambda done, total: progress("keys", done, total)) if progress else None)
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count(Person.id))) or 0
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress("index", min(done[0], total), total)

        procs = processes if processes is not None else default_processes(total)
        index = build_index(session, model, tick, procs)
        missing = missing_keys(session)
        request_ids = list(
            session.scalars(
                select(TracingRequest.id)
                .where(TracingRequest.state.in_(OPEN_STATES))
                .order_by(TracingRequest.id)
            )
        )
    if progress:
        progress("index", total, total)
    for i in range(0, len(missing), chunk):
        with unit_of_work(engine) as session:
            index_keys(session, list(person_records(session, missing[i : i + chunk])), "p")

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
        with unit_of_work(engine) as session:
            log = AuditLog(session, actor)
            log.lock()
            recluster(session, log, model)
            log.flush()
    return summary


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
            as_match_record(r)
            for r in session.scalars(
                select(TracingRequest).where(
                    TracingRequest.id.in_(request_ids), TracingRequest.state.in_(OPEN_STATES)
                )
            )
        ]
        found = searcher.search(queries, limit=20, min_probability=model.candidate_threshold)
        hits = {int(q.id): h for q, h in zip(queries, found, strict=True)}  # type: ignore[arg-type]
        log = AuditLog(session, actor)
        log.lock()
        # Read again under the lock: a caseworker may have matched or closed a request since.
        requests = list(
            session.scalars(
                select(TracingRequest)
                .where(TracingRequest.id.in_(list(hits)), TracingRequest.state.in_(OPEN_STATES))
                .order_by(TracingRequest.id)
                .execution_options(populate_existing=True)
            )
        )
        alive = _existing_persons(session, {int(h.record.id) for hs in hits.values() for h in hs})  # type: ignore[arg-type]
        for req in requests:
            index_keys(session, [as_match_record(req)], "r")
            for hit in hits[req.id]:
                if int(hit.record.id) not in alive:  # type: ignore[arg-type]
                    continue
                summary.add(
                    store_candidate(
                        session, log, model, hit.scored, request_id=req.id, person_id=int(hit.record.id)
                    ).outcome  # type: ignore[arg-type]
                )
            _refresh_request_state(session, actor, req, log)
            summary.requests.add(req.id)
        log.flush()


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
    if not found:
        return
    with unit_of_work(engine) as session:
        log = AuditLog(session, actor)
        log.lock()
        # A record erased since the index was built gets no candidates.
        alive = _existing_persons(session, {p for a, b, _ in found for p in (a, b)})
        for left, right, scored in found:
            if left in alive and right in alive:
                summary.add(
                    store_candidate(session, log, model, scored, left_person_id=left, person_id=right).outcome
                )
        log.flush()


def _existing_persons(session: Session, ids: set[int]) -> set[int]:
    out: set[int] = set()
    id_list = sorted(ids)
    for i in range(0, len(id_list), _CHUNK):
        out.update(session.scalars(select(Person.id).where(Person.id.in_(id_list[i : i + _CHUNK]))))
    return out
