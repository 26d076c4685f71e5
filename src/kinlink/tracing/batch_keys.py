"""Keys written for the records that have none (`kinlink match` after a bulk load), so that continuous
matching and staff searches find them.

A first keying of a registry writes a dozen keys a record. It was a transaction per 500 records, each
record read again, its names parsed in this process alone and its keys inserted through the ORM: 1,216 s
for a million records on SQLite (issue 19), 25.6 CPU-s at 100,000, of which the ORM's insert was over a
third and the parsing a quarter. Now the keys are derived in forked workers, each reading its records on
a connection of its own, a few blocks ahead of this process, which writes each block's rows with the
driver's executemany (SQLite) or COPY (PostgreSQL) in a transaction of its own: the same rows in the same
order, as `index_keys` writes them.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kinlink.store import bulk
from kinlink.store.db import unit_of_work
from kinlink.store.match_keys import analyze_keys, key_columns, missing_keys, write_key_columns
from kinlink.store.match_records import person_records
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
) -> None:
    """Keys written for these records (default: every record that has none), so that continuous matching
    finds them afterwards; a transaction per chunk, or one for them all where they are at least as many
    as the records keyed before (`_load_keys`). Then the key table is analysed if it grew enough
    (`known`: how many records were keyed before; counted when not given).

    processes > 1: the keys derived in that many forked workers (a record's keys are the same wherever
    they are derived)."""
    with unit_of_work(engine) as session:
        if ids is None:
            ids = missing_keys(session)
        if known is None:
            known = max(0, (session.scalar(select(func.count(Person.id))) or 0) - len(ids))
    blocks = [sorted(set(ids[i : i + chunk])) for i in range(0, len(ids), chunk)]
    derived = zip(blocks, _derived(engine, blocks, processes), strict=True)
    if blocks and len(ids) >= known and _index_may_go(engine):
        _load_keys(engine, derived)
    else:
        for block, columns in derived:
            with unit_of_work(engine) as session, bulk.page_cache(session.connection(), KEYS_CACHE_KIB):
                _write_unkeyed(session, block, columns)
    analyze_keys(engine, len(ids), known)


def _index_may_go(engine: Engine) -> bool:
    """Whether a first keying's transaction may drop the lookup index (`bulk.DeferredIndexes`' rule): on
    PostgreSQL only from an empty key table (elsewhere a transaction per block, as without the index's
    drop there would be no gain from holding one transaction)."""
    if engine.dialect.name != "postgresql":
        return True
    with unit_of_work(engine) as session:
        return session.scalar(select(MatchKey.id).limit(1)) is None


def _load_keys(engine: Engine, derived: Iterator[tuple[list[int], tuple[list[int], list[str]]]]) -> None:
    """A first keying (at least as many records to key as were keyed): one transaction, the key table's
    lookup index dropped once the keys written outnumber those it held and built again before the commit
    (`bulk.DeferredIndexes`, as a first import loads its tables). Inserting each key into that index at a
    random place was three quarters of SQLite's work (100,000 records, 1.25 M keys: 9.6 CPU-s with it,
    2.9 with the index built afterwards). SQLite's readers go on reading the snapshot before (in which
    these records have no keys); on PostgreSQL the index is dropped only from a key table that held no
    rows, whose readers then wait for the commit, as for a first import."""
    with unit_of_work(engine) as session, bulk.page_cache(session.connection(), KEYS_CACHE_KIB):
        deferred = bulk.DeferredIndexes(session.connection(), [MatchKey.__tablename__])
        for block, columns in derived:
            deferred.wrote(len(columns[0]))
            _write_unkeyed(session, block, columns)
        deferred.restore()


def _write_unkeyed(session: Session, block: list[int], columns: tuple[list[int], list[str]]) -> None:
    """A block's derived keys, for those of its records that still have none when they are written. A
    worker read the records a few blocks earlier, on its own connection: a record edited or imported again
    meanwhile was keyed by that change, from what it wrote, and keeps those keys rather than this older
    reading's (the records' keys are only ever missing or their own)."""
    lo, hi = block[0], block[-1]  # a block's ids are sorted
    keyed = set(
        session.scalars(
            select(MatchKey.entity_id)
            .where(MatchKey.entity == "p", MatchKey.entity_id.between(lo, hi))
            .distinct()
        )
    )
    if keyed:
        block = [i for i in block if i not in keyed]
        owners, keys = columns
        kept = [j for j, owner in enumerate(owners) if owner not in keyed]
        columns = ([owners[j] for j in kept], [keys[j] for j in kept])
    write_key_columns(session, "p", block, columns, in_bulk=True)


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
