"""A server worker freezes what survives each full collection (issue 19: the caches' traversal stalled a
worker for ~450 ms at a million records), and a freeze keeps nothing of a finished request: served over real
kept-alive connections, with a collection (and so a freeze) while they were open, a request's objects are
all freed, none left in a cycle the freeze would have kept for the server's life."""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request

from kinlink.server.worker_gc import LOG_ENV, FreezeAfterFull
from tests.web.test_family_flow import REQUEST, file_request


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def hook() -> Iterator[FreezeAfterFull]:
    """The worker's hook in this process, for the test only: frozen objects are unfrozen after it."""
    made = FreezeAfterFull(sweep_seconds=3600)
    gc.collect()
    gc.callbacks.append(made)
    try:
        yield made
    finally:
        gc.callbacks.remove(made)
        gc.unfreeze()
        gc.collect()


def _walked() -> set[int]:
    return {id(o) for o in gc.get_objects()}  # the generations a collection walks, not the frozen


def test_a_full_collection_freezes_what_survived_and_frees_what_did_not(hook: FreezeAfterFull) -> None:
    kept, dropped = Cycle(), Cycle()
    dropped_ref = weakref.ref(dropped)
    del dropped
    gc.collect()
    assert dropped_ref() is None  # garbage is collected before the freeze
    assert id(kept) not in _walked()  # the survivor is frozen: later collections do not walk it


def test_a_frozen_cycle_that_dies_is_freed_by_the_next_sweep(hook: FreezeAfterFull) -> None:
    cycle = Cycle()
    ref = weakref.ref(cycle)
    gc.collect()  # frozen alive
    del cycle
    gc.collect()
    assert ref() is not None  # what a freeze can keep: a cycle alive then, dead now
    hook.next_sweep = 0  # due: the next full collection walks the frozen too
    gc.collect()
    assert ref() is None
    assert not hook.sweeping


def _requests() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Request))


def test_a_freeze_keeps_nothing_of_a_finished_request(hook: FreezeAfterFull, client_for, staff) -> None:  # type: ignore[no-untyped-def]
    """The family's page (Jinja's macros make cycles), a caseworker's pages and searches, over kept-alive
    connections, with a full collection, and so a freeze, between them; then, unfrozen, no request is left
    for the collector: every one was freed by reference counting when answered (or collected young)."""
    family, caseworker = client_for(), client_for("caseworker")
    reference, secret = file_request(family, REQUEST)
    assert family.track(reference, secret).status_code == 303
    for _ in range(3):
        assert family.get("/family").status_code == 200
        assert caseworker.get("/records", params={"q": "Пактишев"}).status_code == 200
        gc.collect()  # a worker's full collection and freeze, with the connections open between requests
    family.close()
    caseworker.close()
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        kept = [o for o in gc.garbage if isinstance(o, Request)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert kept == []
    assert _requests() == 0


def _worker_gc(env: dict[str, str]) -> None:
    """A process tuned as a server worker is, that makes one full collection."""
    code = "import gc; from kinlink.server.worker_gc import tune_gc; tune_gc(); gc.collect()"
    subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True, timeout=60)


def test_the_collection_log_holds_counts_and_times_only(tmp_path: Path) -> None:
    log = tmp_path / "gc.jsonl"
    _worker_gc({LOG_ENV: str(log)})
    start, *full = (json.loads(line) for line in log.read_text().splitlines())
    assert set(start) == {"pid", "t", "event", "frozen", "rss_kb"} and start["event"] == "start"
    # No count of the frozen after an ordinary collection: counting walks every frozen object.
    keys = {"pid", "t", "ms", "cpu_ms", "collected", "uncollectable", "sweep", "rss_kb"}
    assert full and all(set(e) == keys and e["pid"] == start["pid"] and e["sweep"] is False for e in full)


def test_a_sweep_is_logged_with_the_count_of_the_frozen() -> None:
    log = io.StringIO()
    made = FreezeAfterFull(sweep_seconds=3600, log=log)
    gc.collect()
    gc.callbacks.append(made)
    try:
        gc.collect()
        made.next_sweep = 0
        gc.collect()
    finally:
        gc.callbacks.remove(made)
        gc.unfreeze()
        gc.collect()
    ordinary, sweep = (json.loads(line) for line in log.getvalue().splitlines())
    assert "frozen" not in ordinary and ordinary["sweep"] is False
    assert sweep["sweep"] is True and sweep["frozen"] > 0
