"""Python's cyclic garbage collector held off while a file is imported (issue 19).

An import allocates millions of small objects, nearly none of them in cycles, and fills the name caches
(kinlink.names) as it goes: their growth sets off full collections, each walking every cached object again.
At 100,000 rows that was 19 full collections that freed 595 objects, a fifth of the import's CPU time.
Reference counting still frees everything else at once; the collector runs again when the last import
running in the process ends.
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
_was_enabled = False

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_held() -> Iterator[None]:
    """No cyclic collection inside (nested and concurrent uses count; the first one's state comes back)."""
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()


def holding_collector(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` run with the collector held (`collector_held`)."""

    @functools.wraps(fn)
    def held(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_held():
            return fn(*args, **kwargs)

    return held
