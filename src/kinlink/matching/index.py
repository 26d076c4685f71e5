"""In-memory candidate index: blocking keys and service numbers -> record rows, answered without a scan.

Records are held column by column (repeated values such as units and ranks stored once), postings as one
sorted numpy array with offsets (CSR), so a million records fit in a few hundred MiB. A query takes the
postings of its keys, pre-ranks the rows cheaply (keys shared, birth range gap, sex) with numpy, and only
the shortlist is scored by the full model, through the same `Scorer` the database path uses.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
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

    def extend(self, values: Iterable[Any]) -> None:
        # setdefault reads len() before it inserts: a new value gets the next code, in one C call a value.
        lookup = self.lookup
        self.codes.extend(lookup.setdefault(v, len(lookup)) for v in values)

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
        self._parsed = {p: _Column() for p in ("family", "given", "patronymic", "initials", "meta")}
        self._parsed_other: dict[int, tuple[Any, ...]] = {}
        self._tf_cols = (_Column(), _Column(), _Column())
        # Each comparison's prepared value (birth range, unit key...), so scoring never rebuilds a record.
        self._value_cols = [_Column() for _ in model.comparisons]
        self._post_keys = array("I")
        self._post_rows = array("I")
        self.tf = TermFrequencies()
        self.birth_lo = np.empty(0, dtype=np.int32)
        self.birth_hi = np.empty(0, dtype=np.int32)
        self.sex = np.empty(0, dtype=np.int8)
        self.offsets = np.zeros(1, dtype=np.int64)
        self.rows = np.empty(0, dtype=np.uint32)
        self.scorer: Scorer = Scorer(model, self.tf)
        self._prepared: dict[int, Any] = {}

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
        """
        idx = cls(model)
        chunks: Iterable[tuple[list[MatchRecord], _Chunk]]
        if processes > 1 and hasattr(os, "fork"):
            chunks = _parallel_chunks(records, model, processes)
        else:
            chunks = ((batch, _prepare_chunk(batch, model)) for batch in _batches(iter(records)))
        lo, hi, sex = array("i"), array("i"), array("b")
        for batch, chunk in chunks:
            idx._add_chunk(batch, chunk)
            lo.extend(chunk.birth_lo)
            hi.extend(chunk.birth_hi)
            sex.extend(chunk.sex)
            if progress:
                progress(len(batch))
        idx.birth_lo = np.frombuffer(lo, dtype=np.int32).copy()
        idx.birth_hi = np.frombuffer(hi, dtype=np.int32).copy()
        idx.sex = np.frombuffer(sex, dtype=np.int8).copy()
        idx._finish()
        return idx

    def _add_chunk(self, records: list[MatchRecord], c: _Chunk) -> None:
        first = self.size
        self._ids.extend(r.id for r in records)
        self._names.extend(r.name for r in records)
        self._srids.extend(r.source_record_id for r in records)
        for i, r in enumerate(records):
            if r.other_names:
                self._other_names[first + i] = tuple(r.other_names)
        self._service.extend(r.service_number for r in records)
        for f in _SHARED:
            self._cols[f].extend(getattr(r, f) for r in records)
        for col, values in zip(self._value_cols, c.values, strict=True):
            col.extend(values)
        for part, values in c.parts.items():
            self._parsed[part].extend(values)
        for i, other in c.other_parsed.items():
            self._parsed_other[first + i] = other
        for col, values in zip(self._tf_cols, c.tf_columns, strict=True):
            col.extend(values)
        self.tf.add_many(c.tf_columns)
        key_ids = self._key_ids
        for i, keys in enumerate(c.keys):
            self._post_keys.extend(key_ids.setdefault(k, len(key_ids)) for k in keys)
            self._post_rows.extend([first + i] * len(keys))
        self.size += len(records)

    def parsed_names(self, row: int) -> tuple[Any, ...]:
        meta = self._parsed["meta"].get(row)
        out: tuple[Any, ...] = ()
        if meta is not None:
            script, language, sex, order = meta
            out = (
                _names.ParsedName(
                    original=self._names[row],
                    family=self._parsed["family"].get(row),
                    given=self._parsed["given"].get(row),
                    patronymic=self._parsed["patronymic"].get(row),
                    initials=self._parsed["initials"].get(row),
                    script=script,
                    language=language,
                    sex=sex,
                    order=order,
                ),
            )
        return out + self._parsed_other.get(row, ())

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
        self.scorer = Scorer(self.model, self.tf, population=self.size)

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

    def _prepared_row(self, row: int) -> Any:
        p = self._prepared.get(row)
        if p is None:
            if len(self._prepared) > 200_000:
                self._prepared.clear()
            # Read the columns directly: this runs for every candidate of every query.
            values = tuple([col.values[col.codes[row]] for col in self._value_cols])
            p = Prepared(None, self.parsed_names(row), values, self.tf_keys(row))
            self._prepared[row] = p
        return p

    def search(
        self, query: MatchRecord, limit: int = 10, shortlist: int = 30, min_probability: float = 0.0
    ) -> list[Hit]:
        """The best matches for one query, best first, each with its probability and explanation."""
        rows = self.shortlist(query, shortlist)
        if not len(rows):
            return []
        row_list = rows.tolist()
        prepared = [self._prepared_row(row) for row in row_list]
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
    if kind == "r":
        return [idx.search(idx.record(row), limit, shortlist, floor) for row in items]
    return [idx.search(q, limit, shortlist, floor) for q in items]


def key_record(r: MatchRecord) -> Keyed:
    """The costly part of indexing a record: parsing its names and deriving their keys."""
    parsed = tuple(_names.parse_name(n) for n in r.all_names if n and n.strip())
    return sorted(record_keys(r, parsed)), parsed


_BUILD_CHUNK = 2000
_PARTS = ("family", "given", "patronymic", "initials", "meta")


@dataclass(slots=True)
class _Chunk:
    """What indexing a chunk of records costs, worked out column by column (in a worker, when forked)."""

    keys: list[list[str]]
    parts: dict[str, list[Any]]  # the primary name's parts, as the index keeps them
    other_parsed: dict[int, tuple[Any, ...]]  # position in the chunk -> its other parsed names
    values: list[list[Any]]  # per comparison: each record's prepared value
    tf_columns: tuple[list[str | None], list[str | None], list[str | None]]
    birth_lo: list[int]
    birth_hi: list[int]
    sex: list[int]


def _prepare_chunk(records: list[MatchRecord], model: Model) -> _Chunk:
    scorer = Scorer(model)
    keys, others = [], {}
    parts: dict[str, list[Any]] = {p: [] for p in _PARTS}
    tf: tuple[list[str | None], list[str | None], list[str | None]] = ([], [], [])
    lo, hi, sex = [], [], []
    for i, r in enumerate(records):
        k, parsed = key_record(r)
        keys.append(k)
        # The parsed primary name is kept part by part (each distinct part once), so that scoring never
        # parses a record's name again; other names (rare) are kept whole.
        primary = parsed[0] if parsed and parsed[0].original == r.name else None
        parts["family"].append(primary.family if primary else None)
        parts["given"].append(primary.given if primary else None)
        parts["patronymic"].append(primary.patronymic if primary else None)
        parts["initials"].append(primary.initials if primary else None)
        parts["meta"].append(
            (primary.script, primary.language, primary.sex, primary.order) if primary else None
        )
        if len(parsed) > (1 if primary else 0):
            others[i] = tuple(parsed[1:] if primary else parsed)
        for col, key in zip(tf, nb.tf_keys_parsed(parsed[0]) if parsed else (None, None, None), strict=True):
            col.append(key)
        br = birth_range(r.birth_date, r.age, r.age_as_of, r.birth_year_to)
        lo.append(br[0] if br else MISSING_DAY)
        hi.append(br[1] if br else MISSING_DAY)
        s = sex_key(r.sex)
        sex.append(1 if s == "m" else 2 if s == "f" else 0)
    values = [list(col) for col in zip(*(scorer.values(r) for r in records), strict=True)]
    return _Chunk(keys, parts, others, values, tf, lo, hi, sex)


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
