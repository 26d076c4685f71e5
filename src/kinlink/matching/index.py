"""In-memory candidate index: blocking keys and service numbers -> record rows, answered without a scan.

Records are held column by column (repeated values such as units and ranks stored once), postings as one
sorted numpy array with offsets (CSR), so a million records fit in a few hundred MiB. A query takes the
postings of its keys, pre-ranks the rows cheaply (keys shared, birth range gap, sex) with numpy, and only
the shortlist is scored by the full model, through the same `Scorer` the database path uses.
"""

from __future__ import annotations

import gc
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import numpy as np

from kinlink import names as _names
from kinlink.matching import names_bridge as nb
from kinlink.matching.compare import birth_range, identifier_key, sex_key
from kinlink.matching.model import Model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Prepared, Scored, Scorer, TermFrequencies

MISSING_DAY = np.iinfo(np.int32).min
SERVICE_KEY = "sn:"
# Keys shared by more records than this are used only when a query has nothing more selective.
MAX_POSTING = 20_000


def record_keys(record: MatchRecord, parsed: Sequence[Any] | None = None) -> set[str]:
    """Every key under which a record is found: its names' blocking keys and its service number."""
    keys: set[str] = set()
    if parsed is not None:
        for p in parsed:
            keys |= _names.blocking_keys(p)
    else:
        for n in record.all_names:
            if n and n.strip():
                keys |= nb.blocking_keys(n)
    sn = identifier_key(record.service_number)
    if sn:
        keys.add(SERVICE_KEY + sn)
    return keys


def query_keys(query: MatchRecord) -> set[str]:
    """The keys a query is looked up by: its record keys and its names' typo keys (a family name written
    with initials only, see `kinlink.names.typo_keys`), which only queries carry."""
    keys = record_keys(query)
    for n in query.all_names:
        if n and n.strip():
            keys |= _names.typo_keys(nb.parse(n))
    return keys


def prerank(
    query: MatchRecord, shared: np.ndarray, lo: np.ndarray, hi: np.ndarray, sex: np.ndarray
) -> np.ndarray:
    """A cheap score choosing which candidates get the full model: keys shared, less birth gap, sex clash."""
    rank = shared.astype(np.float32)
    br = birth_range(query.birth_date, query.age, query.age_as_of, query.birth_year_to)
    if br is not None:
        known = lo != MISSING_DAY
        gap = np.maximum(0, np.maximum(lo - br[1], br[0] - hi))
        # A year's gap costs about one key; unknown birth costs less than a wrong one.
        rank -= np.where(known, np.minimum(gap / 365.0, 6.0), 0.5).astype(np.float32)
    s = sex_key(query.sex)
    if s:
        want = 1 if s == "m" else 2
        rank -= np.where((sex != 0) & (sex != want), 2.0, 0.0).astype(np.float32)
    return rank


Keyed = tuple[list[str], tuple[Any, ...]]  # blocking keys, parsed names


class _Column:
    """A column of values, each distinct value (None included) stored once."""

    __slots__ = ("codes", "lookup", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.lookup: dict[Any, int] = {}
        self.codes = array("i")

    def extend_coded(self, coded: _Coded) -> None:
        """Append values given as a chunk's distinct values and each row's place among them: only the
        distinct ones are looked up (a chunk holds a few of the units, birth dates... of its records)."""
        distinct, codes = coded
        lookup = self.lookup
        # setdefault reads len() before it inserts: a new value gets the next code, in one C call a value.
        known = np.fromiter(
            (lookup.setdefault(v, len(lookup)) for v in distinct), dtype=np.int32, count=len(distinct)
        )
        self.codes.frombytes(known[codes].tobytes())

    def get(self, row: int) -> Any:
        return self.values[self.codes[row]]

    def freeze(self) -> None:
        values: list[Any] = [None] * len(self.lookup)
        for v, code in self.lookup.items():
            values[code] = v
        self.values, self.lookup = values, {}  # the lookup is only needed while building


_SHARED = (
    "sex",
    "birth_date",
    "birth_year_to",
    "age",
    "age_as_of",
    "place_of_birth",
    "unit",
    "rank",
    "capture_place",
    "capture_date",
    "kind",
)


_PARTS = ("family", "given", "patronymic", "initials", "meta")  # a primary parsed name, as columns


@dataclass(frozen=True, slots=True)
class Hit:
    row: int
    record: MatchRecord
    scored: Scored


class CandidateIndex:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.size = 0
        self._ids: list[Any] = []
        self._names: list[str] = []
        self._other_names: dict[int, tuple[str, ...]] = {}
        self._srids: list[str | None] = []
        self._service = _Column()
        self._cols = {f: _Column() for f in _SHARED}
        self._key_ids: dict[str, int] = {}
        self._parsed = {p: _Column() for p in _PARTS}
        self._part_cols = tuple(self._parsed[p] for p in _PARTS)  # read for every candidate: no dict look-ups
        self._parsed_other: dict[int, tuple[Any, ...]] = {}
        self._tf_cols = (_Column(), _Column(), _Column())
        # Each comparison's prepared value (birth range, unit key...), so scoring never rebuilds a record.
        self._value_cols = [_Column() for _ in model.comparisons]
        # Once built: each row's codes in the comparisons' value columns and then the name keys' columns,
        # side by side, and those columns' distinct values.
        self._row_codes = np.empty((0, len(model.comparisons) + 3), dtype=np.int32)
        self._row_values: list[list[Any]] = []
        self._post_keys = array("I")
        self._post_rows = array("I")
        self.tf = TermFrequencies()
        self.birth_lo = np.empty(0, dtype=np.int32)
        self.birth_hi = np.empty(0, dtype=np.int32)
        self.sex = np.empty(0, dtype=np.int8)
        self.offsets = np.zeros(1, dtype=np.int64)
        self.rows = np.empty(0, dtype=np.uint32)
        self.scorer: Scorer = Scorer(model, self.tf)
        self._name_bound = np.empty(0)

    # --- building ------------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        model: Model,
        records: Iterable[MatchRecord],
        progress: Callable[[int], None] | None = None,
        processes: int = 1,
    ) -> CandidateIndex:
        """Index records, read once as they come (a list, or rows streamed from the database).

        Records are prepared chunk by chunk (names parsed, keys derived, field values worked out); with
        processes > 1 in forked workers, a few chunks ahead of the assembly here, which keeps the records'
        order: the index is the same as with one process.

        The index is millions of long-lived objects, which the cyclic garbage collector would otherwise
        traverse again and again: while they are allocated (a third of the build's time) and then at each
        full collection during the searches (a quarter of theirs, growing with the index). So collection
        is paused while building, and the built index is moved out of its reach (`gc.freeze`; reference
        counting still frees it). Forked workers then also leave its pages shared.
        """
        idx = cls(model)
        chunks: Iterable[tuple[list[MatchRecord], _Chunk]]
        with _gc_paused():
            if processes > 1 and hasattr(os, "fork"):
                chunks = _parallel_chunks(records, model, processes)
            else:
                chunks = ((batch, _prepare_chunk(batch, model)) for batch in _batches(iter(records)))
            lo: list[np.ndarray] = []
            hi: list[np.ndarray] = []
            sex: list[np.ndarray] = []
            for batch, chunk in chunks:
                idx._add_chunk(batch, chunk)
                lo.append(chunk.birth_lo)
                hi.append(chunk.birth_hi)
                sex.append(chunk.sex)
                if progress:
                    progress(len(batch))
            if lo:
                idx.birth_lo, idx.birth_hi = np.concatenate(lo), np.concatenate(hi)
                idx.sex = np.concatenate(sex)
            idx._finish()
            gc.freeze()
        return idx

    def _add_chunk(self, records: list[MatchRecord], c: _Chunk) -> None:
        first = self.size
        self._ids.extend([r.id for r in records])
        self._names.extend([r.name for r in records])
        self._srids.extend([r.source_record_id for r in records])
        for i, r in enumerate(records):
            if r.other_names:
                self._other_names[first + i] = tuple(r.other_names)
        self._service.extend_coded(c.service)
        for f, coded in zip(_SHARED, c.shared, strict=True):
            self._cols[f].extend_coded(coded)
        for col, coded in zip(self._value_cols, c.values, strict=True):
            col.extend_coded(coded)
        for part, coded in zip(_PARTS, c.parts, strict=True):
            self._parsed[part].extend_coded(coded)
        for i, other in c.other_parsed.items():
            self._parsed_other[first + i] = other
        self.tf.population += len(records)
        for col, table, coded in zip(self._tf_cols, _TF_TABLES, c.tf_columns, strict=True):
            col.extend_coded(coded)
            distinct, codes = coded
            counts = np.bincount(codes, minlength=len(distinct)).tolist()
            self.tf.add_counts(table, zip(distinct, counts, strict=True))
        key_ids = self._key_ids
        known = np.fromiter(
            (key_ids.setdefault(k, len(key_ids)) for k in c.keys), dtype=np.uint32, count=len(c.keys)
        )
        self._post_keys.frombytes(known[c.key_codes].tobytes())
        rows = np.arange(first, first + len(records), dtype=np.uint32)
        self._post_rows.frombytes(np.repeat(rows, c.key_counts).tobytes())
        self.size += len(records)

    def parsed_names(self, row: int) -> tuple[Any, ...]:
        family, given, patronymic, initials, meta_col = self._part_cols
        meta = meta_col.values[meta_col.codes[row]]
        out: tuple[Any, ...] = ()
        if meta is not None:
            script, language, sex, order = meta
            out = (
                _names.ParsedName(
                    self._names[row],
                    family.values[family.codes[row]],
                    given.values[given.codes[row]],
                    patronymic.values[patronymic.codes[row]],
                    initials.values[initials.codes[row]],
                    script,
                    language,
                    sex,
                    order,
                ),
            )
        other = self._parsed_other.get(row)
        return out + other if other else out

    def tf_keys(self, row: int) -> tuple[str | None, str | None, str | None]:
        a, b, c = self._tf_cols
        return a.values[a.codes[row]], b.values[b.codes[row]], c.values[c.codes[row]]

    def _finish(self) -> None:
        keys = np.frombuffer(self._post_keys, dtype=np.uint32)
        rows = np.frombuffer(self._post_rows, dtype=np.uint32)
        order = np.argsort(keys, kind="stable")
        self.rows = rows[order].copy()
        counts = np.bincount(keys, minlength=len(self._key_ids))
        self.offsets = np.zeros(len(self._key_ids) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self._post_keys = array("I")
        self._post_rows = array("I")
        for c in (*self._cols.values(), *self._parsed.values(), *self._tf_cols, *self._value_cols):
            c.freeze()
        self._service.freeze()
        # A candidate's codes side by side, in one cache line: read from a column each, a candidate cost a
        # cache miss per comparison, a fifth of a search's time. The value columns' own codes are dropped.
        cols = (*self._value_cols, *self._tf_cols)
        self._row_values = [c.values for c in cols]
        self._row_codes = np.stack([np.frombuffer(c.codes, dtype=np.int32) for c in cols], axis=1)
        for c in self._value_cols:
            c.codes = array("i")
        self.scorer = Scorer(self.model, self.tf, population=self.size)
        self._name_bound = self._name_bounds()

    def _name_bounds(self) -> np.ndarray:
        """Every record's name bound (`Scorer.name_bound`), summed once from its distinct name keys:
        searching otherwise works it out again for every candidate it bounds."""
        bound = np.full(self.size, self.scorer.name_bound_term(None))
        for table, col in zip(_TF_TABLES, self._tf_cols, strict=True):
            terms = np.array([self.scorer.name_bound_term(table, key) for key in col.values])
            bound += terms[np.frombuffer(col.codes, dtype=np.int32)]
        return bound

    # --- reading -------------------------------------------------------------------------------------

    def record(self, row: int) -> MatchRecord:
        values = {f: self._cols[f].get(row) for f in _SHARED}
        return MatchRecord(
            id=self._ids[row],
            name=self._names[row],
            other_names=self._other_names.get(row, ()),
            source_record_id=self._srids[row],
            service_number=self._service.get(row),
            **values,
        )

    def __len__(self) -> int:
        return self.size

    def memory_bytes(self) -> int:
        """The numpy part only (postings, birth ranges); Python objects are measured by the caller."""
        return int(self.rows.nbytes + self.offsets.nbytes + self.birth_lo.nbytes * 2 + self.sex.nbytes)

    def posting(self, key: str) -> np.ndarray:
        kid = self._key_ids_frozen().get(key)
        if kid is None:
            return self.rows[:0]
        return self.rows[self.offsets[kid] : self.offsets[kid + 1]]

    def _key_ids_frozen(self) -> dict[str, int]:
        return self._key_ids

    # --- querying ------------------------------------------------------------------------------------

    def shortlist(self, query: MatchRecord, size: int = 30) -> np.ndarray:
        """Rows worth scoring: found under the query's keys, pre-ranked by keys shared, birth and sex."""
        postings = [p for p in (self.posting(k) for k in query_keys(query)) if len(p)]
        if not postings:
            return self.rows[:0]
        selective = [p for p in postings if len(p) <= MAX_POSTING]
        postings = selective or [min(postings, key=len)]
        rows, shared = np.unique(np.concatenate(postings), return_counts=True)
        rank = prerank(
            query, shared.astype(np.float32), self.birth_lo[rows], self.birth_hi[rows], self.sex[rows]
        )
        if len(rows) > size:
            top = np.argpartition(-rank, size)[:size]
            rows, rank = rows[top], rank[top]
        # Best first, so that the bound in `search` prunes the rest early.
        return rows[np.argsort(-rank, kind="stable")]

    def score_rows_for(self, query: Any, row: int) -> Scored:
        """Score a prepared query against one row (no pruning)."""
        return self.scorer.score(query, self._prepared_row(row))

    def score_rows(self, query_row: int, row: int) -> Scored:
        return self.scorer.score(self._prepared_row(query_row), self._prepared_row(row))

    def _prepared_row(self, row: int) -> Prepared:
        return self._prepared_rows(np.array([row], dtype=np.int64))[0]

    def _prepared_rows(self, rows: np.ndarray) -> list[Prepared]:
        """The rows as the scorer takes them, their codes gathered in one numpy step; names are parsed
        only if a candidate passes the bound (`Prepared.parsed`)."""
        n_values = len(self._value_cols)
        lists = self._row_values
        out = []
        for row, codes, bound in zip(
            rows.tolist(), self._row_codes[rows].tolist(), self._name_bound[rows].tolist(), strict=True
        ):
            values = [v[k] for v, k in zip(lists, codes, strict=True)]
            out.append(
                Prepared(
                    None,
                    None,
                    tuple(values[:n_values]),
                    tuple(values[n_values:]),  # type: ignore[arg-type]
                    bound,
                    partial(self.parsed_names, row),
                )
            )
        return out

    def search(
        self, query: MatchRecord, limit: int = 10, shortlist: int = 30, min_probability: float = 0.0
    ) -> list[Hit]:
        """The best matches for one query, best first, each with its probability and explanation."""
        rows = self.shortlist(query, shortlist)
        if not len(rows):
            return []
        row_list = rows.tolist()
        prepared = self._prepared_rows(rows)
        best = self.scorer.best(
            self.scorer.prepare(query), prepared, limit, min_probability, tie=row_list.__getitem__
        )
        return [Hit(row_list[n], self.record(row_list[n]), s) for n, s in best]

    def search_many(
        self,
        queries: Sequence[MatchRecord],
        limit: int = 10,
        shortlist: int = 30,
        processes: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[list[Hit]]:
        """Results for each query, in order. With processes > 1 the index is shared by fork (COW)."""
        with Searcher(self, processes) as searcher:
            for i in range(0, len(queries), 5000):
                part = searcher.search(queries[i : i + 5000], limit, shortlist)
                yield from part
                if progress:
                    progress(len(part))


class Searcher:
    """Many searches of one index, in forked worker processes that share it copy-on-write.

    The workers are forked once, when the block is entered, so a caller that searches chunk by chunk (as
    `kinlink match` does, committing between chunks) pays for the fork once. With one process, or where
    fork is unavailable, it searches in this process.
    """

    def __init__(self, index: CandidateIndex, processes: int = 1) -> None:
        self.index = index
        self.processes = processes if processes > 1 and hasattr(os, "fork") else 1
        self._pool: Any = None

    def __enter__(self) -> Searcher:
        if self.processes > 1:
            import multiprocessing as mp

            global _WORKER_INDEX
            _WORKER_INDEX = self.index
            gc.freeze()  # as the gc docs advise before a fork: workers' collections leave shared pages be
            self._pool = mp.get_context("fork").Pool(self.processes)
        return self

    def __exit__(self, *exc: object) -> None:
        global _WORKER_INDEX
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
        _WORKER_INDEX = None

    def search(
        self, queries: Sequence[MatchRecord], limit: int, shortlist: int = 30, min_probability: float = 0.0
    ) -> list[list[Hit]]:
        """Each query's hits, in order."""
        return self._run(("q", list(queries), limit, shortlist, min_probability))

    def search_rows(self, rows: Sequence[int], limit: int, min_probability: float = 0.0) -> list[list[Hit]]:
        """The hits of each of these index rows taken as a query (records against each other)."""
        return self._run(("r", list(rows), limit, 30, min_probability))

    def _run(self, task: _Task) -> list[list[Hit]]:
        kind, items, limit, shortlist, floor = task
        n = len(items)
        if self._pool is None or n < 100:
            return _search_task(task, self.index)
        size = max(50, -(-n // (4 * self.processes)))  # a few tasks per worker, so none idles at the end
        tasks = [(kind, items[i : i + size], limit, shortlist, floor) for i in range(0, n, size)]
        out: list[list[Hit]] = []
        for part in self._pool.imap(_search_task, tasks):
            out.extend(part)
        return out


_Task = tuple[str, list[Any], int, int, float]  # "q" (queries) or "r" (rows), items, limit, shortlist, floor
_WORKER_INDEX: CandidateIndex | None = None


def _search_task(task: _Task, index: CandidateIndex | None = None) -> list[list[Hit]]:
    kind, items, limit, shortlist, floor = task
    idx = index or _WORKER_INDEX
    assert idx is not None
    # Searching allocates and drops millions of small objects, none in reference cycles: the cyclic
    # collector, run every few hundred allocations, cost a quarter of the time and freed nothing. Paused
    # for one task (a bounded number of queries; a later collection takes any cycle left).
    with _gc_paused():
        if kind == "r":
            return [idx.search(idx.record(row), limit, shortlist, floor) for row in items]
        return [idx.search(q, limit, shortlist, floor) for q in items]


def key_record(r: MatchRecord) -> Keyed:
    """The costly part of indexing a record: parsing its names and deriving their keys."""
    parsed = tuple(_names.parse_name(n) for n in r.all_names if n and n.strip())
    return sorted(record_keys(r, parsed)), parsed


_BUILD_CHUNK = 2000
_TF_TABLES = ("family", "given", "patronymic")
# A chunk's column: its distinct values (in order of first appearance) and each record's place among them.
_Coded = tuple[list[Any], np.ndarray]


@dataclass(slots=True)
class _Chunk:
    """What indexing a chunk of records costs, worked out column by column (in a worker, when forked).

    Columns come coded (`_Coded`): the assembly then looks up only each chunk's distinct values, and
    little crosses back from a worker.
    """

    keys: list[str]  # the chunk's distinct keys
    key_codes: np.ndarray  # every record's keys in turn, as places in `keys`
    key_counts: np.ndarray  # how many keys each record has
    service: _Coded
    shared: list[_Coded]  # per field of _SHARED
    parts: list[_Coded]  # per _PARTS: the primary name's parts, as the index keeps them
    other_parsed: dict[int, tuple[Any, ...]]  # position in the chunk -> its other parsed names
    values: list[_Coded]  # per comparison: each record's prepared value
    tf_columns: tuple[_Coded, _Coded, _Coded]
    birth_lo: np.ndarray
    birth_hi: np.ndarray
    sex: np.ndarray


def _coded(values: Sequence[Any]) -> _Coded:
    # In C passes, without a Python step a value: the distinct values, numbered, then each one's number.
    lookup: dict[Any, Any] = dict.fromkeys(values)
    for code, v in enumerate(lookup):
        lookup[v] = code
    return list(lookup), np.fromiter(map(lookup.__getitem__, values), dtype=np.int32, count=len(values))


def _firsts(codes: np.ndarray) -> list[int]:
    """The position of each distinct value's first record (codes number them in that order)."""
    return np.unique(codes, return_index=True)[1].tolist()


def _prepare_chunk(records: list[MatchRecord], model: Model) -> _Chunk:
    scorer = Scorer(model)
    n = len(records)
    keys, others = [], {}
    parts: list[list[Any]] = [[] for _ in _PARTS]
    family, given, patronymic, initials, meta = parts
    tf: tuple[list[str | None], list[str | None], list[str | None]] = ([], [], [])
    for i, r in enumerate(records):
        k, parsed = key_record(r)
        keys.append(k)
        # The parsed primary name is kept part by part (each distinct part once), so that scoring never
        # parses a record's name again; other names (rare) are kept whole.
        primary = parsed[0] if parsed and parsed[0].original == r.name else None
        if primary:
            family.append(primary.family)
            given.append(primary.given)
            patronymic.append(primary.patronymic)
            initials.append(primary.initials)
            meta.append((primary.script, primary.language, primary.sex, primary.order))
        else:
            for col in parts:
                col.append(None)
        if len(parsed) > (1 if primary else 0):
            others[i] = tuple(parsed[1:] if primary else parsed)
        for col, key in zip(tf, nb.tf_keys_parsed(parsed[0]) if parsed else (None, None, None), strict=True):
            col.append(key)
    flat_keys, key_codes = _coded([k for ks in keys for k in ks])
    raw = {f: [getattr(r, f) for r in records] for f in _SHARED}
    shared = [_coded(raw[f]) for f in _SHARED]
    by_fields: dict[tuple[str, ...], _Coded] = {(f,): c for f, c in zip(_SHARED, shared, strict=True)}

    def fields_coded(names: tuple[str, ...]) -> _Coded:
        if names not in by_fields:
            columns = [raw[f] if f in raw else [getattr(r, f) for r in records] for f in names]
            by_fields[names] = _coded(list(zip(*columns, strict=True)) if len(names) > 1 else columns[0])
        return by_fields[names]

    # Each comparison's value is prepared once per distinct value of the fields it reads (from the first
    # record holding it: preparing is pure), not once per record.
    values: list[_Coded] = []
    for c, comp in zip(model.comparisons, scorer._comparators, strict=True):
        if comp is None:  # name parts are compared from the parsed names
            values.append(([None], np.zeros(n, dtype=np.int32)))
            continue
        _distinct, codes = fields_coded(comp.reads or (c.field,))
        prepared, pcodes = _coded([comp.prepare(records[j], c.field) for j in _firsts(codes)])
        values.append((prepared, pcodes[codes]))
    births, bcodes = fields_coded(("birth_date", "age", "age_as_of", "birth_year_to"))
    ranges = [birth_range(*b) or (MISSING_DAY, MISSING_DAY) for b in births]
    sexes, scodes = by_fields[("sex",)]
    sex_codes = [{"m": 1, "f": 2}.get(sex_key(s) or "", 0) for s in sexes]
    return _Chunk(
        keys=flat_keys,
        key_codes=key_codes,
        key_counts=np.fromiter(map(len, keys), dtype=np.int64, count=n),
        service=fields_coded(("service_number",)),
        shared=shared,
        parts=[_coded(col) for col in parts],
        other_parsed=others,
        values=values,
        tf_columns=(_coded(tf[0]), _coded(tf[1]), _coded(tf[2])),
        birth_lo=np.array([b[0] for b in ranges], dtype=np.int32)[bcodes],
        birth_hi=np.array([b[1] for b in ranges], dtype=np.int32)[bcodes],
        sex=np.array(sex_codes, dtype=np.int8)[scodes],
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _batches(it: Iterator[MatchRecord]) -> Iterator[list[MatchRecord]]:
    from itertools import islice

    while batch := list(islice(it, _BUILD_CHUNK)):
        yield batch


_BUILD_MODEL: Model | None = None


def _prepare_in_worker(records: list[MatchRecord]) -> _Chunk:
    assert _BUILD_MODEL is not None
    return _prepare_chunk(records, _BUILD_MODEL)


def _parallel_chunks(
    records: Iterable[MatchRecord], model: Model, processes: int
) -> Iterator[tuple[list[MatchRecord], _Chunk]]:
    """Chunks of records with their preparation, in order; workers prepare a bounded window ahead.

    The window (not Pool.imap, whose feeder thread would drain a database cursor into memory) keeps at most
    2 x processes chunks in flight, and the cursor is read by this thread only.
    """
    import multiprocessing as mp
    from collections import deque

    global _BUILD_MODEL
    _BUILD_MODEL = model  # inherited by the forked workers (a model's compiled tests do not pickle)
    batches = _batches(iter(records))
    try:
        with mp.get_context("fork").Pool(processes) as pool:
            window: deque[tuple[list[MatchRecord], Any]] = deque()

            def submit() -> None:
                batch = next(batches, None)
                if batch:
                    window.append((batch, pool.apply_async(_prepare_in_worker, (batch,))))

            for _ in range(2 * processes):
                submit()
            while window:
                batch, pending = window.popleft()
                chunk = pending.get()
                submit()
                yield batch, chunk
    finally:
        _BUILD_MODEL = None


def record_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(MatchRecord))
