"""One query against the registry through the key table: the shortlist, a cheap pre-rank, and the model's
scorer on the best few, with the caches that keep a server's searches cheap.

Continuous matching, staff searches and `kinlink search` all match one query at a time here; the batch
(`tracing.batch`) builds the in-memory index instead. Both shortlist alike and score with the same
Scorer, so a record's probability does not depend on the path that found it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Row, String, bindparam, cast, func, select
from sqlalchemy.orm import Session

from kinlink.matching.comparators import birth_range, sex_key
from kinlink.matching.keys import MISSING_DAY, prerank
from kinlink.matching.model import Model, load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import Scored
from kinlink.store.driver import DriverRead, read_rows
from kinlink.store.match_keys import CHANGES_ROW, DbTermFrequencies
from kinlink.store.match_records import (
    among,
    for_dialect,
    reader,
    versions_and_names,
    versions_and_records,
)
from kinlink.store.models import Person, Tombstone
from kinlink.store.shortlist import PostingsMemo, shortlist_query, shortlist_rows_of, with_persons_stmt
from kinlink.store.tracing_models import MatchKeyScheme
from kinlink.tracing.prepared import PREPARED as _PREPARED
from kinlink.tracing.prepared import PreparedCache as _PreparedCache
from kinlink.tracing.prepared import by_names, caches, names_alone, prefetch
from kinlink.tracing.prepared import for_model as _for_model
from kinlink.tracing.prepared import prepared_records as _prepared_records

SHORTLIST = 60


def _ranks_by_keys_alone(query: MatchRecord) -> bool:
    """Whether `prerank` ranks candidates for this query by the keys they share alone: it weighs a birth gap
    only against a query's birth range, a sex clash only against its sex (a name typed in a search box has
    neither)."""
    return birth_range(query.birth_date, query.age, query.age_as_of, query.birth_year_to) is None and not (
        sex_key(query.sex)
    )


# The version and creation time of the chosen few (the prepared-record cache's key), through the covering
# ix_persons_prerank index.
_VERSIONS = tuple(
    select(Person.id, Person.version, cast(Person.created_at, String)).where(among(Person.id, "ids", array))
    for array in (False, True)
)


def _prerank(query: MatchRecord, rows: list[Row[Any]], size: int) -> list[Row[Any]]:
    """Of shortlisted (id, shared, sex, birth_date, age, age_as_of, ...) rows, the `size` best by the same
    cheap pre-rank as the in-memory index, best first. For a query ranked by keys alone
    (`_ranks_by_keys_alone`) (id, shared) rows are enough: the others' columns are not read."""
    if len(rows) <= size:
        return rows
    shared = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
    if _ranks_by_keys_alone(query):
        # prerank's own arithmetic on the keys shared; the other arrays are not looked at for such a query.
        missing = np.full(len(rows), MISSING_DAY, dtype=np.int32)
        rank = prerank(query, shared, missing, missing, np.zeros(len(rows), dtype=np.int8))
        return [rows[i] for i in _best_first(rank, rows, size)]
    # A row's (birth range, sex) follows from four columns whose values repeat across the registry (dates,
    # ages): worked out once per distinct four, then the arrays built whole, not an element at a time.
    facts = [_row_facts(r[2], r[3], r[4], r[5]) for r in rows]
    lo = np.fromiter((f[0] for f in facts), dtype=np.int32, count=len(rows))
    hi = np.fromiter((f[1] for f in facts), dtype=np.int32, count=len(rows))
    sex = np.fromiter((f[2] for f in facts), dtype=np.int8, count=len(rows))
    rank = prerank(query, shared, lo, hi, sex)
    return [rows[i] for i in _best_first(rank, rows, size)]


def _best_first(rank: np.ndarray, rows: list[Row[Any]], size: int) -> list[int]:
    """Positions of the `size` best pre-ranks, best first; of equal ranks the lowest record ids, at the cut
    as well, as `CandidateIndex.shortlist` chooses (its rows are in id order) and Spark with it: a search
    from the web and a batch run shortlist the same records."""
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return np.lexsort((ids, -rank))[:size].tolist()


@lru_cache(maxsize=200_000)
def _row_facts(
    sex: str | None, birth_date: str | None, age: int | None, as_of: str | None
) -> tuple[int, int, int]:
    """The pre-rank's (first day, last day of birth, sex code) of a record's columns."""
    br = birth_range(birth_date, age, as_of, None)
    lo, hi = br if br else (MISSING_DAY, MISSING_DAY)
    s = sex_key(sex)
    return lo, hi, 1 if s == "m" else 2 if s == "f" else 0


def db_scorer(session: Session, model: Model) -> Scorer:
    """A scorer counting names exactly, now (for the matching that stores candidates)."""
    tf = DbTermFrequencies(session)
    return Scorer(model, tf, population=tf.population)


# Searches keep the name counts of the key table and the number of records between requests while the
# registry is unchanged, told by its stamp: the largest record and tombstone ids (an index lookup each) and
# the records' keys change marker (`kinlink.store.match_keys.CHANGES_ROW`), which every transaction that
# writes or deletes records' keys replaces as it commits. Nothing expires by time: at a million records
# the whole count costs ~40 ms and a common name's count reads up to 15,000 keys (issue 19).
@dataclass
class _SearchCache:
    stamp: tuple[int, int, str | None]
    population: int
    counts: dict[str, int] = field(default_factory=dict)  # tf key -> records (shared by threads)
    # Per model: its scorers' memo tables (weights by name count), valid while these counts are.
    memos: dict[int, tuple[Model, dict[str, Any]]] = field(default_factory=dict)


_SEARCH_CACHES: weakref.WeakKeyDictionary[Engine, _SearchCache] = weakref.WeakKeyDictionary()
_SEARCH_LOCK = threading.Lock()


# Read first by every search, by the driver itself (kinlink.store.driver.DriverRead).
_STAMP = DriverRead(
    select(
        select(func.max(Person.id)).scalar_subquery(),
        select(func.max(Tombstone.id)).scalar_subquery(),
        select(MatchKeyScheme.fingerprint).where(MatchKeyScheme.id == CHANGES_ROW).scalar_subquery(),
    )
)


_COUNT_ALL = select(func.count(Person.id))
_COUNT_SINCE = select(func.count(Person.id)).where(Person.id > bindparam("last"))


def _registry_stamp(session: Session) -> tuple[int, int, str | None]:
    row = _STAMP.all(reader(session), {})[0]
    return (row[0] or 0, row[1] or 0, row[2])


def search_scorer(session: Session, model: Model) -> Scorer:
    """The scorer for staff searches: name counts kept per process while the registry is unchanged.

    The counts are those `db_scorer` would give (the registry's stamp is checked at each search); only
    the round trips are saved. Counts not yet known are read in this search's own transaction.
    """
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    stamp = _registry_stamp(session)
    with _SEARCH_LOCK:
        cache = _SEARCH_CACHES.get(engine)
    if cache is None or cache.stamp != stamp:
        # A SQLite writer holds the database's write lock for its whole transaction, so records' ids are
        # committed in order; a PostgreSQL transaction may commit records of lower ids than one committed
        # before it, which only their keys' change marker then tells.
        in_order = cache is not None and (engine.dialect.name == "sqlite" or stamp[2] == cache.stamp[2])
        if cache is not None and in_order and stamp[0] >= cache.stamp[0] and stamp[1] == cache.stamp[1]:
            # Records are removed only by erasure, which leaves a tombstone: with none new, the
            # population grew by the records past the last id seen (a range of the primary key).
            population = cache.population + (
                reader(session).execute(_COUNT_SINCE, {"last": cache.stamp[0]}).scalar_one()
            )
        else:
            population = reader(session).execute(_COUNT_ALL).scalar_one()
        # With the records' keys unchanged the name counts stand; the weights (of the population) do not.
        kept = cache.counts if cache is not None and stamp[2] == cache.stamp[2] else {}
        cache = _SearchCache(stamp, population, kept)
        with _SEARCH_LOCK:
            _SEARCH_CACHES[engine] = cache
    tf = DbTermFrequencies(session, cache.population, cache.counts)
    memos = _for_model(cache.memos, model, dict)
    # The shortlist's key sizes, valid while the name counts are: a common name's key is counted through
    # up to MAX_POSTING entries, a number that grows with the registry (issue 19).
    memos.setdefault(SHORTLIST_SIZES, {})
    if SHORTLIST_POSTINGS not in memos:  # (and their postings)
        memos[SHORTLIST_POSTINGS] = PostingsMemo()
    return Scorer(model, tf, population=cache.population, memos=memos)


SHORTLIST_SIZES = "shortlist key sizes"  # the memo a search scorer's shortlist keeps its key sizes in
SHORTLIST_POSTINGS = "shortlist postings"  # and its keys' postings (`shortlist.PostingsMemo`)


def search(
    session: Session,
    query: MatchRecord,
    *,
    model: Model | None = None,
    limit: int = 10,
    scorer: Scorer | None = None,
    exclude: Iterable[int] = (),
    min_probability: float = 0.0,
    reasons: bool = True,
    ids_only: bool = False,
) -> list[tuple[MatchRecord, Scored]]:
    """The best records for one query, best first, read through the key table (reasons False: each score
    without its evidence, for a caller that shows only probabilities and notes).

    ids_only (with reasons False): the caller reads of each result its record's id and its score alone: a
    query of names alone that settles the note too reads no record whole (`prepared.by_names`), and a
    result's record may then hold its id alone.

    The shortlist's records are pre-ranked on the shortlist's own row (keys shared, birth, sex); only the
    best SHORTLIST are read whole and scored, best first, a candidate whose bound (`Scorer.bound`)
    cannot reach the results being skipped, as `CandidateIndex.search` does: the results are those of
    scoring them all. Below `min_probability` nothing is returned.
    """
    model = model or load_model()
    scorer = scorer or db_scorer(session, model)
    excluded = {int(x) for x in exclude}
    named: dict[int, tuple[str, ...]] | None = None  # the records read by their names alone, if so
    sizes = scorer.memos.get(SHORTLIST_SIZES)
    if _ranks_by_keys_alone(query):
        # The pre-rank is the keys shared alone: the shortlist's own rows choose the best, and only theirs
        # are read from `persons` (not up to 2,000: a third of a search's CPU at a million records). Every
        # key has its record: erasure deletes a record's keys with it (migration 0021 those it once left).
        # Ranked by keys shared alone, the pre-rank's best SHORTLIST are the shortlist's first (its order,
        # most shared then by id, is `_best_first`'s): only those are asked for, not 2,000 (issue 19).
        postings = scorer.memos.get(SHORTLIST_POSTINGS)
        shortlisted = shortlist_rows_of(session, query, "p", SHORTLIST + len(excluded), sizes, postings)
        if shortlisted is None:
            return []
        chosen = [r[0] for r in shortlisted if r[0] not in excluded][:SHORTLIST]
        stamps, read, named = _read_chosen(reader(session), scorer, query, chosen)
        keyed = [(pid, *stamps[pid]) for pid in chosen if pid in stamps]
    else:
        found = shortlist_query(session, query, "p", 2000 + len(excluded), sizes)
        if found is None:
            return []
        stmt, params = found
        rows = [
            r for r in reader(session).execute(with_persons_stmt(stmt), params).all() if r[0] not in excluded
        ]
        keyed = [(r[0], r[6], r[7]) for r in _prerank(query, rows[:2000], SHORTLIST)]
        read: dict[int, MatchRecord] = {}
    if not keyed:
        return []
    # The scoring is a pure function of the query, the chosen records' (id, version, created) and the name
    # counts and model the scorer's memos follow: a staff list asked again (reloaded, its next page) while
    # all of them are unchanged gets the results it got (issue 19). Only lists (no reasons) are kept: a
    # result with its reasons holds some hundred objects, which a full garbage collection walks.
    results = scorer.memos.setdefault("results", {})
    asked = (query, tuple(sorted(query.extra.items())), tuple(keyed), limit, min_probability, ids_only)
    hit = None if reasons else results.get(asked)
    if hit is not None:
        return list(hit)
    found: list[tuple[MatchRecord, Scored]]
    if named is not None:
        found = by_names(session, scorer, query, keyed, named, limit, min_probability, reasons, ids_only)
    else:
        prepared = _prepared_records(session, scorer, keyed, read)
        prefetch(scorer, prepared)
        best = scorer.best(
            scorer.prepare(query),
            prepared,
            limit,
            min_probability,
            tie=lambda n: str(prepared[n].record.id),
            reasons=reasons,
        )
        found = [(prepared[n].record, s) for n, s in best]  # type: ignore[misc]
    if not reasons:
        _remember(results, asked, found)
    return list(found)


def _read_chosen(
    conn: Connection, scorer: Scorer, query: MatchRecord, chosen: list[int]
) -> tuple[dict[int, tuple[Any, Any]], dict[int, MatchRecord], dict[int, tuple[str, ...]] | None]:
    """The chosen records' (version, created) by id; the records read whole with them; and, for a query of
    names alone (`names_alone`), the names of those read by their names (else None: scored as read whole).

    A query of names alone reads the versions and, of the records this process has not prepared, the names
    alone: a record is read whole only if it reaches scoring (`by_names`; on PostgreSQL in a second round
    trip). Another query on PostgreSQL reads the versions and the records not prepared whole in one
    statement, where the records read after the versions were a second (issue 19). With every one prepared,
    or for another query on SQLite, the versions alone, from their covering index."""
    postgresql = conn.dialect.name == "postgresql"
    if names_alone(scorer, query):
        whole, light = caches(scorer.model)
        known = list({*whole.known(chosen), *light.known(chosen)})
        if len(known) == len(chosen):  # no names to read: the versions alone, from their covering index
            return _versions(conn, chosen), {}, {}
        got = versions_and_names(conn, chosen, known)
        return _stamps(got), {}, {pid: names for pid, _v, _c, names in got if names is not None}
    if postgresql:
        known = _for_model(_PREPARED, scorer.model, _PreparedCache).known(chosen)
        if len(known) < len(chosen):
            got = versions_and_records(conn, chosen, known)
            return _stamps(got), {pid: rec for pid, _v, _c, rec in got if rec is not None}, None
    return _versions(conn, chosen), {}, None


def _versions(conn: Connection, chosen: list[int]) -> dict[int, tuple[Any, Any]]:
    # Fetched whole (one call), not row by row: some sixty rows a search.
    return _stamps(read_rows(conn, for_dialect(conn, _VERSIONS), {"ids": chosen}))


def _stamps(rows: Any) -> dict[int, tuple[Any, Any]]:
    return {r[0]: (r[1], r[2]) for r in rows}


# Lists kept per scorer memos (a server's: per model while the registry is unchanged): ~3 kB each.
RESULTS_KEPT = 4096


def _remember(results: dict[Any, Any], key: Any, found: list[Any]) -> None:
    with _SEARCH_LOCK:
        if len(results) >= RESULTS_KEPT:
            del results[next(iter(results))]  # the oldest asked first
        results[key] = found
