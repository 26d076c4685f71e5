"""Preparing records for the index, chunk by chunk and column by column, in forked workers if asked.

This is most of a build's cost (names parsed, keys derived, comparison values prepared); it is kept apart
from the index's assembly so that a worker sends back only each chunk's distinct values and their codes.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import chain, compress, count, repeat
from multiprocessing.connection import Connection
from operator import attrgetter, is_, itemgetter
from typing import Any

import numpy as np

from kinlink.matching import build_keys
from kinlink.matching.comparators import birth_range, identifier_key, sex_key
from kinlink.matching.keys import MISSING_DAY, NO_TF, SERVICE_KEY, index_keyed, name_indexed
from kinlink.matching.model import Model
from kinlink.matching.record import FIELD_NAMES, MatchRecord
from kinlink.matching.score import Scorer
from kinlink.names import load_dictionaries

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
# A record's fields the index keeps as columns, in MatchRecord's order: the shared ones and its service
# number (`CandidateIndex.record` reads them so).
COLUMN_FIELDS = FIELD_NAMES[FIELD_NAMES.index("sex") : FIELD_NAMES.index("kind") + 1]
assert set(COLUMN_FIELDS) == {*SHARED_FIELDS, "service_number"}
NAME_PARTS = ("family", "given", "patronymic", "initials", "meta")  # a primary parsed name, as columns
# The fields a record is prepared from, as a tuple (in C): not its own ids, which only the index keeps and
# which, distinct for every record, were a third of what crossed to the workers (issue 19).
PREPARED_FIELDS = tuple(f for f in FIELD_NAMES if f not in ("id", "source_record_id"))
prepared_state = attrgetter(*PREPARED_FIELDS)


# Each chunk's distinct values (units, dates, name parts) are prepared, sent back and looked up once a chunk:
# 8,000 records a chunk repeat fewer of them than 2,000 did (a quarter less of the parent's CPU; issue 19).
_BUILD_CHUNK = 8000
# A chunk's column: its distinct values (in order of first appearance) and each record's place among them.
Coded = tuple[list[Any], np.ndarray]
# A chunk's column as a preparer sends it to the assembly (`Sender`): those of its distinct values the
# preparer has not sent before (in order of first appearance), the preparer's numbers for all its distinct
# values, and each record's place among them.
Sent = tuple[list[Any], np.ndarray, np.ndarray]
Column = Any  # Coded as prepared, Sent once a Sender has sent its chunk


@dataclass(slots=True)
class Chunk:
    """What indexing a chunk of records costs, worked out column by column (in a worker, when forked).

    Columns come coded (`Coded`): the assembly then looks up only each chunk's distinct values, and
    little crosses back from a worker.
    """

    # The chunk's postings: every record's keys, as their string hashes (`CandidateIndex` keys its postings
    # so; a forked worker hashes strings as its parent does), sorted stably, and the record (its place in
    # the chunk) each belongs to. Sorted here, in the workers, the parent's sort of all the postings at the
    # end of a build merges sorted runs (a third of its time, issue 19).
    key_hashes: np.ndarray
    key_rows: np.ndarray
    service: Column
    shared: list[Column]  # per field of SHARED_FIELDS
    parts: list[Column]  # per NAME_PARTS: the primary name's parts, as the index keeps them
    other_parsed: dict[int, tuple[Any, ...]]  # position in the chunk -> its other parsed names
    values: list[Column]  # per comparison: each record's prepared value
    tf_columns: tuple[Column, Column, Column]
    birth_lo: np.ndarray
    birth_hi: np.ndarray
    sex: np.ndarray
    source: int = 0  # the preparer that sent the chunk (`Sender.source`); its columns are then `Sent`
    # Each record's key-table rows when a caller asked for them (`build_keys.handing_keys`), else None.
    stored: Stored | None = None


# A chunk's records' rows of the key table, coded: the distinct key strings, each row's key among them
# (records in the chunk's order, a record's keys sorted), and each record's number of rows (`build_keys`).
Stored = tuple[list[str], np.ndarray, np.ndarray]


class Sender:
    """What one preparer (a forked worker, or the building process) has sent of each column in a build.

    A chunk's distinct values (a unit, a birth date, a family name) are mostly ones an earlier chunk held:
    sent once a preparer and then by number, the assembly looks up (hashes) each value once a preparer, not
    once a chunk, and less is pickled (issue 19). The assembly reads a preparer's chunks in the order it
    prepared them, so a value sent by number has been received before."""

    def __init__(self) -> None:
        self.source = os.getpid()
        self._known: list[dict[Any, int]] = []

    def send(self, c: Chunk) -> Chunk:
        column = count()  # each column by its place in a chunk

        def sent(coded: Coded) -> Sent:
            return self._send(next(column), coded)

        return replace(
            c,
            service=sent(c.service),
            shared=[sent(coded) for coded in c.shared],
            parts=[sent(coded) for coded in c.parts],
            values=[sent(coded) for coded in c.values],
            tf_columns=(sent(c.tf_columns[0]), sent(c.tf_columns[1]), sent(c.tf_columns[2])),
            source=self.source,
        )

    def _send(self, column: int, coded: Coded) -> Sent:
        if column == len(self._known):
            self._known.append({})
        distinct, codes = coded
        got, new = number_values(self._known[column], distinct)
        return new, got, codes


def number_values(lookup: dict[Any, int], values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each of these (distinct) values' number in `lookup` (int32), the ones it lacks added, numbered on
    in their order as setdefault one by one would; and those new ones. In C and numpy passes, without a
    Python step a value, and each value looked up once (issue 19): both sides of a build's columns number
    values so, the preparer and the assembly."""
    got = np.fromiter(map(lookup.get, values, repeat(-1)), dtype=np.int32, count=len(values))
    missing = got < 0
    new: list[Any] = []
    if missing.any():
        new = list(compress(values, missing.tolist()))
        start = len(lookup)
        lookup.update(zip(new, count(start)))
        got[missing] = np.arange(start, start + len(new), dtype=np.int32)
    return got, new


def _coded(values: Sequence[Any]) -> Coded:
    # In C passes, without a Python step a value: the distinct values, numbered, then each one's number.
    distinct = list(dict.fromkeys(values))
    lookup = dict(zip(distinct, count()))
    return distinct, np.fromiter(map(lookup.__getitem__, values), dtype=np.int32, count=len(values))


def _combined(columns: list[Coded], raw: list[Sequence[Any]]) -> Coded:
    """The column of several fields' values side by side (tuples), coded as `_coded` codes it, from each
    field's own coded column: two records hold equal tuples exactly when they hold equal values in every
    field, so the tuples' numbers follow from the fields' numbers in numpy passes, and only each distinct
    tuple is made (zipped and hashed a record at a time, they were a tenth of a chunk's preparation)."""
    key = columns[0][1].astype(np.int64)
    for distinct, codes in columns[1:]:
        # Renumbered first (at most one number a record), so that the product stays within int64.
        _u, key = np.unique(key, return_inverse=True)
        key = key.astype(np.int64) * len(distinct) + codes
    _u, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # the distinct tuples in order of first appearance
    renumber = np.empty(len(order), dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    at = first[order].tolist()
    return list(zip(*[[col[j] for j in at] for col in raw], strict=True)), renumber[inverse.ravel()]


def first_rows(codes: np.ndarray) -> np.ndarray:
    """Each distinct value's first row, from codes that number values in order of first appearance
    (`index_build.Coded`): where the running maximum grows, in numpy passes."""
    if not len(codes):
        return np.empty(0, dtype=np.int64)
    top = np.maximum.accumulate(codes)
    grows = np.ones(len(codes), dtype=bool)
    np.greater(top[1:], top[:-1], out=grows[1:])
    return np.flatnonzero(grows)


def _firsts(codes: np.ndarray) -> list[int]:
    """The position of each distinct value's first record (codes number them in that order): in one pass,
    not np.unique's sort."""
    return first_rows(codes).tolist()


def _in_order(values: Sequence[Any], codes: np.ndarray) -> Coded:
    """A column coded as `_coded` codes it (its values numbered in order of first appearance, only those
    used), from codes into any list of values: what a column worked out per distinct name comes to."""
    used, first = np.unique(codes, return_index=True)
    order = used[np.argsort(first, kind="stable")]
    renumber = np.empty(len(values), dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    return [values[c] for c in order.tolist()], renumber[codes]


_NONE = (None, (), NO_TF)  # a blank name's: its records are keyed one by one


def _name_columns(
    columns: dict[str, Sequence[Any]], record_at: Callable[[int], Any]
) -> tuple[list[tuple[str, ...]], list[Coded], dict[int, tuple[Any, ...]], list[Coded], Stored | None]:
    """Every record's keys, its primary name's parts (coded) and other parsed names, and its name's
    term-frequency keys (coded), as `index_keyed` gives them record by record, worked out once per
    distinct name of the chunk (issue 19); and the records' key-table rows if a caller asked for them
    (`build_keys.handing_keys`)."""
    names, others, services = columns["name"], columns["other_names"], columns["service_number"]
    distinct, name_codes = _coded(names)
    # A record of one name (nearly all) is keyed by its name (`name_indexed`, cached across chunks too)
    # and its service number; any other (several names, or none) as `index_keyed` keys it, appended.
    infos: list[Any] = [name_indexed(n) if n and n.strip() else _NONE for n in distinct]
    sns: list[Any] = list(map(identifier_key, services))
    at = name_codes.copy()
    # The records keyed one by one: those of other names too, or of a blank name (numpy passes, not a
    # Python step a record).
    blank = np.fromiter(map(is_, infos, repeat(_NONE)), dtype=bool, count=len(infos))
    slow = np.flatnonzero(np.fromiter(map(bool, others), dtype=bool, count=len(others)) | blank[name_codes])
    other_parsed: dict[int, tuple[Any, ...]] = {}
    for i in slow.tolist():
        keys, parsed, tf = index_keyed(record_at(i))
        primary = parsed[0] if parsed and parsed[0].original == names[i] else None
        if len(parsed) > (1 if primary else 0):
            other_parsed[i] = tuple(parsed[1:] if primary else parsed)
        at[i] = len(infos)
        infos.append((primary, keys, tf))
        sns[i] = None  # its keys hold its service number's
    keys_at = [info[1] for info in infos]
    record_keys = [
        k if s is None else (*k, SERVICE_KEY + s)
        for k, s in zip(map(keys_at.__getitem__, at.tolist()), sns, strict=True)
    ]
    stored = None
    if build_keys.WANTED is not None:  # (the records keyed one by one have infos from len(distinct) on)
        stored = build_keys.stored_rows(build_keys.WANTED, infos, at.tolist(), sns, len(distinct))
    primaries = [info[0] for info in infos]
    parts = [
        [p.family if p else None for p in primaries],
        [p.given if p else None for p in primaries],
        [p.patronymic if p else None for p in primaries],
        [p.initials if p else None for p in primaries],
        [(p.script, p.language, p.sex, p.order) if p else None for p in primaries],
    ]
    tfs = [info[2] for info in infos]
    tf_cols = [[t[j] for t in tfs] for j in range(3)]

    def coded(values: list[Any]) -> Coded:
        distinct_values, codes = _coded(values)
        return _in_order(distinct_values, codes[at])

    return record_keys, [coded(col) for col in parts], other_parsed, [coded(col) for col in tf_cols], stored


def prepare_chunk(records: Sequence[MatchRecord], model: Model) -> Chunk:
    chunk = prepare_states(list(map(prepared_state, records)), model, records.__getitem__)
    if chunk.stored is not None:  # a build in this process (`CandidateIndex.build`): a chunk a block
        _hand_out(list(records), [(chunk, None)])
    return chunk


def _hand_out(records: list[MatchRecord], pieces: list[Piece]) -> None:
    """A block's key-table rows handed to the caller that asked for them (`build_keys`), and let go."""
    assert build_keys.WANTED is not None
    stored = []
    for chunk, rows in pieces:
        assert chunk.stored is not None
        stored.append((chunk.stored, rows))
        chunk.stored = None
    build_keys.WANTED.take(records, stored)


def prepare_states(
    states: Sequence[tuple[Any, ...]], model: Model, record_at: Callable[[int], Any] | None = None
) -> Chunk:
    """A chunk's preparation from its records' fields (`prepared_state`), column by column: the columns are
    the tuples transposed in C, and each column's work is done once per distinct value (issue 19).
    `record_at(i)`: the i-th record, for the few questions asked of whole records."""
    scorer = Scorer(model)
    n = len(states)
    if record_at is None:
        record_at = _row_at(states)
    raw: dict[str, Sequence[Any]] = (
        dict(zip(PREPARED_FIELDS, zip(*states, strict=True), strict=True))
        if n
        else {f: () for f in PREPARED_FIELDS}
    )
    keys, parts, others, tf_columns, stored = _name_columns(raw, record_at)
    shared = [_coded(raw[f]) for f in SHARED_FIELDS]
    by_fields: dict[tuple[str, ...], Coded] = {(f,): c for f, c in zip(SHARED_FIELDS, shared, strict=True)}

    def fields_coded(names: tuple[str, ...]) -> Coded:
        if names not in by_fields:
            if len(names) > 1 and n:
                by_fields[names] = _combined([fields_coded((f,)) for f in names], [raw[f] for f in names])
            else:
                columns = [raw[f] for f in names]
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
        prepared, pcodes = _coded([comp.prepare(record_at(j), c.field) for j in _firsts(codes)])
        values.append((prepared, pcodes[codes]))
    births, bcodes = fields_coded(("birth_date", "age", "age_as_of", "birth_year_to"))
    ranges = [birth_range(*b) or (MISSING_DAY, MISSING_DAY) for b in births]
    sexes, scodes = by_fields[("sex",)]
    sex_codes = [{"m": 1, "f": 2}.get(sex_key(s) or "", 0) for s in sexes]
    hashes = np.fromiter(map(hash, chain.from_iterable(keys)), dtype=np.int64)
    rows = np.repeat(np.arange(n, dtype=np.uint32), np.fromiter(map(len, keys), dtype=np.int64, count=n))
    order = np.argsort(hashes, kind="stable")
    return Chunk(
        key_hashes=hashes[order],
        key_rows=rows[order],
        service=fields_coded(("service_number",)),
        shared=shared,
        parts=parts,
        other_parsed=others,
        values=values,
        tf_columns=(tf_columns[0], tf_columns[1], tf_columns[2]),
        birth_lo=np.array([b[0] for b in ranges], dtype=np.int32)[bcodes],
        birth_hi=np.array([b[1] for b in ranges], dtype=np.int32)[bcodes],
        sex=np.array(sex_codes, dtype=np.int8)[scodes],
        stored=stored,
    )


def record_batches(
    it: Iterator[MatchRecord], size: int = _BUILD_CHUNK, most: int | None = None
) -> Iterator[list[MatchRecord]]:
    """Lists of `size` records read from `it` (the last one shorter), at most `most` of them."""
    from itertools import islice

    for _ in count() if most is None else range(most):
        if not (batch := list(islice(it, size))):
            return
        yield batch


# A block of records as its preparers prepared it: each one's chunk and the block's rows that chunk holds
# (None: all of them, in order).
Piece = tuple[Chunk, np.ndarray | None]
_NAME_AT = PREPARED_FIELDS.index("name")
_ROUTE_BY = slice(0, 4)  # a name's first four letters: its family name's, as most registries write names


def route(states: Sequence[tuple[Any, ...]], processes: int) -> list[np.ndarray]:
    """Each worker's rows of a block: records routed by the first letters of their name (in C passes).

    A name's words are parsed and keyed through per-word caches (kinlink.names), and a family name is the
    word that repeats least: dealt out in equal chunks, every worker met nearly every family name and
    missed its caches for it once; routed so, one worker does (issue 19). Routing changes only which
    worker prepares a record, never the index (`CandidateIndex._add_chunk` puts the pieces together)."""
    prefixes = map(itemgetter(_ROUTE_BY), map(itemgetter(_NAME_AT), states))
    worker = np.fromiter(map(hash, prefixes), dtype=np.int64, count=len(states)) % processes
    return [np.flatnonzero(worker == p) for p in range(processes)]


_BUILD_MODEL: Model | None = None


class _Row(namedtuple("_Row", PREPARED_FIELDS)):  # type: ignore[misc]
    """A record as a worker receives it: the fields it is prepared from in MatchRecord's order, read as
    MatchRecord's are.

    Records cross to the workers as plain tuples (`prepared_state`): pickled and unpickled in C, where a
    MatchRecord is rebuilt a field at a time in Python (2 µs a record, a million records; issue 19)."""

    __slots__ = ()

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.other_names)


def _row_at(states: Sequence[tuple[Any, ...]]) -> Callable[[int], _Row]:
    # Every record's row made at once, in C (`_make`'s own tuple.__new__): a chunk's comparisons ask for
    # more rows (each distinct value's first) than it holds, and a row made a call cost 1.5 µs (issue 19).
    return list(map(tuple.__new__, repeat(_Row), states)).__getitem__  # type: ignore[arg-type]


def _worker(tasks: Connection, results: Connection) -> None:
    """A build worker: its pieces prepared in turn and sent (`Sender`) as they come. A thread of its own
    receives them meanwhile, so that the parent, sending, never waits on a worker that is itself sending."""
    import queue
    import threading

    assert _BUILD_MODEL is not None
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def receive() -> None:
        while (got := tasks.recv()) is not None:
            inbox.put(got)
        inbox.put(None)

    threading.Thread(target=receive, daemon=True).start()
    sender = Sender()
    while (states := inbox.get()) is not None:
        try:
            results.send(sender.send(prepare_states(states, _BUILD_MODEL)))
        except Exception as e:  # the parent raises it
            results.send(e)
            return


def parallel_chunks(
    records: Iterable[MatchRecord], model: Model, processes: int
) -> Iterator[tuple[list[MatchRecord], list[Piece]]]:
    """Blocks of records with their preparation, in order: each block's records routed to the workers by
    name (`route`), each worker (a process of its own, so that it gets the same names every block)
    preparing and sending (`Sent`) its piece; workers prepare a bounded window ahead.

    The window (not Pool.imap, whose feeder thread would drain a database cursor into memory) keeps at most
    two blocks (a chunk a worker each) in flight, and the cursor is read by this thread only.
    """
    import multiprocessing as mp
    from collections import deque

    global _BUILD_MODEL
    _BUILD_MODEL = model  # inherited by the forked workers (a model's compiled tests do not pickle)
    load_dictionaries()  # as the model: loaded once here, shared by the workers, not loaded in each
    # The first block an eighth of the others: the workers start on it while this process reads the next,
    # not after reading a whole block (a block's records are read in this process only). Blocks change
    # nothing in the index (`CandidateIndex._add_chunk`).
    read = iter(records)
    batches = chain(
        record_batches(read, _BUILD_CHUNK // 8 * processes, 1), record_batches(read, _BUILD_CHUNK * processes)
    )
    context = mp.get_context("fork")
    # A process and a pipe each way a worker (not a pool: its tasks could go to any worker, and its threads'
    # memory arenas kept what they freed).
    workers = []
    for _ in range(processes):
        task_out, task_in = context.Pipe(duplex=False)
        result_out, result_in = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(task_out, result_in), daemon=True)
        process.start()
        workers.append((process, task_in, result_out))
    told = ended = False  # each worker told there are no more blocks; every piece received
    try:
        window: deque[tuple[list[MatchRecord], list[tuple[Any, np.ndarray]]]] = deque()

        def submit() -> None:
            nonlocal told
            batch = None if told else next(batches, None)
            if batch:
                states = list(map(prepared_state, batch))
                pending = []
                for (_p, task_in, result_out), rows in zip(workers, route(states, processes), strict=True):
                    if len(rows):
                        task_in.send([states[i] for i in rows.tolist()])
                        pending.append((result_out, rows))
                window.append((batch, pending))
            elif not told:
                # Told now, a worker returns once it has sent its last piece: its exit (its memory handed
                # back) overlaps this process's assembly of the last block, not waited for after it.
                for _p, task_in, _out in workers:
                    task_in.send(None)
                told = True

        for _ in range(2):
            submit()
        while window:
            batch, pending = window.popleft()
            pieces: list[Piece] = []
            for result_out, rows in pending:
                got = result_out.recv()
                if isinstance(got, BaseException):
                    raise got
                pieces.append((got, rows))
            submit()
            if build_keys.WANTED is not None:
                _hand_out(batch, pieces)
            yield batch, pieces
        ended = True
    finally:
        for process, _in, _out in workers:
            if not ended:  # a worker failed, or the caller stopped reading: it may be blocked sending
                process.terminate()
        for process, task_in, result_out in workers:
            process.join()
            task_in.close()
            result_out.close()
        _BUILD_MODEL = None
