"""A server worker's cyclic garbage collector: thresholds, freezing what survives, and an opt-in log.

A worker's caches (prepared records, parsed names, name comparisons, the morphology's tags) grow to hundreds
of thousands of long-lived tracked objects. A full (generation 2) collection traverses every tracked object
not frozen, so at a million records one stopped a worker's event loop, and every request queued on it, for
~450 ms, ~35 s into the worker's life and again as the caches grew (docs/web-cpu.md). Here each full
collection's survivors are frozen (`gc.freeze`) as it ends: they were all reachable, and the next full
collection walks only what has been kept since. With the last threshold low, full collections then come
every few seconds and each walks a few seconds' growth (at 1M, 10-30 ms of CPU against ~450).

What a freeze can keep that it should not: an object in a reference cycle, alive at the freeze, that dies
later (frozen objects freed by reference counting are freed as usual). A finished request's objects are no
cycle (a route's role check leaves the request's state once made), but a family page being rendered is
(Jinja's macros and their context), and a freeze in the middle of one keeps that request's objects: at 1M,
9-20 requests' worth in 90 s a worker. To bound that, once every `SWEEP_SECONDS` a full collection first
unfreezes everything and so walks it all, and frees what was kept.
"""

from __future__ import annotations

import gc
import json
import os
import time
from typing import Any, TextIO

# The youngest objects are collected every 2,000 allocations (700 by default), the middle generation every
# tenth time. A full collection needs ten middle ones: with the survivors frozen after each, it walks only
# the few seconds' growth since the last; the higher default (100) let a worker's caches pile up to ~450 ms
# of traversal before the first.
GC_THRESHOLDS = (2000, 10, 2)
# How often, at most, a full collection walks the frozen objects too (see above): what freezes keep costs an
# hour's memory at most, for a stall of one ordinary unfrozen collection an hour (~0.5-0.75 s of CPU at 1M),
# and the next full collection waits for a quarter as many objects again (CPython's rule), ~60 ms of CPU.
SWEEP_SECONDS = 3600.0
# Set to a file's path, a worker appends a line of JSON for each full collection (when, how long, how many
# freed, its resident memory; at its start and after a sweep also how many objects are frozen): no personal
# data. Off unless set (the web bench sets it to report the collections in its measured windows).
LOG_ENV = "KINLINK_GC_LOG"


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):  # not on Linux
        return 0


class FreezeAfterFull:
    """A `gc.callbacks` hook: at the end of each full collection, freeze what survived; once every
    `sweep_seconds`, unfreeze at the start of one so that it walks everything.

    CPython calls it at every collection, young ones too: ~20 a second a worker under the web bench's
    heaviest load, ~1.5 µs each to return, a few thousandths of a per cent of a core (docs/web-cpu.md)."""

    def __init__(self, sweep_seconds: float = SWEEP_SECONDS, log: TextIO | None = None) -> None:
        self.sweep_seconds = sweep_seconds
        self.next_sweep = time.monotonic() + sweep_seconds
        self.log = log
        self.sweeping = False
        self.started = (0.0, 0.0, 0.0)  # wall clock, perf counter, this thread's CPU time

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self.started = (time.time(), time.perf_counter(), time.thread_time())
            if time.monotonic() >= self.next_sweep:
                gc.unfreeze()
                self.sweeping = True
                self.next_sweep = time.monotonic() + self.sweep_seconds
            return
        gc.freeze()
        if self.log is not None:
            line = {
                "pid": os.getpid(),
                "t": round(self.started[0], 4),
                "ms": round(1000 * (time.perf_counter() - self.started[1]), 2),
                # Its CPU time: on a busy machine the wall time is also the other processes' share.
                "cpu_ms": round(1000 * (time.thread_time() - self.started[2]), 2),
                "collected": info["collected"],
                "uncollectable": info["uncollectable"],
                "sweep": self.sweeping,
                "rss_kb": _rss_kb(),
            }
            # Counting the frozen walks them all (`gc.get_freeze_count` follows the list: ~1M objects at 1M,
            # ~15-45 ms of CPU), more than an ordinary collection's own work: done only after a sweep, which
            # has just walked them anyway (logged every 2-4 s, it was 3 % of a worker's CPU under load).
            if self.sweeping:
                line["frozen"] = gc.get_freeze_count()
            self.log.write(json.dumps(line) + "\n")
        self.sweeping = False


def tune_gc() -> None:
    """For a server process, once its application is built: what was loaded to start (modules, the model,
    the name tables) lives as long as the process, so it is moved out of the collector's reach
    (`gc.freeze`); then the thresholds and the hook above."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    log = None
    if path := os.environ.get(LOG_ENV):
        log = open(path, "a", buffering=1)  # noqa: SIM115 (a line a collection, for the process's life)
        start = {"pid": os.getpid(), "t": round(time.time(), 4), "event": "start"}
        log.write(json.dumps({**start, "frozen": gc.get_freeze_count(), "rss_kb": _rss_kb()}) + "\n")
    # Once a process: a second call (tests, the in-process bench) replaces the hook rather than adding one.
    gc.callbacks[:] = [c for c in gc.callbacks if not isinstance(c, FreezeAfterFull)]
    gc.callbacks.append(FreezeAfterFull(log=log))
