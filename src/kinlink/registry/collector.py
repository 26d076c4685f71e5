"""Python's full cyclic collections held off while a file is imported (issue 19).

An import allocates millions of small objects, nearly none of them in cycles, and fills the name caches
(kinlink.names) as it goes: their growth sets off full collections, each walking every cached object again.
At 100,000 rows that was 19 full collections that freed 595 objects, a fifth of the import's CPU time.

Only the full (oldest-generation) collections are held off, by raising their threshold; the collector
itself stays on. The collector's state is the process's, shared by every thread: a server importing a file
in one thread answers requests in others, and turning the collector off (as this did before) left their
cyclic garbage uncollected for as long as the import ran. With this, the young generations are still
collected every few thousand allocations (where a request's short-lived cycles die), in every thread; only
what survived into the oldest generation waits. `gc.freeze()` was not taken here: it does not stop the
growing caches from setting off full collections (only what exists when it is called is moved out of reach),
and what it freezes, other threads' garbage too, is never collected until unfrozen (a server worker freezes
after each full collection and sweeps hourly for that reason: kinlink.server.worker_gc). The thresholds the
first import found come back when the last import running in the process ends.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

_lock = threading.Lock()
_running = 0
_thresholds: tuple[int, ...] = ()
# Young collections between full ones while held: about 100 billion allocations, never in an import.
_HELD_FULL = 1_000_000
# Allocations between young collections while held, at least (700 by default, 2,000 in a server): an
# import's chunk of rows (2,000 records, their names and events) lives through several young collections
# at 700 and is walked each time. Measured at 100,000 rows: 2,343 young collections, 0.8 CPU-s, at 700;
# 359, 0.5 CPU-s, at 10,000. At 50,000 the chunks' short-lived objects are mostly freed before a young
# collection comes: 3 young and 1 middle collection instead of 56 and 6, 0.20 -> 0.04 CPU-s (a first import
# of 100,000 rows on SQLite, counted with gc.callbacks). Other threads' young cycles are still collected, a
# little later.
_YOUNG = 50_000

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_held() -> Iterator[None]:
    """No full cyclic collection inside (nested and concurrent uses count; the first one's thresholds come
    back when the last one ends)."""
    global _running, _thresholds
    with _lock:
        if _running == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(max(_thresholds[0], _YOUNG), _thresholds[1], _HELD_FULL)
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_thresholds)


def holding_collector(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` run with full collections held off (`collector_held`)."""

    @functools.wraps(fn)
    def held(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_held():
            return fn(*args, **kwargs)

    return held
