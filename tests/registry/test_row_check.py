"""A row checked the fast way (its cells once per distinct value) gives what the full check gives: the same
record, or the same errors in the same order (issue 19). So does a chunk of rows checked column by column
(kinlink.person.chunk), for every row it accepts."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.person.chunk import fast_records, record_of, record_tuple
from kinlink.person.fields import RecordIn
from kinlink.person.rows import check_row, validate_row
from kinlink.person.text import plain_text

TODAY = date(2026, 1, 1)
# Good, bad and blank values of each column, mixed at random.
CELLS: dict[str, list[str]] = {
    "record_id": ["R1", " R2 ", "", "  ", "x" * 201],
    "full_name": ["", "Иванов Иван", "<b>", "123", " "],
    "family_name": ["Иванов", "", "Ив@нов", "   ", "x" * 201],
    "given_names": ["Иван", "", "7"],
    "patronymic": ["Иванович", "", "{x}"],
    "name_language": ["", "ru"],
    "alternate_names": ["", "Ivanov|Іванов", "Ivanov|<x>", "|"],
    "sex": ["", "m", "Ж", "u", "maybe"],
    "birth_date": ["", "1990", "1990-02-30", "01.02.1990", "2990", "soon"],
    "age": ["", "30", "200"],
    "age_as_of": ["", "2020", "2020-13"],
    "rank": ["", "рядовой", " сержант "],
    "unit": ["", "12-я бригада", "x" * 301],
    "service_number": ["", "S1", " S2 ", "x" * 101, "a\u202eb"],
    "father_name": ["", "Иван", "Ив#н"],
    "language": ["", "RU", "russian"],
    "health_state": ["", "good health", "Slightly-wounded", "bad"],
    "consent_inform_family": ["", "yes", "нет", "perhaps"],
    "status": ["", "captured", "Seriously ill", "lost"],
    "status_date": ["", "2023-01-15", "2030-01-01"],
    "place": ["", "Курск"],
    "events": [
        "",
        '[{"kind": "captured", "date": "2022-03-01"}]',
        '[{"kind": "captured", "date": "2022-03-01", "note": "' + "n" * 300 + '"}]',
        '[{"kind": "eaten"}]',
        "[{",
    ],
    "expiry_date": ["", "2040", "2040-00"],
    "notes": ["", "line\nbreak", "a\x00b"],
}


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({c: st.sampled_from(v) for c, v in CELLS.items()}))
def test_fast_check_is_the_full_check(row: dict[str, str]) -> None:
    assert validate_row(row, 7, today=TODAY) == check_row(row, 7, today=TODAY)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({c: st.sampled_from(v) for c, v in CELLS.items()}), max_size=40))
def test_a_chunk_checked_column_by_column_is_each_row_checked(rows: list[dict[str, str]]) -> None:
    """Each record of a chunk is the full check's for its row; a row the full check refuses comes as None
    (and is then checked alone). Rows with an age (checked together with its date), and rows with a cell
    that one-line text would refuse (a line break in the notes: the full check decides), also come as None."""
    records = fast_records(rows, TODAY)
    assert len(records) == len(rows)
    for row, record in zip(rows, records, strict=True):
        full = check_row(row, 7, today=TODAY)
        if record is not None:
            assert isinstance(full, RecordIn) and record == record_tuple(full) and record_of(record) == full
        elif isinstance(full, RecordIn):
            assert row["age"] or row["age_as_of"] or not all(map(plain_text, row.values()))


def test_a_clean_chunk_is_checked_column_by_column() -> None:
    """A chunk of clean rows gives every row's record (none left to the row-by-row check), the same as the
    row-by-row check's; rows with other columns, or values that are not text, are left to it."""
    rows = [
        {
            "record_id": f"R{i}",
            "full_name": "" if i % 2 else f"Иванов Иван {chr(0x430 + i)}",
            "family_name": "Петров",
            "given_names": " Пётр ",
            "alternate_names": "Petrov|Петрів" if i % 3 else "",
            "sex": "m",
            "status": "captured",
            "status_date": "2022-03-01",
            "place": "Курск" if i % 2 else "",
            "events": '[{"kind": "captured", "date": "2022-03-01"}, {"kind": "died", "date": "2023"}]',
            "consent_inform_family": "yes" if i % 4 else "",
        }
        for i in range(10)
    ]
    records = fast_records(rows, TODAY)
    assert None not in records
    assert [record_of(r) for r in records if r is not None] == [validate_row(r, 1, today=TODAY) for r in rows]
    # The rules across cells: a status's date or place without it, no name, no record id.
    refused = [
        {**rows[0], "status": ""},
        {**rows[1], "status": "", "status_date": ""},
        {**rows[1], "family_name": "", "given_names": " "},
        {**rows[2], "record_id": " "},
    ]
    assert all(isinstance(check_row(r, 1, today=TODAY), list) for r in refused)
    assert fast_records([*refused, rows[3]], TODAY) == [None, None, None, None, records[3]]
    assert fast_records([*rows[:2], {**rows[2], "unit": "x"}], TODAY) == [None] * 3  # other columns
    assert fast_records([rows[0], {**rows[1], "record_id": 5}], TODAY) == [None] * 2  # JSON values


def test_a_clean_row_twice_gives_records_of_their_own() -> None:
    row = {
        "record_id": "R1",
        "family_name": "Иванов",
        "alternate_names": "Ivanov",
        "status": "captured",
        "events": '[{"kind": "died", "date": "2023"}]',
    }
    first, second = validate_row(row, 1, today=TODAY), validate_row(row, 2, today=TODAY)
    assert first == second == check_row(row, 1, today=TODAY)
    assert first is not second and first.alternate_names is not second.alternate_names  # type: ignore[union-attr]
    assert first.events is not second.events  # type: ignore[union-attr]


def test_rows_sharing_a_status_and_history_each_get_them_merged_once() -> None:
    """The status's event and a history that repeats it: once, as the full check gives it, for every row
    that shares them (the merge is looked up once per distinct pair)."""
    history = '[{"kind": "captured", "date": "2022-03-01"}, {"kind": "died", "date": "2023"}]'
    rows = [
        {
            "record_id": f"R{i}",
            "family_name": "Иванов",
            "status": "captured",
            "status_date": "2022-03-01",
            "events": history,
        }
        for i in range(3)
    ]
    found = [validate_row(row, i, today=TODAY) for i, row in enumerate(rows)]
    assert found == [check_row(row, i, today=TODAY) for i, row in enumerate(rows)]
    assert [e.kind for e in found[0].events] == ["captured", "died"]  # type: ignore[union-attr]
    assert found[0].events is not found[1].events  # type: ignore[union-attr]


@st.composite
def _chunks_by_column(draw: st.DrawFn) -> list[dict[str, str]]:
    """Rows whose columns are each left empty, filled alike, filled with distinct values or mixed: the
    shapes the column check takes shorter ways for (an empty column, a column of distinct ids)."""
    n = draw(st.integers(1, 12))
    columns: dict[str, list[str]] = {}
    for c, values in CELLS.items():
        mode = draw(st.sampled_from(["empty", "alike", "distinct", "mixed"]))
        if mode == "empty":
            columns[c] = [""] * n
        elif mode == "alike":
            columns[c] = [draw(st.sampled_from(values))] * n
        elif mode == "distinct":
            base = draw(st.sampled_from([v for v in values if v.strip()] or [" "]))
            columns[c] = [f"{base}{i}" if i else base for i in range(n)]
        else:
            columns[c] = draw(st.lists(st.sampled_from(values), min_size=n, max_size=n))
    return [{c: columns[c][i] for c in CELLS} for i in range(n)]


@settings(max_examples=300, deadline=None)
@given(_chunks_by_column())
def test_a_chunk_of_any_column_shapes_is_each_row_checked(rows: list[dict[str, str]]) -> None:
    for row, record in zip(rows, fast_records(rows, TODAY), strict=True):
        full = check_row(row, 7, today=TODAY)
        if record is not None:
            assert isinstance(full, RecordIn) and record == record_tuple(full) and record_of(record) == full
        elif isinstance(full, RecordIn):
            assert row["age"] or row["age_as_of"] or not all(map(plain_text, row.values()))
