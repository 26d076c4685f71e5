"""Keys written for the records that have none (`kinlink match` after a bulk load), so that continuous
matching and staff searches find them.

A first keying of a registry writes a dozen keys a record. It was a transaction per 500 records, each
record read again, its names parsed in this process alone and its keys inserted through the ORM: 1,216 s
for a million records on SQLite (issue 19), 25.6 CPU-s at 100,000, of which the ORM's insert was over a
third and the parsing a quarter. Now the keys are derived in forked workers, each reading its records on
a connection of its own, a few blocks ahead of this process, which writes each block's rows with the
driver's executemany (SQLite) or COPY (PostgreSQL) in a transaction of its own: the same rows in the same
order, as `index_keys` writes them. A first keying after `kinlink match`'s index build takes the rows the
build handed out (`HandedKeys`) instead of reading and parsing every name again, and writes them without
the lookup index, built once at the end (`_without_lookup`).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice, pairwise
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, DropIndex

from kinlink.matching import build_keys, index_build
from kinlink.matching.record import MatchRecord
from kinlink.store import bulk
from kinlink.store.db import unit_of_work
from kinlink.store.match_keys import (
    KEY_WIDTH,
    TF_PREFIX,
    analyze_keys,
    key_columns,
    missing_keys,
    write_key_columns,
)
from kinlink.store.match_records import person_records, reader
from kinlink.store.models import Person
from kinlink.store.tracing_models import MatchKey

# Records a transaction: as `rebuild_keys`. About 60,000 keys, a fraction of a second of SQLite's write
# lock on a quiet machine; a commit per 500 records cost a tenth of the writing.
KEYS_CHUNK = 5000
# SQLite's page cache while a block's keys are written (`bulk.page_cache`): each key goes into the lookup
# index (key, entity, entity_id) at a random place, whose pages the default 2 MiB cache read again and
# again once the table outgrew it.
KEYS_CACHE_KIB = 64 * 1024

_WORKER_ENGINE: Engine | None = None  # the engine the forked workers read from (their own connections)


def key_records(
    engine: Engine,
    ids: Sequence[int] | None = None,
    chunk: int = KEYS_CHUNK,
    known: int | None = None,
    processes: int = 1,
    handed: HandedKeys | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Keys written for these records (default: every record that has none), so that continuous matching
    finds them afterwards; a transaction per block of `chunk` records. Then the key table is analysed if it
    grew enough (`known`: how many records were keyed before; counted when not given).

    handed: the records' rows as an index build handed them out (`HandedKeys`); those it lacks are derived
    here. processes > 1: otherwise the keys derived in that many forked workers (a record's keys are the
    same wherever they are derived). progress(done, total) after each block's commit.

    A first keying (at least as many records to key as were keyed) goes without the key table's lookup
    index, which is built once at the end (`_without_lookup`)."""
    with unit_of_work(engine) as session:
        if ids is None:
            ids = missing_keys(session)
        if known is None:
            known = max(0, (session.scalar(select(func.count(Person.id))) or 0) - len(ids))
    blocks = [sorted(set(ids[i : i + chunk])) for i in range(0, len(ids), chunk)]
    if handed is not None:
        # Blocks that ascend ask for each handed row once: let go once written.
        handed.consume = all(a[-1] < b[0] for a, b in pairwise(blocks))
        derived: Iterator[tuple[list[int], list[str]]] = (handed.columns(engine, block) for block in blocks)
    else:
        derived = _derived(engine, blocks, processes)
    with _without_lookup(engine, bool(blocks) and len(ids) >= known):
        done = 0
        for block, columns in zip(blocks, derived, strict=True):
            with unit_of_work(engine) as session, bulk.page_cache(session.connection(), KEYS_CACHE_KIB):
                _write_unkeyed(session, block, columns)
            done += len(block)
            if progress:
                progress(done, len(ids))
    analyze_keys(engine, len(ids), known)


_LOOKUP = next(i for i in MatchKey.__table__.indexes if i.name == "ix_match_keys_lookup")


@contextmanager
def _without_lookup(engine: Engine, first: bool) -> Iterator[None]:
    """A first keying's blocks written without the key table's lookup index (key, entity, entity_id), which
    is then built once, sorting its entries (`bulk.DeferredIndexes`' reason: inserting each key at a random
    place in it was three quarters of SQLite's work, issue 19). Dropped and built each in a transaction of
    its own, so that the blocks commit one by one and other writers go on between them (one transaction
    held SQLite's write lock for the whole keying, a minute at a million records); meanwhile a lookup by key
    reads the whole table. A keying that fails builds it all the same; one killed leaves it dropped, and
    the next (`kinlink match` keys the records still without keys) builds it, whether or not it is a first
    keying itself."""
    with unit_of_work(engine) as session:
        gone = _lookup_gone(session)
        if first and not gone:
            session.execute(DropIndex(_LOOKUP))
            gone = True
    try:
        yield
    finally:
        if gone:
            with unit_of_work(engine) as session, bulk.page_cache(session.connection(), KEYS_CACHE_KIB):
                # Looked for again on this connection first: SQLite checks a CREATE INDEX's name against the
                # schema the connection last read, which may predate the drop made on another one (a false
                # "already exists": 1 first keying in 50 beside the index build, under load); reading the
                # index list reads the schema anew.
                if _lookup_gone(session):
                    session.execute(CreateIndex(_LOOKUP))


def _lookup_gone(session: Session) -> bool:
    return _LOOKUP.name not in {i["name"] for i in inspect(session.connection()).get_indexes("match_keys")}


def _write_unkeyed(session: Session, block: list[int], columns: tuple[list[int], list[str]]) -> None:
    """A block's derived keys, for those of its records that still have none when they are written. A
    worker read the records a few blocks earlier, on its own connection: a record edited or imported again
    meanwhile was keyed by that change, from what it wrote, and keeps those keys rather than this older
    reading's (the records' keys are only ever missing or their own). A record erased meanwhile gets none:
    an erased record leaves nothing derived from its names behind (a first keying's rows were read by the
    index build, minutes before)."""
    lo, hi = block[0], block[-1]  # a block's ids are sorted
    conn = reader(session)  # plain reads: the ORM's rows of a block's 5,000 ids cost more than the reads
    keyed = set(
        conn.scalars(
            select(MatchKey.entity_id)
            .where(MatchKey.entity == "p", MatchKey.entity_id.between(lo, hi))
            .distinct()
        )
    )
    there = conn.scalars(select(Person.id).where(Person.id.between(lo, hi))).all()
    if len(there) < len(block):
        keyed |= set(block).difference(there)
    if keyed:
        block = [i for i in block if i not in keyed]
        owners, keys = columns
        kept = [j for j, owner in enumerate(owners) if owner not in keyed]
        columns = ([owners[j] for j in kept], [keys[j] for j in kept])
    write_key_columns(session, "p", block, columns, in_bulk=True)


def first_pending(session: Session) -> bool:
    """No record has keys yet, or a first keying was cut short (its lookup index still dropped)."""
    first = session.scalar(select(MatchKey.id).where(MatchKey.entity == "p").limit(1)) is None
    return first or _lookup_gone(session)


class BuildKeying:
    """The keying that follows `match_all`'s index build: a first keying's blocks written while the build
    goes on, from the rows it hands out; any other keying after it, as before.

    A first keying's writes (12 M rows at a million records, SQLite's B-tree inserts in one thread) ran
    after the build, whose workers had kept both cores busy, with the second core idle (issue 19). Now a
    thread of this process writes each block once the build has handed its records out (`HandedKeys`
    waits for them), while the workers prepare the next: the same rows in the same order, the same blocks
    and transactions as `key_records` writes after the build. Which records to key is read before the
    build, in a transaction of its own (the build's would hold PostgreSQL's lock on the key table against
    the lookup index's drop). The thread starts with the first block handed out: after the build has
    forked its workers, which then inherit no thread."""

    def __init__(self, engine: Engine, chunk: int = KEYS_CHUNK) -> None:
        self._engine, self._chunk = engine, chunk
        self._missing: list[int] | None = None  # a first keying's records, read before the build
        self._known = 0
        with unit_of_work(engine) as session:
            if first_pending(session):
                self._missing = missing_keys(session)
                total = session.scalar(select(func.count(Person.id))) or 0
                self._known = max(0, total - len(self._missing))
        self._handed = HandedKeys()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def beside(self) -> bool:
        """A first keying, written beside the build."""
        return self._missing is not None

    @contextmanager
    def build(self) -> Iterator[None]:
        """An index build within hands its rows to the keying, which writes them meanwhile. A build that
        fails stops the keying (its lookup index built, the records keyed so far kept) and is raised."""
        if not self._missing:  # (none to key: a keying cut short only has its lookup index to build)
            yield
            return
        handed = self._handed
        wanted = handed.wanted()

        def take(records: list[MatchRecord], pieces: list[tuple[index_build.Stored, Any]]) -> None:
            handed.take(records, pieces)
            if self._thread is None:
                self._thread = threading.Thread(target=self._write, name="kinlink-keying", daemon=True)
                self._thread.start()

        try:
            with build_keys.handing_keys(build_keys.KeysWanted(wanted.tf_prefixes, wanted.width, take)):
                yield
        except BaseException:
            handed.close(failed=True)
            self._join()
            raise
        handed.close()

    def _write(self) -> None:
        try:
            assert self._missing is not None
            key_records(self._engine, self._missing, self._chunk, known=self._known, handed=self._handed)
        except BaseException as e:  # raised in the caller's thread (`finish`)
            self._error = e

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def finish(self, missing: list[int], total: int, processes: int) -> None:
        """The keying done: a first keying's thread waited for (or, if the build handed nothing out, its
        blocks written now); otherwise these records (found after the build) keyed, in workers."""
        if self._missing is None:
            key_records(self._engine, missing, known=total - len(missing), processes=processes)
            return
        if self._thread is None:
            self._write()
        self._join()
        if self._error is not None:
            raise self._error


class HandedKeys:
    """The records' key-table rows as an index build hands them out (`build_keys.handing_keys`), kept
    until they are written: the build has parsed every name and derived every key already, and reading and
    parsing them again was half a first keying's CPU (issue 19). Each block comes with its pieces' distinct
    key strings (a family name's keys are many records') and each row as its number among them.

    Thread-safe: a keying may write each block while the build goes on (`BuildKeying`); `columns` waits
    until the build has handed out the records it asks for, and a block's rows, once written, are let go
    (`consume`)."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._parts: deque[_Part] = deque()  # the blocks handed out, in the build's order
        self._last: int | None = None  # the highest id handed out so far
        self._ordered = True  # each block's ids ascending and above the last's (a build reads in id order)
        self._closed = False  # the build is over: nothing more comes
        self._failed = False  # ... and it failed
        # Set by a keying whose blocks ascend: a block's rows are asked for once, then let go.
        self.consume = False
        self.records_handed = 0  # the records whose rows came from the build (not derived here)
        self.records_derived = 0  # those derived from the database instead

    def wanted(self) -> build_keys.KeysWanted:
        """What to ask of a build (`build_keys.handing_keys`) for this."""
        fam, giv, pat = TF_PREFIX["family"], TF_PREFIX["given"], TF_PREFIX["patronymic"]
        return build_keys.KeysWanted((fam, giv, pat), KEY_WIDTH, self.take)

    def take(self, records: list[MatchRecord], pieces: list[tuple[index_build.Stored, Any]]) -> None:
        """A block of records (in the build's order) and its pieces' rows (`index_build.Stored`)."""
        keys: list[str] = []
        at, counts, codes = [], [], []
        for (distinct, piece_codes, piece_counts), rows in pieces:
            # Not looked up (hashed) here: this process assembles the index meanwhile, the build's
            # serial part; a key repeated between pieces is kept once each.
            codes.append(piece_codes.astype(np.int64) + len(keys))
            keys.extend(distinct)
            at.append(np.arange(len(records)) if rows is None else rows)
            counts.append(piece_counts)
        # The pieces' records back in the block's order, each with its run of rows.
        order = np.argsort(np.concatenate(at), kind="stable")
        count = np.concatenate(counts)
        runs = np.maximum(count, 0)
        starts = _starts(runs)[order]
        runs = runs[order]
        ids = np.fromiter((r.id for r in records), dtype=np.int64, count=len(records))  # type: ignore[misc]
        part = _Part(ids, count[order], np.concatenate(codes)[_gather(starts, runs)], keys)
        with self._ready:
            if len(ids):
                ascending = len(ids) < 2 or bool((ids[1:] > ids[:-1]).all())
                if not ascending or (self._last is not None and ids[0] <= self._last):
                    self._ordered = False
                self._last = int(ids.max()) if self._last is None else max(self._last, int(ids.max()))
            self._parts.append(part)
            self._ready.notify_all()

    def close(self, failed: bool = False) -> None:
        """The build is over (failed: it stopped short): a keying waiting for rows waits no more."""
        with self._ready:
            self._closed, self._failed = True, failed
            self._ready.notify_all()

    def _parts_for(self, lo: int, hi: int) -> list[_Part]:
        """The blocks holding ids from lo to hi, once the build has handed them out (or is over)."""
        with self._ready:
            self._ready.wait_for(
                lambda: self._closed or (self._ordered and self._last is not None and self._last >= hi)
            )
            if self._failed:
                raise BuildStopped("the index build stopped before handing out these records' keys")
            if not self._ordered and len(self._parts) > 1:  # read out of id order: merged and sorted once
                self._parts = deque([_merged(list(self._parts))])
                self._ordered = True
            parts = [p for p in self._parts if len(p.ids) and p.ids[0] <= hi and p.ids[-1] >= lo]
            while self.consume and self._parts and _below(self._parts[0], hi):
                self._parts.popleft()  # wanted by no later block: theirs are above hi
            return parts

    def columns(self, engine: Engine, block: list[int]) -> tuple[list[int], list[str]]:
        """A block's rows (`key_columns`), records in id order: those handed out, and those of the records
        the build did not hand out (several names or none, or not read by it) derived from the database."""
        wanted = np.asarray(block, dtype=np.int64)
        have = np.zeros(len(wanted), dtype=bool)
        owners: list[int] = []
        keys: list[str] = []
        for part in self._parts_for(block[0], block[-1]) if block else ():
            # The parts ascend and do not overlap: their rows one after the other are in id order.
            at = np.minimum(np.searchsorted(part.ids, wanted), len(part.ids) - 1)
            hit = (part.ids[at] == wanted) & (part.counts[at] >= 0)
            at = at[hit]
            runs = part.counts[at].astype(np.int64)
            keys.extend(map(part.keys.__getitem__, part.codes[_gather(part.starts[at], runs)].tolist()))
            owners.extend(np.repeat(wanted[hit], runs).tolist())
            have |= hit
        self.records_handed += int(have.sum())
        if have.all():
            return owners, keys
        self.records_derived += int((~have).sum())
        with Session(engine) as session:
            more_owners, more_keys = key_columns(person_records(session, wanted[~have].tolist()))
        # Each in id order: merged so, a record's rows together and in their order.
        place = range(len(owners) + len(more_owners))
        rows = sorted(zip(owners + more_owners, place, keys + more_keys, strict=True))
        return [o for o, _i, _k in rows], [k for _o, _i, k in rows]


def _below(part: _Part, hi: int) -> bool:
    return not len(part.ids) or part.ids[-1] <= hi


class BuildStopped(Exception):
    """The index build whose rows a keying writes failed or was stopped before handing them all out."""


class _Part:
    """A block's handed-out rows: its records' ids, each one's number of rows (-1: not handed out), the
    rows' keys as numbers among `keys`, records one after the other; where each record's rows start."""

    __slots__ = ("codes", "counts", "ids", "keys", "starts")

    def __init__(self, ids: np.ndarray, counts: np.ndarray, codes: np.ndarray, keys: list[str]) -> None:
        self.ids, self.counts, self.codes, self.keys = ids, counts, codes, keys
        self.starts = _starts(np.maximum(counts, 0).astype(np.int64))


def _merged(parts: list[_Part]) -> _Part:
    """Blocks handed out of id order as one, sorted by id (a record's rows kept in their order)."""
    keys: list[str] = []
    codes = []
    for p in parts:
        codes.append(p.codes + len(keys))
        keys.extend(p.keys)
    ids = np.concatenate([p.ids for p in parts])
    counts = np.concatenate([p.counts for p in parts])
    code = np.concatenate(codes)
    runs = np.maximum(counts, 0).astype(np.int64)
    order = np.argsort(ids, kind="stable")
    code = code[_gather(_starts(runs)[order], runs[order])]
    return _Part(ids[order], counts[order], code, keys)


def _starts(runs: np.ndarray) -> np.ndarray:
    """Where each run of rows starts, runs laid end to end."""
    return np.concatenate(([0], np.cumsum(runs)[:-1])).astype(np.int64)


def _gather(starts: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """The positions of these runs of rows (each from its start), one run after the other."""
    return np.repeat(starts - _starts(runs), runs) + np.arange(int(runs.sum()), dtype=np.int64)


def _derived(
    engine: Engine, blocks: list[list[int]], processes: int
) -> Iterator[tuple[list[int], list[str]]]:
    """Each block's key rows (`key_columns`), in order."""
    if processes < 2 or len(blocks) < 2 or not hasattr(os, "fork"):
        for block in blocks:
            with Session(engine) as session:
                yield key_columns(person_records(session, block))
        return
    import multiprocessing as mp

    global _WORKER_ENGINE
    _WORKER_ENGINE = engine
    pool = mp.get_context("fork").Pool(min(processes, len(blocks)), initializer=_forget_connections)
    try:
        # A bounded window of blocks in flight, in order (not imap, which would derive every block ahead
        # of a slower writer and hold all their keys: a gigabyte at a million records).
        window: deque[Any] = deque()
        todo = iter(blocks)
        for block in islice(todo, 2 * processes):
            window.append(pool.apply_async(_derive_block, (block,)))
        while window:
            got = window.popleft().get()
            for block in islice(todo, 1):
                window.append(pool.apply_async(_derive_block, (block,)))
            yield got
        pool.close()
    finally:
        pool.terminate()
        pool.join()
        _WORKER_ENGINE = None


def _forget_connections() -> None:
    # The parent's pooled connections are the parent's: a forked worker opens its own (SQLAlchemy's
    # advice for engines across fork), and leaves the inherited ones unclosed for the parent.
    assert _WORKER_ENGINE is not None
    _WORKER_ENGINE.dispose(close=False)


def _derive_block(ids: list[int]) -> tuple[list[int], list[str]]:
    assert _WORKER_ENGINE is not None
    with Session(_WORKER_ENGINE) as session:
        return key_columns(person_records(session, ids))
