"""The batch searcher's parent: how its pool waits and when its cyclic collector runs (issue 19)."""

from __future__ import annotations

import gc
from multiprocessing.pool import Pool

import pytest

from kinlink.matching.index import CandidateIndex
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.searcher import Searcher

MODEL = load_model()
FAMILIES = ("Иванов", "Попов", "Пактышев", "Кузнецов", "Смирнов")


def _index() -> CandidateIndex:
    people = [
        MatchRecord(i, f"{FAMILIES[i % 5]} {given} Петрович", birth_date=f"{1980 + i % 20}")
        for i, given in enumerate(["Сергей", "Андрей", "Леонид", "Иван"] * 25)
    ]
    return CandidateIndex.build(MODEL, people)


QUERIES = [MatchRecord(None, f"{f} Сергей", birth_date="1990") for f in FAMILIES] * 300


def test_the_pools_worker_handler_does_not_wake_for_every_result(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pool's worker handler also waited on the result pipe, readable until the result thread had read a
    # whole part: it woke and checked its workers again and again while the hits came back.
    woke = []
    maintain = Pool._maintain_pool  # type: ignore[attr-defined]

    def counted(*args):  # type: ignore[no-untyped-def]
        woke.append(1)
        return maintain(*args)

    monkeypatch.setattr(Pool, "_maintain_pool", staticmethod(counted))
    index = _index()
    with Searcher(index, processes=2) as searcher:
        batch = searcher.search(QUERIES, limit=3)
    assert batch == [index.search(q, limit=3) for q in QUERIES]
    assert len(woke) <= 5  # at the start, when the last part is in and when the pool closes


def test_the_collector_is_paused_while_a_streams_caller_reads_a_part() -> None:
    # Resumed as a part was handed over, it went over every hit of the part at once; it runs between parts.
    index = _index()
    assert gc.isenabled()
    paused = []
    with Searcher(index, processes=2) as searcher:
        for part in searcher.stream(QUERIES, limit=1):
            paused.append(not gc.isenabled())
            assert part
    assert paused and all(paused)
    assert gc.isenabled()
