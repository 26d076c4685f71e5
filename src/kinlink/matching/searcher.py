"""Many searches of one index in forked worker processes, which share the built index copy-on-write."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.pool import Pool
from typing import Any

from kinlink.matching.index import CandidateIndex, Hit, gc_paused
from kinlink.matching.record import MatchRecord
from kinlink.matching.score_values import Scored
from kinlink.names import load_dictionaries


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
            load_dictionaries()  # once here, shared by the workers, not loaded again in each
            gc.freeze()  # as the gc docs advise before a fork: workers' collections leave shared pages be
            self._pool = _Pool(self.processes, context=mp.get_context("fork"))
        return self

    def __exit__(self, *exc: object) -> None:
        global _WORKER_INDEX
        if self._pool is not None:
            if exc[0] is None:
                self._pool.close()
            else:  # e.g. a caller that stopped reading `stream`: the searches left are not wanted
                self._pool.terminate()
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
        return [hits for part in self._parts(task) for hits in part]

    def _received(self, part: list[list[tuple[int, Scored]]]) -> list[list[Hit]]:
        # Each hit's record read here from the index the worker shares (the same record it would have
        # sent): a record pickled in the worker and unpickled here cost more than reading it (issue 19).
        record = self.index.record
        return [[Hit(row, record(row), scored) for row, scored in hits] for hits in part]

    def stream(
        self, queries: Sequence[MatchRecord], limit: int, shortlist: int = 30, min_probability: float = 0.0
    ) -> Iterator[list[list[Hit]]]:
        """`search` of many queries, each part of their hits (in order) as soon as it is found: the workers
        search on while the caller reads, with no wait for the slowest worker but at the very end."""
        return self._parts(("q", list(queries), limit, shortlist, min_probability))

    def _parts(self, task: _Task) -> Iterator[list[list[Hit]]]:
        """The task's hits, a part at a time in order, from the workers (searching on meanwhile), or here
        when there are no workers or too few items to be worth sending."""
        if self._pool is None or len(task[1]) < 100:
            yield _search_task(task, self.index)
            return
        parts = self._pool.imap(_sent_task, _tasks(task, self.processes))
        while True:
            # The hits come back unpickled by the pool's result thread: hundreds of thousands of new objects
            # in no reference cycles, over which the cyclic collector ran again and again, half the parent's
            # time (its index frozen out of reach, as in the workers; issue 19). Paused while they arrive
            # and while the caller reads them: resumed only when the caller asks for the next part, by when
            # it has mostly let go of them. Resumed after reading a part, the collector went over all of
            # its objects at once, a twelfth of the parent's CPU (issue 19). It runs between parts, so
            # what the caller leaves in cycles meanwhile is collected part by part.
            with gc_paused():
                part = next(parts, None)
                if part is None:
                    return
                yield self._received(part)


class _Pool(Pool):
    """A pool whose worker handler thread wakes when a worker exits or the pool changes (closed, its
    last task done), not whenever a result is waiting: `Pool` also waits on its result queue's pipe,
    which stays readable until the result thread has read a whole part (hundreds of hits, milliseconds),
    and meanwhile the handler woke, checked the workers and waited again without end. In a batch that
    spinning thread was a fifth of the parent's CPU, and took the GIL from the thread unpickling the
    hits (issue 19). Workers here end only with the pool (no maxtasksperchild), and their own exits are
    still waited on; `ThreadPool` waits on the same single pipe."""

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


def _tasks(task: _Task, processes: int) -> Iterator[_Task]:
    """The task in parts, smaller as fewer items are left (guided scheduling): the workers, taking the next
    part as they finish one, then end together, no worker idle while another searches a large last part."""
    kind, items, limit, shortlist, floor = task
    at, n = 0, len(items)
    while at < n:
        size = min(_MAX_TASK, max(_MIN_TASK, -(-(n - at) // (4 * processes))))
        yield (kind, items[at : at + size], limit, shortlist, floor)
        at += size


_MIN_TASK, _MAX_TASK = 25, 500  # queries a task: few enough to end together, enough to pay the hop


def search_many(
    index: CandidateIndex,
    queries: Sequence[MatchRecord],
    limit: int = 10,
    shortlist: int = 30,
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[Hit]]:
    """Results for each query, in order. With processes > 1 the index is shared by fork (COW)."""
    with Searcher(index, processes) as searcher:
        for part in searcher.stream(queries, limit, shortlist):
            yield from part
            if progress:
                progress(len(part))


_Task = tuple[str, list[Any], int, int, float]  # "q" (queries) or "r" (rows), items, limit, shortlist, floor
_WORKER_INDEX: CandidateIndex | None = None


def _sent_task(task: _Task) -> list[list[tuple[int, Scored]]]:
    """A worker's task, each hit sent back as its row and score (`Searcher._received`): no record read
    here only to be pickled."""
    assert _WORKER_INDEX is not None
    return _searched(task, _WORKER_INDEX.found, _WORKER_INDEX, worker=True)


def _search_task(task: _Task, index: CandidateIndex | None = None) -> list[list[Hit]]:
    idx = index or _WORKER_INDEX
    assert idx is not None
    return _searched(task, idx.search, idx, worker=index is None)


def _searched(task: _Task, search: Callable[..., list[Any]], idx: CandidateIndex, worker: bool) -> list[Any]:
    kind, items, limit, shortlist, floor = task
    # Searching allocates and drops millions of small objects, none in reference cycles: the cyclic
    # collector, run every few hundred allocations, cost a quarter of the time and freed nothing. Paused
    # for one task (a bounded number of queries; a later collection takes any cycle left).
    with gc_paused():
        if kind == "r":
            found = [search(idx.record(row), limit, shortlist, floor) for row in items]
        else:
            found = [search(q, limit, shortlist, floor) for q in items]
        if worker:
            # In a worker: what the task left behind (the name caches and the scorer's memos, which
            # grow to millions of long-lived objects, and the hits, freed once sent) moved out of the
            # collector's reach as the index was before the fork. Left in, each task's were traversed
            # by the collections that followed it (in the pickling of its hits, reading the next task)
            # and again by every full collection: a fifth of the workers' time (issue 19). The worker
            # ends with the Searcher, so a cycle left among them lives no longer than that.
            gc.freeze()
    return found
