"""A batch's rows hashed column by column (`row_hashes`) give each row's own `row_hash` (issue 19): a row of
an unchanged file is recognised by it, and the hashes stored by earlier imports must still match."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.registry.checked_rows import row_hash, row_hashes

CELL = st.one_of(
    st.sampled_from(["", " ", "R1", "Иванов", "a\x1fb", "x\x1ey", "\ud800", "'quoted"]),
    st.none(),
    st.text(max_size=5),
)
NAMES = ["record_id", "full_name", "sex", "notes", "events", "unit"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(NAMES), unique=True, max_size=6).flatmap(
        lambda names: st.lists(st.fixed_dictionaries({n: CELL for n in names}), max_size=12)
    )
)
def test_a_batch_hashed_column_by_column_is_each_row_hashed(rows: list[dict[str, str | None]]) -> None:
    assert row_hashes(rows) == [row_hash(r) for r in rows]


def test_rows_of_other_columns_or_values_are_each_hashed_their_way() -> None:
    rows = [
        {"record_id": "R1", "full_name": "Иванов Иван", "sex": ""},
        {"record_id": "R2", "full_name": "", "sex": "m"},
        {"full_name": "Петров", "record_id": "R3"},  # the same columns in another order
        {"record_id": "R4", "events": [{"kind": "captured"}]},  # JSON Lines values
    ]
    assert row_hashes(rows) == [row_hash(r) for r in rows]
    assert row_hashes(rows[:2]) == [row_hash(r) for r in rows[:2]]
    assert row_hashes(
        [{"record_id": "R1", "full_name": "Иванов Иван"}, {"full_name": "", "record_id": ""}]
    ) == [
        row_hash({"full_name": "Иванов Иван", "record_id": "R1"}),
        row_hash({}),
    ]
