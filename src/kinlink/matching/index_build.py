"""Preparing records for the index, chunk by chunk and column by column, in forked workers if asked.

This is most of a build's cost (names parsed, keys derived, comparison values prepared); it is kept apart
from the index's assembly so that a worker sends back only each chunk's distinct values and their codes.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kinlink.matching.comparators import birth_range, sex_key
from kinlink.matching.keys import MISSING_DAY, index_keyed
from kinlink.matching.model import Model
from kinlink.matching.record import FIELD_NAMES, MatchRecord, record_state
from kinlink.matching.score import Scorer

# The record fields the index keeps as columns (each distinct value stored once).
SHARED_FIELDS = (
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
NAME_PARTS = ("family", "given", "patronymic", "initials", "meta")  # a primary parsed name, as columns


_BUILD_CHUNK = 2000
# A chunk's column: its distinct values (in order of first appearance) and each record's place among them.
Coded = tuple[list[Any], np.ndarray]


@dataclass(slots=True)
class Chunk:
    """What indexing a chunk of records costs, worked out column by column (in a worker, when forked).

    Columns come coded (`Coded`): the assembly then looks up only each chunk's distinct values, and
    little crosses back from a worker.
    """

    # Every record's keys in turn, as their string hashes (`CandidateIndex` keys its postings so; a
    # forked worker hashes strings as its parent does), and how many keys each record has.
    key_hashes: np.ndarray
    key_counts: np.ndarray
    service: Coded
    shared: list[Coded]  # per field of SHARED_FIELDS
    parts: list[Coded]  # per NAME_PARTS: the primary name's parts, as the index keeps them
    other_parsed: dict[int, tuple[Any, ...]]  # position in the chunk -> its other parsed names
    values: list[Coded]  # per comparison: each record's prepared value
    tf_columns: tuple[Coded, Coded, Coded]
    birth_lo: np.ndarray
    birth_hi: np.ndarray
    sex: np.ndarray


def _coded(values: Sequence[Any]) -> Coded:
    # In C passes, without a Python step a value: the distinct values, numbered, then each one's number.
    lookup: dict[Any, Any] = dict.fromkeys(values)
    for code, v in enumerate(lookup):
        lookup[v] = code
    return list(lookup), np.fromiter(map(lookup.__getitem__, values), dtype=np.int32, count=len(values))


def _firsts(codes: np.ndarray) -> list[int]:
    """The position of each distinct value's first record (codes number them in that order)."""
    return np.unique(codes, return_index=True)[1].tolist()


def prepare_chunk(records: list[MatchRecord], model: Model) -> Chunk:
    scorer = Scorer(model)
    n = len(records)
    keyed = [index_keyed(r) for r in records]
    keys = [k for k, _p, _t in keyed]
    others = {}
    # The parsed primary name is kept part by part (each distinct part once), so that scoring never
    # parses a record's name again; other names (rare) are kept whole.
    primaries: list[Any] = []
    for i, ((_k, parsed, _t), r) in enumerate(zip(keyed, records, strict=True)):
        primary = parsed[0] if parsed and parsed[0].original == r.name else None
        primaries.append(primary)
        if len(parsed) > (1 if primary else 0):
            others[i] = tuple(parsed[1:] if primary else parsed)
    parts: list[list[Any]] = [
        [p.family if p else None for p in primaries],
        [p.given if p else None for p in primaries],
        [p.patronymic if p else None for p in primaries],
        [p.initials if p else None for p in primaries],
        [(p.script, p.language, p.sex, p.order) if p else None for p in primaries],
    ]
    tf = tuple(list(col) for col in zip(*(t for _k, _p, t in keyed), strict=True)) if n else ([], [], [])
    flat_keys = [k for ks in keys for k in ks]
    raw = {f: [getattr(r, f) for r in records] for f in SHARED_FIELDS}
    shared = [_coded(raw[f]) for f in SHARED_FIELDS]
    by_fields: dict[tuple[str, ...], Coded] = {(f,): c for f, c in zip(SHARED_FIELDS, shared, strict=True)}

    def fields_coded(names: tuple[str, ...]) -> Coded:
        if names not in by_fields:
            columns = [raw[f] if f in raw else [getattr(r, f) for r in records] for f in names]
            by_fields[names] = _coded(list(zip(*columns, strict=True)) if len(names) > 1 else columns[0])
        return by_fields[names]

    # Each comparison's value is prepared once per distinct value of the fields it reads (from the first
    # record holding it: preparing is pure), not once per record.
    values: list[Coded] = []
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
    return Chunk(
        key_hashes=np.fromiter(map(hash, flat_keys), dtype=np.int64, count=len(flat_keys)),
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


def record_batches(it: Iterator[MatchRecord]) -> Iterator[list[MatchRecord]]:
    from itertools import islice

    while batch := list(islice(it, _BUILD_CHUNK)):
        yield batch


def merge_chunks(n: int, parts: list[tuple[np.ndarray, Chunk]]) -> Chunk:
    """The chunk `prepare_chunk` gives for n records, from the chunks of a partition of them (each with
    its records' positions, ascending): the same columns, values numbered in the same order."""
    if len(parts) == 1:
        return parts[0][1]
    sides = [c for _pos, c in parts]

    def coded(get: Callable[[Chunk], Coded]) -> Coded:
        return _merged_coded(n, [(pos, get(c)) for pos, c in parts])

    def scattered(get: Callable[[Chunk], np.ndarray]) -> np.ndarray:
        out = np.empty(n, dtype=get(sides[0]).dtype)
        for pos, c in parts:
            out[pos] = get(c)
        return out

    # Each record's keys, gathered in record order from the parts' flat key lists.
    counts = scattered(lambda c: c.key_counts)
    starts = np.empty(n, dtype=np.int64)
    base = 0
    for pos, c in parts:
        starts[pos] = base + np.cumsum(c.key_counts) - c.key_counts
        base += len(c.key_hashes)
    flat = np.concatenate([c.key_hashes for c in sides])
    at = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    others = sorted((int(pos[i]), v) for pos, c in parts for i, v in c.other_parsed.items())
    return Chunk(
        key_hashes=flat[at],
        key_counts=counts,
        service=coded(lambda c: c.service),
        shared=[coded(lambda c, i=i: c.shared[i]) for i in range(len(sides[0].shared))],  # type: ignore[misc]
        parts=[coded(lambda c, i=i: c.parts[i]) for i in range(len(sides[0].parts))],  # type: ignore[misc]
        other_parsed=dict(others),
        values=[coded(lambda c, i=i: c.values[i]) for i in range(len(sides[0].values))],  # type: ignore[misc]
        tf_columns=(
            coded(lambda c: c.tf_columns[0]),
            coded(lambda c: c.tf_columns[1]),
            coded(lambda c: c.tf_columns[2]),
        ),
        birth_lo=scattered(lambda c: c.birth_lo),
        birth_hi=scattered(lambda c: c.birth_hi),
        sex=scattered(lambda c: c.sex),
    )


def _merged_coded(n: int, parts: list[tuple[np.ndarray, Coded]]) -> Coded:
    codes = np.empty(n, dtype=np.int32)
    distinct: list[Any] = []
    for pos, (values, part_codes) in parts:
        codes[pos] = part_codes + len(distinct)
        distinct += values
    # Renumbered in order of first record, then values equal across parts made one, as _coded numbers them
    # (every value of a part's list is some record's).
    order = np.argsort(np.unique(codes, return_index=True)[1])
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    values, dedup = _coded([distinct[i] for i in order.tolist()])
    return values, dedup[rank[codes]]


_BUILD_MODEL: Model | None = None


class _Row(namedtuple("_Row", FIELD_NAMES)):  # type: ignore[misc]
    """A record as a worker receives it: its fields in MatchRecord's order, read as MatchRecord's are.

    Records cross to the workers as plain tuples (`record_state`): pickled and unpickled in C, where a
    MatchRecord is rebuilt a field at a time in Python (2 µs a record, a million records; issue 19)."""

    __slots__ = ()

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.other_names)


def _prepare_in_worker(states: list[tuple[Any, ...]]) -> Chunk:
    assert _BUILD_MODEL is not None
    return prepare_chunk(list(map(_Row._make, states)), _BUILD_MODEL)


def _route(name: str) -> int:
    # A record goes to the worker its name's first word picks: a family name's records then meet one
    # worker, whose per-word caches (parsing, readings, blocking pieces) work each word out once, where
    # chunks dealt in turn had every worker work out most words again (issue 19). Only where work is done
    # depends on it, not what is done.
    first = name.split(None, 1)
    return hash(first[0]) if first else 0


def parallel_chunks(
    records: Iterable[MatchRecord], model: Model, processes: int
) -> Iterator[tuple[list[MatchRecord], Chunk]]:
    """Chunks of records with their preparation, in order; workers prepare a bounded window ahead.

    Each chunk is split among the workers by `_route` (one single-process pool a worker, so that a record
    reaches the one it is routed to) and put together again by `merge_chunks`. The window (not
    Pool.imap, whose feeder thread would drain a database cursor into memory) keeps at most 2 x processes
    chunks in flight, and the cursor is read by this thread only.
    """
    import multiprocessing as mp
    from collections import deque
    from contextlib import ExitStack

    global _BUILD_MODEL
    _BUILD_MODEL = model  # inherited by the forked workers (a model's compiled tests do not pickle)
    batches = record_batches(iter(records))
    try:
        with ExitStack() as stack:
            pools = [stack.enter_context(mp.get_context("fork").Pool(1)) for _ in range(processes)]
            window: deque[tuple[list[MatchRecord], list[tuple[np.ndarray, Any]]]] = deque()

            def submit() -> None:
                batch = next(batches, None)
                if not batch:
                    return
                routes = np.fromiter(map(_route, [r.name for r in batch]), dtype=np.int64, count=len(batch))
                routes %= processes
                states = list(map(record_state, batch))
                jobs = []
                for w, pool in enumerate(pools):
                    pos = np.flatnonzero(routes == w)
                    if len(pos):
                        sub = [states[i] for i in pos.tolist()]
                        jobs.append((pos, pool.apply_async(_prepare_in_worker, (sub,))))
                window.append((batch, jobs))

            for _ in range(2 * processes):
                submit()
            while window:
                batch, jobs = window.popleft()
                parts = [(pos, pending.get()) for pos, pending in jobs]
                submit()
                yield batch, merge_chunks(len(batch), parts)
    finally:
        _BUILD_MODEL = None
