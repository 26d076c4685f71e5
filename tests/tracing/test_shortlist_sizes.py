"""A search's shortlist counts the keys whose sizes it does not know yet and reads the postings of the
selective ones in one statement (`shortlist_rows_of`, issue 19; PostgreSQL first, SQLite too since): the rows,
and the sizes and postings it keeps, are those of counting the sizes first and then reading the postings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from kinlink.matching.record import MatchRecord
from kinlink.store import shortlist
from kinlink.store.db import unit_of_work
from kinlink.store.models import Person
from kinlink.tracing import matcher
from tests.support import statements_run
from tests.tracing.test_search import _generated


def test_sizes_and_postings_read_together_give_what_reading_them_apart_gives(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _generated(engine, tmp_path)
    with unit_of_work(engine) as s:
        names = list(s.scalars(select(Person.full_name).order_by(Person.id).limit(15)))
    queries = [*names, *(n.split()[0] for n in names), "Zzyzx Qqq"]
    compared = 0
    # The registry's own broad keys come at MAX_POSTING entries, more than a test holds: smaller bounds
    # make some of its keys broad (a search of those skipped, or of the narrowest when all are).
    for most in (shortlist.MAX_POSTING, 40, 4):
        monkeypatch.setattr(shortlist, "MAX_POSTING", most)
        known: dict[str, int] = {}  # as a server's search cache keeps them
        apart: dict[str, int] = {}
        with unit_of_work(engine) as s:
            for name in queries:
                for limit in (2000, 5):  # the second time with the sizes known
                    query = MatchRecord(None, name)
                    found = shortlist.shortlist_query(s, query, "p", limit, apart)
                    want = None if found is None else shortlist.shortlist_rows(s, *found)
                    assert shortlist.shortlist_rows_of(s, query, "p", limit, known) == want, (most, name)
                    assert known == apart, (most, name)
                    compared += bool(want)
    assert compared >= 60


def test_sizes_and_postings_read_together_with_postings_kept_give_what_reading_them_apart_gives(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the postings kept between searches (`PostingsMemo`, a server's): cold, warm, the sizes known but
    the postings let go (a small memo), the same rows as counting the sizes and reading the postings apart."""
    _generated(engine, tmp_path)
    with unit_of_work(engine) as s:
        names = list(s.scalars(select(Person.full_name).order_by(Person.id).limit(15)))
    queries = [*names, *(n.split()[0] for n in names), *(" ".join(n.split()[:2]) for n in names)]
    compared = 0
    for most, held in ((shortlist.MAX_POSTING, shortlist.PostingsMemo.MOST), (40, 30), (4, 10**9)):
        monkeypatch.setattr(shortlist, "MAX_POSTING", most)
        monkeypatch.setattr(shortlist.PostingsMemo, "MOST", held)
        known: dict[str, int] = {}
        memo = shortlist.PostingsMemo()
        with unit_of_work(engine) as s:
            for name in [*queries, *reversed(queries)]:
                for limit in (2000, 60, 5):
                    query = MatchRecord(None, name)
                    found = shortlist.shortlist_query(s, query, "p", limit, {})
                    want = None if found is None else shortlist.shortlist_rows(s, *found)
                    got = shortlist.shortlist_rows_of(s, query, "p", limit, known, memo)
                    assert got == want, (most, held, name, limit)
                    compared += bool(want)
        assert memo.held <= held
    assert compared >= 200


def test_the_first_of_a_shortlist_are_the_preranks_best_for_a_name_alone(
    engine: Engine, tmp_path: Path
) -> None:
    """For a query the pre-rank ranks by keys shared alone, its best SHORTLIST of the 2,000 are the first
    SHORTLIST of the shortlist, which `matcher.search` asks for alone (issue 19)."""
    _generated(engine, tmp_path)
    with unit_of_work(engine) as s:
        names = list(s.scalars(select(Person.full_name).order_by(Person.id).limit(20)))
    size = 7  # smaller than the test's shortlists, as SHORTLIST is than a million records'
    with unit_of_work(engine) as s:
        for name in [*names, *(n.split()[0] for n in names)]:
            query = MatchRecord(None, name)
            assert matcher._ranks_by_keys_alone(query)
            rows = shortlist.shortlist_rows_of(s, query, "p", 2000, {}) or []
            best = [r[0] for r in matcher._prerank(query, rows, size)]
            assert best == [r[0] for r in shortlist.shortlist_rows_of(s, query, "p", size, {}) or []], name


def test_a_name_of_unknown_sizes_is_shortlisted_in_one_statement(engine: Engine, tmp_path: Path) -> None:
    _generated(engine, tmp_path)
    with unit_of_work(engine) as s:
        name = s.scalar(select(Person.full_name).order_by(Person.id).limit(1))
    with unit_of_work(engine) as s:
        query = MatchRecord(None, name)
        sent = statements_run(
            engine, lambda: shortlist.shortlist_rows_of(s, query, "p", 2000, {}), lambda _: True
        )
        assert len(sent) == 1
        known: dict[str, int] = {}
        shortlist.shortlist_rows_of(s, query, "p", 2000, known)
        sent = statements_run(
            engine, lambda: shortlist.shortlist_rows_of(s, query, "p", 2000, known), lambda _: True
        )
        assert len(sent) == 1  # the sizes known: the postings alone


def test_the_shortlists_ranking_is_most_keys_shared_then_lowest_id() -> None:
    """`shortlist._ranked` (a stable sort of the ids, then of their counts) orders as np.lexsort of (ids,
    -counts) does and `np.unique` counts: postings in order or not, ties of every size, any limit."""
    import numpy as np

    rng = np.random.default_rng(19)
    for _ in range(300):
        keys = int(rng.integers(1, 12))
        postings = [rng.choice(int(rng.integers(1, 5000)), int(rng.integers(0, 800))) for _ in range(keys)]
        ids = [np.unique(p) if rng.random() < 0.7 else rng.permutation(np.unique(p)) for p in postings]
        posted = np.concatenate(ids).astype(np.int64)
        if not len(posted):
            continue
        eids, shared = np.unique(posted, return_counts=True)
        order = np.lexsort((eids, -shared))
        for limit in (1, 5, 60, 2000):
            want = [(int(eids[i]), int(shared[i])) for i in order[:limit]]
            assert shortlist._ranked(posted, limit) == want
