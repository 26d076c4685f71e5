"""The postings' counting that the in-memory index and the database's shortlist share."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kinlink.matching.keys import shared_counts


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=200))
def test_shared_counts_are_numpys_unique_with_counts(ids: list[int]) -> None:
    every = np.sort(np.array(ids, dtype=np.int64))
    rows, shared = shared_counts(every)
    want_rows, want_shared = np.unique(every, return_counts=True)
    assert rows.tolist() == want_rows.tolist() and shared.tolist() == want_shared.tolist()
