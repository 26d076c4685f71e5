"""The collector held during an import: full collections off, the collector itself on (other threads of a
server go on collecting their young cycles), and the thresholds back when the last import ends."""

from __future__ import annotations

import gc
import threading
import weakref

from kinlink.registry.collector import collector_held


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_held_keeps_the_collector_on_and_restores_thresholds() -> None:
    before = gc.get_threshold()
    with collector_held():
        assert gc.isenabled()
        held = gc.get_threshold()
        assert held[2] > 1000 * max(before[2], 1)
        with collector_held():  # nested: still held
            assert gc.get_threshold() == held
        assert gc.get_threshold() == held  # the inner end does not restore
    assert gc.get_threshold() == before


def test_another_threads_cycles_are_collected_while_an_import_holds() -> None:
    inside, done = threading.Event(), threading.Event()

    def importing() -> None:
        with collector_held():
            inside.set()
            done.wait(10)

    t = threading.Thread(target=importing)
    t.start()
    try:
        assert inside.wait(10)
        ref = weakref.ref(_Node())
        # The young generations are still collected by themselves, a few thousand allocations on (with the
        # collector off, as before, the cycle stayed until the import ended).
        kept = [[] for _ in range(100_000)]
        assert ref() is None
        del kept
        assert gc.isenabled()
    finally:
        done.set()
        t.join()
