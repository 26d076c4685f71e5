"""The postings' counting and the pre-rank that the in-memory index and the database's shortlist share."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kinlink.matching.comparators import birth_range, sex_key
from kinlink.matching.keys import MISSING_DAY, prerank, shared_counts
from kinlink.matching.record import MatchRecord


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=200))
def test_shared_counts_are_numpys_unique_with_counts(ids: list[int]) -> None:
    every = np.sort(np.array(ids, dtype=np.int64))
    rows, shared = shared_counts(every)
    want_rows, want_shared = np.unique(every, return_counts=True)
    assert rows.tolist() == want_rows.tolist() and shared.tolist() == want_shared.tolist()


def _prerank_by_formula(
    query: MatchRecord, shared: np.ndarray, lo: np.ndarray, hi: np.ndarray, sex: np.ndarray
) -> np.ndarray:
    """The pre-rank worked out element by element as floats (what `prerank`'s tables stand for)."""
    rank = shared.astype(np.float32)
    br = birth_range(query.birth_date, query.age, query.age_as_of, query.birth_year_to)
    if br is not None:
        gap = np.maximum(0, np.maximum(lo - br[1], br[0] - hi))
        rank -= np.where(lo != MISSING_DAY, np.minimum(gap / 365.0, 6.0), 0.5).astype(np.float32)
    s = sex_key(query.sex)
    if s:
        want = 1 if s == "m" else 2
        rank -= np.where((sex != 0) & (sex != want), 2.0, 0.0).astype(np.float32)
    return rank


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=9),
            st.one_of(st.none(), st.integers(min_value=690_000, max_value=740_000)),
            st.integers(min_value=0, max_value=800),
            st.integers(min_value=0, max_value=2),
        ),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([None, "1990", "1990-03-13", "1985-07"]),
    st.sampled_from([None, "m", "f"]),
)
def test_the_pre_rank_read_from_tables_is_the_one_worked_out_as_floats(
    rows: list[tuple[int, int | None, int, int]], birth: str | None, sex: str | None
) -> None:
    """Gaps of a day to beyond six years, unknown births and both sexes: to the last bit."""
    shared = np.array([r[0] for r in rows], dtype=np.int64)
    lo = np.array([MISSING_DAY if r[1] is None else r[1] for r in rows], dtype=np.int32)
    hi = np.array([MISSING_DAY if r[1] is None else r[1] + r[2] for r in rows], dtype=np.int32)
    sexes = np.array([r[3] for r in rows], dtype=np.int8)
    for query in (
        MatchRecord(None, "Иванов Иван", birth_date=birth, sex=sex),
        MatchRecord(None, "Иванов Иван", age=30, age_as_of="2022-02-27", sex=sex),
    ):
        got = prerank(query, shared, lo, hi, sexes)
        assert got.tobytes() == _prerank_by_formula(query, shared, lo, hi, sexes).tobytes()


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=9),  # keys shared
            st.one_of(st.none(), st.integers(min_value=725_000, max_value=731_000)),  # first day of birth
            st.integers(min_value=0, max_value=800),  # days more it may be
            st.integers(min_value=0, max_value=2),  # sex code
        ),
        min_size=31,
        max_size=300,
    ),
    st.sampled_from(["1990-03-13", "1985", None]),
    st.sampled_from(["m", "f", None]),
)
def test_rows_left_out_of_the_pre_rank_could_not_enter_the_shortlist(
    facts: list[tuple[int, int | None, int, int]], birth: str | None, sex: str | None
) -> None:
    """`CandidateIndex._worth_ranking` leaves out only rows whose pre-rank is below the size-th best of
    all (so the shortlist is the same), and keeps the others in order."""
    from kinlink.matching.index import CandidateIndex
    from kinlink.matching.model import load_model

    index = CandidateIndex(load_model())
    lo = np.array([MISSING_DAY if f[1] is None else f[1] for f in facts], dtype=np.int32)
    hi = np.array([MISSING_DAY if f[1] is None else f[1] + f[2] for f in facts], dtype=np.int32)
    pair = np.empty((len(facts), 2), dtype=np.int32)
    pair[:, 0], pair[:, 1] = lo, (hi - lo) * 4 + np.array([f[3] for f in facts], dtype=np.int32)
    index._pre = pair.view(np.int64).ravel()
    rows = np.arange(len(facts), dtype=np.uint32)
    shared = np.array([f[0] for f in facts], dtype=np.int64)
    query = MatchRecord(None, "Иванов Иван", birth_date=birth, sex=sex)
    size = 30
    kept, kept_shared = index._worth_ranking(query, rows, shared, size)
    rank = prerank(query, shared, *index._pre_facts(rows))
    cut = np.sort(rank)[-size]
    left_out = np.setdiff1d(rows, kept)
    assert (rank[left_out] < cut).all()
    assert kept.tolist() == sorted(kept.tolist()) and kept_shared.tolist() == shared[kept].tolist()
