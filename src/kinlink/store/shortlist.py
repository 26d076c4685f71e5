"""The SQL shortlist: the records (or requests) sharing the most keys with a query, read from the key table
as `CandidateIndex.shortlist` reads its postings in memory, so that both paths shortlist alike."""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    Subquery,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kinlink.matching.keys import MAX_POSTING, query_keys, shared_counts
from kinlink.matching.record import MatchRecord
from kinlink.store.driver import read_rows
from kinlink.store.match_records import reader
from kinlink.store.models import Person
from kinlink.store.tracing_models import MatchKey, TracingRequest

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


def _posting(i: int) -> Select:
    """The ids under key i (bound k{i}) of an entity (bound entity)."""
    return select(MatchKey.entity_id.label("eid")).where(
        MatchKey.entity == bindparam("entity"), MatchKey.key == bindparam(f"k{i}", type_=String)
    )


def _postings(n: int) -> Subquery:
    """The ids under each of n keys (bound k0, k1...), one row per posting: an id once per key it holds."""
    parts = [_posting(i) for i in range(n)]
    return (parts[0] if n == 1 else union_all(*parts)).subquery()


def _ids_as_one(eid: ColumnElement[int], postgresql: bool) -> ColumnElement[Any]:
    """Ids as one value (`_posted_ids` reads it back): on SQLite a comma-separated text, on PostgreSQL an
    int4 array in its binary form."""
    return func.array_send(func.array_agg(eid)) if postgresql else func.group_concat(eid)


@lru_cache(maxsize=128)
def _postings_stmt(n: int) -> Select:
    postings = _postings(n)
    shared = func.count().label("shared")
    return (
        select(postings.c.eid, shared)
        .group_by(postings.c.eid)
        .order_by(shared.desc(), postings.c.eid)
        .limit(bindparam("lim", type_=Integer))
        .execution_options(kinlink_shortlist=("postings", n))
    )


@lru_cache(maxsize=256)
def _postings_whole_stmt(n: int, postgresql: bool) -> Select:
    """The postings `_postings_stmt` counts, as one value (see `shortlist_rows`): on SQLite a comma-separated
    text, on PostgreSQL an int4 array in its binary form (`array_send`), which numpy reads without parsing:
    of 6,000 ids, ~0.25 ms of client CPU to fetch and read, against ~0.55 ms as a list (array_agg) and
    ~0.6 ms as a text (string_agg)."""
    return select(_ids_as_one(_postings(n).c.eid, postgresql))


@lru_cache(maxsize=128)
def _key_postings_stmt(n: int, postgresql: bool) -> Select | CompoundSelect:
    """The postings `_postings_whole_stmt` reads, key by key: (the key's place among k0, k1..., its ids as one
    value), for `PostingsMemo`."""
    parts = []
    for i in range(n):
        posting = _posting(i).subquery()
        parts.append(select(literal(i).label("at"), _ids_as_one(posting.c.eid, postgresql).label("ids")))
    return parts[0] if n == 1 else union_all(*parts)


class PostingsMemo:
    """The ids under each key (its postings) that searches read, kept while the key table is unchanged (a
    server's search scorer's memos, which a change of the records' keys replaces): the keys of a name are
    mostly those of names searched before (a family name's, a given name's), and reading their postings was
    a search's costliest statement at a million records (issue 19). LRU, at most MOST ids in all."""

    MOST = 6_000_000  # int64s: 48 MB a process (the bench's 2,000 names at 1M hold ~4M)

    def __init__(self) -> None:
        self.items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.held = 0
        self.lock = threading.Lock()

    def get_many(self, keys: list[tuple[str, str]]) -> list[np.ndarray | None]:
        with self.lock:
            out = [self.items.get(k) for k in keys]
            for k, got in zip(keys, out, strict=True):
                if got is not None:
                    self.items.move_to_end(k)
            return out

    def put(self, key: tuple[str, str], ids: np.ndarray) -> None:
        with self.lock:
            if key in self.items:  # (two threads may read the same key at once)
                return
            self.items[key] = ids
            self.held += len(ids)
            while self.held > self.MOST and self.items:
                self.held -= len(self.items.popitem(last=False)[1])


# PostgreSQL's binary array: ndim, has-nulls flag, element type (int4's oid), length, lower bound; then per
# element its byte length and value, all big-endian.
_INT4_OID = 23


def _posted_ids(value: str | bytes, postgresql: bool) -> np.ndarray:
    if not postgresql:
        # Parsed in C: of a common name's ~6,000 ids, ~0.1 ms against ~0.75 ms split into strings and
        # converted one by one (issue 19); the same ids.
        return np.fromstring(str(value), dtype=np.int64, sep=",")
    head = np.frombuffer(value, dtype=">i4", count=5)
    assert head[0] == 1 and head[1] == 0 and head[2] == _INT4_OID, "not a one-dimensional int4 array"
    return np.frombuffer(value, dtype=">i4", offset=20)[1::2].astype(np.int64)


@lru_cache(maxsize=1)
def _narrowest_stmt() -> Select:
    return (
        select(MatchKey.entity_id.label("eid"), literal(1).label("shared"))
        .where(MatchKey.entity == bindparam("entity"), MatchKey.key == bindparam("k0", type_=String))
        .order_by(MatchKey.entity_id)
        .limit(bindparam("lim", type_=Integer))
        .execution_options(kinlink_shortlist=("narrowest", 1))
    )


@lru_cache(maxsize=256)
def with_persons_stmt(shortlist: Select) -> Select:
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


def _key_sizes(
    session: Session, entity: str, keys: list[str], cap: int | None, known: dict[str, int] | None = None
) -> dict[str, int]:
    """Entries per key (those present), each counted up to `cap`: a broad key costs no more than that.

    known: capped sizes counted before while the key table is unchanged (a server's search cache); only
    the keys it lacks are counted, and added to it (absent keys as 0)."""
    if known is None:
        return _count_keys(session, entity, keys, cap)
    missing = [k for k in keys if k not in known]
    if missing:
        counted = _count_keys(session, entity, missing, cap)
        known.update({k: counted.get(k, 0) for k in missing})
    return {k: n for k in keys if (n := known[k])}


def _count_keys(session: Session, entity: str, keys: list[str], cap: int | None) -> dict[str, int]:
    params: dict[str, object] = {"entity": entity, "cap": cap, **{f"k{i}": k for i, k in enumerate(keys)}}
    counted = read_rows(reader(session), _sizes_stmt(len(keys), cap is not None), params)  # (by the driver)
    return {k: n for k, n in counted if n}


def shortlist_query(
    session: Session, query: MatchRecord, entity: str, limit: int, known: dict[str, int] | None = None
) -> tuple[Select, dict[str, object]] | None:
    """A statement of ids and keys shared (`eid`, `shared`), most shared first, with its parameters: the
    postings of the query's selective keys (as `CandidateIndex.shortlist` takes them), or of its
    narrowest key when none is selective.

    Each key's entries are read through the covering (key, entity, entity_id) index, and never more than
    MAX_POSTING + 1 of a broad key. known: the keys' capped sizes known already (`_key_sizes`): counting a
    common name's key reads up to MAX_POSTING entries, which grow with the registry.
    """
    keys = sorted(query_keys(query))
    if not keys:
        return None
    sizes = _key_sizes(session, entity, keys, MAX_POSTING + 1, known)
    if not sizes:
        return None
    usable = [k for k in keys if k in sizes and sizes[k] <= MAX_POSTING]
    if not usable:
        exact = _key_sizes(session, entity, sorted(sizes), None)  # rare: every key is broad
        narrowest = min(exact, key=lambda k: (exact[k], k))
        return _narrowest_stmt(), {"entity": entity, "k0": narrowest, "lim": limit}
    params: dict[str, object] = {"entity": entity, "lim": limit, **{f"k{i}": k for i, k in enumerate(usable)}}
    return _postings_stmt(len(usable)), params


def shortlist_rows(
    session: Session, stmt: Select, params: dict[str, object], memo: PostingsMemo | None = None
) -> list[tuple[int, int]]:
    """The (id, keys shared) rows of a `shortlist_query` statement, in its order (memo: postings read before
    while the key table is unchanged; those it lacks are read key by key and kept).

    The postings come as one value and are counted and ordered here as the statement would (most shared,
    then by id; at most `lim`), as `CandidateIndex.shortlist` counts them: at a million records a common
    name's shortlist is 2,000 rows, whose grouping and fetching row by row cost a third of a search on
    SQLite and were a PostgreSQL search's costliest statement.
    """
    conn = reader(session)
    # Told by the tag the statement carries, not by its identity: a server's threads building the same
    # statement at once (the caches above do not lock around the build) get equal statements, not one.
    kind, n = stmt.get_execution_options().get("kinlink_shortlist", (None, 0))
    if kind == "narrowest" or conn.dialect.name not in ("sqlite", "postgresql"):
        return [(r[0], r[1]) for r in conn.execute(stmt, params)]
    if kind != "postings":
        raise ValueError("shortlist_rows: not a statement shortlist_query made")
    postgresql = conn.dialect.name == "postgresql"
    if memo is not None:
        posted = _memo_postings(conn, memo, params, n, postgresql)
        return _ranked(posted, int(params["lim"])) if len(posted) else []  # type: ignore[call-overload]
    whole = conn.execute(_postings_whole_stmt(n, postgresql), params).scalar()
    if not whole:
        return []
    return _ranked(_posted_ids(whole, postgresql), int(params["lim"]))  # type: ignore[call-overload]


def _memo_postings(
    conn: Connection, memo: PostingsMemo, params: dict[str, object], n: int, postgresql: bool
) -> np.ndarray:
    """The ids under keys k0...k(n-1) of `params` (an id once per key), from `memo` or read and kept there."""
    entity = str(params["entity"])
    keys = [(entity, str(params[f"k{i}"])) for i in range(n)]
    got = memo.get_many(keys)
    missing = [i for i, ids in enumerate(got) if ids is None]
    if missing:
        asked: dict[str, object] = {"entity": entity, **{f"k{j}": keys[i][1] for j, i in enumerate(missing)}}
        for at, value in read_rows(conn, _key_postings_stmt(len(missing), postgresql), asked):
            i = missing[at]
            got[i] = _posted_ids(value, postgresql) if value else _NONE
            memo.put(keys[i], got[i])  # type: ignore[arg-type]
    return np.concatenate(got) if n > 1 else got[0]  # type: ignore[arg-type,return-value]


_NONE = np.empty(0, dtype=np.int64)


def _ranked(posted: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Of the ids the keys found (an id once per key it holds), the (id, keys shared) most shared first,
    then by id; at most `limit`."""
    # Each key's ids come in order (its index's), so a stable sort (timsort) merges runs; and of the distinct
    # ids, in order, a stable sort by keys shared alone (a radix sort of small counts: at most one a key of
    # the query) keeps equal counts by id: the order np.lexsort((eids, -shared)) gives, at half the cost.
    eids, shared = shared_counts(np.sort(posted, kind="stable"))
    order = np.argsort(-shared.astype(np.int16), kind="stable")[:limit]
    return list(zip(eids[order].tolist(), shared[order].tolist(), strict=True))


@lru_cache(maxsize=256)
def _sized_postings_stmt(n: int, postgresql: bool) -> Select | CompoundSelect:
    """Per key (bound k0, k1...): its entries counted up to `cap` (as `_sizes_stmt` counts them) and, when
    there are at most `most`, their ids as one value (`_ids_as_one`: on PostgreSQL an int4 array in its
    binary form, on SQLite a comma-separated text)."""
    parts = []
    for i in range(n):
        key = bindparam(f"k{i}", type_=String)
        posting = (
            select(MatchKey.entity_id.label("eid"))
            .where(MatchKey.entity == bindparam("entity"), MatchKey.key == key)
            .limit(bindparam("cap", type_=Integer))
            .subquery()
        )
        if postgresql:
            agg = select(
                key.label("key"), func.count().label("n"), func.array_agg(posting.c.eid).label("ids")
            )
            got = agg.select_from(posting).subquery()
            ids = case((got.c.n <= bindparam("most", type_=Integer), func.array_send(got.c.ids)))
            parts.append(select(got.c.key, got.c.n, ids))
        else:  # one aggregate read of the key's entries (SQLite computes both aggregates in one pass)
            n_ = func.count()
            ids = case((n_ <= bindparam("most", type_=Integer), func.group_concat(posting.c.eid)))
            parts.append(select(key.label("key"), n_.label("n"), ids.label("ids")).select_from(posting))
    return parts[0] if n == 1 else union_all(*parts)


def shortlist_rows_of(
    session: Session,
    query: MatchRecord,
    entity: str,
    limit: int,
    known: dict[str, int] | None = None,
    memo: PostingsMemo | None = None,
) -> list[tuple[int, int]] | None:
    """`shortlist_rows` of `shortlist_query`'s statement (None where it gives none): the same rows.

    When some of the query's keys have no size known yet, they are counted and the postings of the
    selective ones (with those of keys known selective that `memo` lacks) read in one statement: one
    statement fewer, and a key counted is not read again for its postings (at a million records a common
    family name's key holds ~12,000 entries, counted then read a second time; issue 19).
    """
    keys = sorted(query_keys(query))
    conn = reader(session)
    if conn.dialect.name not in ("sqlite", "postgresql") or known is None or all(k in known for k in keys):
        return _rows_by_query(session, query, entity, limit, known, memo)
    postgresql = conn.dialect.name == "postgresql"
    held = memo.get_many([(entity, k) for k in keys]) if memo is not None else [None] * len(keys)
    have = {k: ids for k, ids in zip(keys, held, strict=True) if ids is not None}
    # Keys known broad or absent are not read; those known selective are read whole (at most MAX_POSTING)
    # unless their postings are held already.
    wanted = [k for k in keys if k not in known or (0 < known[k] <= MAX_POSTING and k not in have)]
    params: dict[str, object] = {"entity": entity, "cap": MAX_POSTING + 1, "most": MAX_POSTING}
    params.update({f"k{i}": k for i, k in enumerate(wanted)})
    got = {
        k: (n, ids) for k, n, ids in read_rows(conn, _sized_postings_stmt(len(wanted), postgresql), params)
    }
    known.update({k: got[k][0] for k in keys if k not in known})
    usable = [k for k in keys if 0 < known[k] <= MAX_POSTING]
    # None present (no shortlist), every key broad (its narrowest read), or a key known selective grown
    # broad since: as shortlist_query does, all sizes known now.
    if not usable or any(k not in have and got[k][1] is None for k in usable):
        return _rows_by_query(session, query, entity, limit, known, memo)
    posted = []
    for k in usable:
        ids = have.get(k)
        if ids is None:
            ids = _posted_ids(got[k][1], postgresql)
            if memo is not None:
                memo.put((entity, k), ids)
        posted.append(ids)
    found = np.concatenate(posted) if len(posted) > 1 else posted[0]
    return _ranked(found, limit) if len(found) else []


def _rows_by_query(
    session: Session,
    query: MatchRecord,
    entity: str,
    limit: int,
    known: dict[str, int] | None,
    memo: PostingsMemo | None = None,
) -> list[tuple[int, int]] | None:
    found = shortlist_query(session, query, entity, limit, known)
    return None if found is None else shortlist_rows(session, *found, memo)


def shortlist_ids(
    session: Session, query: MatchRecord, entity: str, exclude: set[int], limit: int = 2000
) -> list[int]:
    found = shortlist_query(session, query, entity, limit + len(exclude))
    if found is None:
        return []
    return [r[0] for r in reader(session).execute(*found) if r[0] not in exclude][:limit]


def requests_sharing_keys(session: Session, person_ids: list[int], states: tuple[str, ...]) -> set[int]:
    """The requests (in these states) filed under any key of these records: one join through the key
    table's (key, entity, entity_id) index, however many records."""
    mine = select(MatchKey.key).where(MatchKey.entity == "p", MatchKey.entity_id.in_(person_ids)).subquery()
    theirs = (
        select(MatchKey.entity_id)
        .join(mine, mine.c.key == MatchKey.key)
        .join(TracingRequest, TracingRequest.id == MatchKey.entity_id)
        .where(MatchKey.entity == "r", TracingRequest.state.in_(states))
        .distinct()
    )
    return set(reader(session).execute(theirs).scalars())
