"""Rows built to break the importer (deep nesting, lone surrogates, controls, bidi overrides, wrong types)
are bad rows, reported with file, line, column and reason, even with --skip-invalid; the importer never
raises (issue 16, item 10)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kinlink.person.fields import COLUMNS
from kinlink.registry.imports import import_registry
from kinlink.store.models import Person

DEEP = 50_000
GOOD = '{"record_id": "OK-1", "full_name": "Іван Петренко"}\n'


def _persons(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return sorted(s.scalars(select(Person.source_record_id)))


def test_events_nested_50000_deep_are_a_bad_row(cli, write, engine) -> None:  # type: ignore[no-untyped-def]
    deep = '{"record_id": "D-1", "full_name": "Іван", "events": ' + "[" * DEEP + "]" * DEEP + "}\n"
    path = write("r.jsonl", deep + GOOD)
    result = cli("import", "registry", str(path), "--source", "b", "--skip-invalid", ok=False)
    assert "r.jsonl:1: events: is nested more than 20 levels deep" in result.output, result.output
    assert result.exit_code != 1 or "Traceback" not in result.output
    assert _persons(engine) == ["OK-1"]


def test_a_deep_events_cell_in_csv_is_a_bad_row(cli, write, engine) -> None:  # type: ignore[no-untyped-def]
    cell = ("[" * DEEP + "]" * DEEP).replace('"', '""')
    path = write("r.csv", f"record_id,full_name,events\nD-1,Іван,{cell}\nOK-1,Іван Петренко,\n")
    result = cli("import", "registry", str(path), "--source", "b", "--skip-invalid", ok=False)
    assert "r.csv:2: events: is nested more than 20 levels deep" in result.output, result.output
    assert _persons(engine) == ["OK-1"]


def test_a_lone_surrogate_in_json_lines_is_a_bad_row(cli, write, engine) -> None:  # type: ignore[no-untyped-def]
    text = (
        '{"record_id": "S-1", "full_name": "\\ud800 Ivan"}\n'
        '{"record_id": "S-2", "full_name": "Ivan", "notes": "\\u202e gnp.exe"}\n'
        '{"record_id": "S-3", "full_name": "Ivan", "events": [{"kind": "captured", "place": "\\udfff"}]}\n'
        '{"\\ud800": 1, "record_id": "S-4", "full_name": "Ivan"}\n' + GOOD
    )
    result = cli(
        "import", "registry", str(write("r.jsonl", text)), "--source", "b", "--skip-invalid", ok=False
    )
    assert "r.jsonl:1: full_name: contains U+D800, which is not a character of any text" in result.output
    assert "r.jsonl:2: notes: contains a bidirectional control character (U+202E)" in result.output
    assert "r.jsonl:3: events: contains U+DFFF" in result.output
    assert "r.jsonl:4: -: a column's name contains U+D800" in result.output
    assert _persons(engine) == ["OK-1"]
    # Without --skip-invalid nothing is written, and the same rows are reported.
    result = cli("import", "registry", str(write("r2.jsonl", text)), "--source", "c", ok=False)
    assert result.exit_code == 1 and "r2.jsonl:1: full_name: contains U+D800" in result.output
    assert _persons(engine) == ["OK-1"]


# --- arbitrary rows --------------------------------------------------------------------------------------

HOSTILE = ["\ud800", "\udfff", "\x00", "\x1b", "\x7f", "\u202e", "\u2066", "\u200f", "\u200d", "\t", "\n"]
TEXT = st.text(st.one_of(st.characters(exclude_categories=()), st.sampled_from(HOSTILE)), max_size=20)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(["1990", "2022-02-30", "captured", "m", "yes", "[[[]]]", '[{"kind": "captured"}]']),
)


def _nested(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3))


VALUE = st.recursive(SCALAR, _nested, max_leaves=8)
KEY = st.one_of(st.sampled_from(COLUMNS), TEXT)
# A marker replaced by brackets nested this deep once the row is JSON (json.dumps itself cannot go as deep).
DEPTH = st.one_of(st.none(), st.integers(min_value=15, max_value=5000))
ROW = st.tuples(
    st.dictionaries(KEY, VALUE, max_size=6), st.sampled_from(["full_name", "events", "notes"]), DEPTH
)


def _line(row: dict, deep_key: str, depth: int | None) -> str:
    row = {"record_id": "R", "full_name": "Іван", **row}
    if depth is not None:
        row[deep_key] = "@DEEP@"
    text = json.dumps(row, ensure_ascii=True)  # escapes, as a registrar's JSON may: \ud800 survives
    return text.replace('"@DEEP@"', "[" * depth + "]" * depth) if depth is not None else text


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(ROW, min_size=1, max_size=5))
def test_arbitrary_rows_are_reported_never_raised(engine: Engine, tmp_path: Path, rows: list) -> None:
    lines = [_line(*r) for r in rows]
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Session(engine) as s:
        before = s.scalar(select(func.count()).select_from(Person)) or 0
    report = import_registry(engine, path, "fuzz", "test", skip_invalid=True)
    assert report.written
    # Every row is accounted for: written (or found unchanged), or reported with its line and column.
    assert report.rows == len(lines)
    assert report.created + report.updated + report.unchanged + report.erased + report.invalid == len(lines)
    for error in report.errors:
        file, line, rest = error.split(":", 2)
        assert file == "fuzz.jsonl" and 1 <= int(line) <= len(lines) and len(rest.split(": ")) >= 2, error
        error.encode("utf-8")  # printable as it is: no lone surrogate echoed back
    with Session(engine) as s:
        after = s.scalar(select(func.count()).select_from(Person)) or 0
    assert after - before == report.created


CELL = st.one_of(
    st.text(st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(HOSTILE[2:])), max_size=20),
    st.integers(min_value=15, max_value=5000).map(lambda n: "[" * n + "]" * n),
    st.sampled_from(["1990", "31.02.1990", "captured", "yes", '[{"kind": "captured"}]', '{"a": 1}']),
)
# Always the history, whose cell is JSON (the one parsed, hence the one to nest), then any others.
CSV_COLUMNS = st.lists(
    st.sampled_from([c for c in COLUMNS if c not in ("record_id", "events")]), max_size=4, unique=True
).map(lambda others: ["events", *others])


@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(columns=CSV_COLUMNS, cells=st.lists(st.lists(CELL, min_size=6, max_size=6), min_size=1, max_size=4))
def test_arbitrary_csv_cells_are_reported_never_raised(
    engine: Engine, tmp_path: Path, columns: list[str], cells: list[list[str]]
) -> None:
    path = tmp_path / "fuzz.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["record_id", *columns])
        for i, row in enumerate(cells):
            out.writerow([f"C-{i}", *row[: len(columns)]])
    report = import_registry(engine, path, "fuzz-csv", "test", skip_invalid=True)
    assert report.written and report.rows == len(cells)
    assert report.created + report.updated + report.unchanged + report.erased + report.invalid == report.rows
    for error in report.errors:
        assert error.startswith("fuzz.csv:"), error
        error.encode("utf-8")
