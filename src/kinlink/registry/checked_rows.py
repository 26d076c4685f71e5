"""A list's rows checked for an import: each row's hash, and the checks a row that changed goes through.

A row is recognised by the hash of its cells as the file gives them (`row_hash`), before it is checked or
turned into a record: a re-delivered file is mostly rows imported before, which are compared in bulk with
the hashes stored then and not checked again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from datetime import date
from functools import lru_cache
from hashlib import sha256
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from kinlink.person.chunk import (
    FIELD_INDEX,
    Record,
    fast_columns,
    fast_records,
    record_of,
    record_tuple,
    records_of,
    row_columns,
)
from kinlink.person.fields import RecordIn, RowError
from kinlink.person.rows import validate_row
from kinlink.registry.files import RowFormatError, Rows, read_rows

CHUNK = 2000  # rows read, looked up and written at a time: memory stays flat


class Unchanged:
    """A row as it was when last imported: not checked nor written again."""


UNCHANGED = Unchanged()
Stored = Callable[[list[str]], dict[str, str | None]]  # record ids -> their rows' stored hashes


def row_hash(row: dict[str, Any]) -> str:
    """The hash of a row as the file gives it (its non-empty cells): the same row in the next delivery
    of the file is recognised before it is checked or turned into a record.

    Cells of text (every CSV cell) are joined with separators that no checked text may hold (control
    characters); other values (JSON Lines) go through canonical JSON, under another prefix.
    """
    if _TEXT_TYPES.issuperset(map(type, row.values())):
        # Every CSV row: its cells in the order of their names (worked out once for a file's columns),
        # the empty ones left out, and joined, in C passes (issue 19).
        names, cells = _in_order(tuple(row))
        text = "t" + "\x1e".join(map("\x1f".join, filter(_FILLED, zip(names, cells(row), strict=True))))
    else:
        cells = sorted((k, v) for k, v in row.items() if v is not None and v != "")
        text = "j" + json.dumps(dict(cells), sort_keys=True, ensure_ascii=False, default=str)
    # surrogatepass: a row holding a lone surrogate is hashed too (and then refused by its check).
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_TEXT_TYPES = frozenset({str, type(None)})
_FILLED = itemgetter(1)


def row_hashes(rows: list[Any], columns: dict[str, tuple[Any, ...]] | None = None) -> list[str]:
    """`row_hash` of each row of a batch. Rows of text with the same columns in the same order (a CSV's) are
    hashed a column at a time: each filled column's "name\x1fcell" pieces made in C, then each row's pieces
    joined (issue 19: 0.50 -> 0.42 CPU-s for 100,000 rows); any other batch a row at a time. columns: the
    rows' `row_columns`, when the caller has them."""
    n = len(rows)
    if columns is None:
        columns = row_columns(rows)
        if columns is None:
            return list(map(row_hash, rows))
    pieces: list[list[str | None]] = []
    gaps = False  # whether some filled column has an empty cell: then each row's pieces are filtered
    for name in sorted(columns):
        column = columns[name]
        if not _TEXT_TYPES.issuperset(map(type, column)):
            return list(map(row_hash, rows))  # (JSON values: hashed under another prefix)
        empty = column.count("") + column.count(None)
        if empty == n:
            continue
        prefix = name + "\x1f"
        if empty:
            gaps = True
            pieces.append([prefix + v if v else None for v in column])
        else:
            pieces.append(list(map(prefix.__add__, column)))
    rows_pieces = zip(*pieces, strict=True) if pieces else repeat((), n)
    if gaps:
        rows_pieces = map(filter, repeat(None), rows_pieces)  # type: ignore[assignment]
    texts = map("t".__add__, map("\x1e".join, rows_pieces))
    # surrogatepass: as row_hash's
    return [sha256(text.encode("utf-8", "surrogatepass")).hexdigest() for text in texts]


@lru_cache(maxsize=64)
def _in_order(names: tuple[str, ...]) -> tuple[tuple[str, ...], Callable[[dict[str, Any]], tuple[Any, ...]]]:
    """A row's column names sorted, and what gives its cells in that order (as a tuple, even for one)."""
    ordered = tuple(sorted(names))
    if len(ordered) > 1:
        return ordered, itemgetter(*ordered)
    return ordered, lambda row: tuple(row[name] for name in ordered)


def validate_file(
    path: Path,
    fmt: str,
    today: date | None = None,
    mapping: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> Iterator[tuple[int, RecordIn | list[RowError]]]:
    """Every row checked, including record ids repeated within the file."""
    return validate_rows(read_rows(path, fmt, mapping, sheet), today)


def validate_rows(
    rows: Rows | Iterable[tuple[int, Any]], today: date | None = None
) -> Iterator[tuple[int, RecordIn | list[RowError]]]:
    """Every row checked, including record ids repeated within the file."""
    for line, result, _digest in checked_rows(rows, today, None):
        # without `stored` no row comes as UNCHANGED
        yield line, record_of(result) if isinstance(result, tuple) else result  # type: ignore[misc]


Checked = tuple[int, Record | list[RowError] | Unchanged, str | None]  # (line, record or errors, hash)


class Records(NamedTuple):
    """A batch whose every row is a record, none seen before in the file nor stored with its hash: what
    `checked_rows` gives a row at a time, by column (a first import's every batch, issue 19). columns: the
    records' fields by column, in the order of RECORD_FIELDS."""

    lines: list[int]
    columns: list[list[Any]]
    digests: list[str]


def checked_rows(
    rows: Rows | Iterable[tuple[int, Any]], today: date | None, stored: Stored | None
) -> Iterator[Checked]:
    """Every row checked, including record ids repeated within the file: (line, record or errors, hash).
    A record comes as the tuple of its fields (`kinlink.person.chunk.RECORD_FIELDS`): no object a row.

    stored(record ids) gives the hashes of those records' rows as last imported: a row whose hash is the
    stored one was checked then, and comes as UNCHANGED without being checked again (a re-delivered file
    is mostly unchanged rows). The other rows of a batch are checked together, column by column
    (`kinlink.person.chunk`); a row that way refuses, or is not sure of, is checked alone (`validate_row`),
    which names every problem.
    """
    for batch in checked_batches(rows, today, stored):
        if isinstance(batch, Records):
            yield from zip(batch.lines, zip(*batch.columns, strict=True), batch.digests, strict=True)
        else:
            yield from batch


def checked_batches(
    rows: Rows | Iterable[tuple[int, Any]], today: date | None, stored: Stored | None
) -> Generator[Records | list[Checked], None, None]:
    """`checked_rows` a batch at a time: a batch of new records as `Records`, any other as its rows'
    (line, record or errors, hash)."""
    today = today or date.today()
    first_seen: dict[str, int] = {}
    rows = iter(rows)
    while batch := list(islice(rows, CHUNK)):
        lines, cells = map(list, zip(*batch, strict=True))
        readable = _DICT.issuperset(map(type, cells))  # (else: some RowFormatError)
        ids = _record_ids(cells) if readable else list(map(_record_id, cells))
        known = stored([i for i in ids if i]) if stored else {}
        columns = row_columns(cells) if readable else None
        if readable:
            digests: list[str | None] = row_hashes(cells, columns)  # type: ignore[assignment]
        else:
            hashed = iter(row_hashes([row for row in cells if not isinstance(row, RowFormatError)]))
            digests = [None if isinstance(row, RowFormatError) else next(hashed) for row in cells]
        # The rows to check: all but unreadable ones and those whose stored hash is theirs (a few of
        # those may be checked after all, below: a record id repeated in the file).
        if readable and not known:
            found = fast_columns(cells, today, columns)
            if found is not None and not found[1]:  # every row a record: taken by column
                record_ids = found[0][_RECORD_ID]
                if len(set(record_ids)) == len(cells) and first_seen.keys().isdisjoint(record_ids):
                    first_seen.update(zip(record_ids, lines, strict=True))
                    yield Records(lines, found[0], digests)  # type: ignore[arg-type]
                    continue
            checked = dict(enumerate(records_of(len(cells), found)))
        else:
            todo = [
                i
                for i, (row, rid, digest) in enumerate(zip(cells, ids, digests, strict=True))
                if digest is not None and not (rid and known.get(rid) == digest)
            ]
            checked = dict(zip(todo, fast_records([cells[i] for i in todo], today), strict=True))
        yield list(_one_by_one(batch, ids, digests, known, checked, first_seen, today))


def _one_by_one(
    batch: list[tuple[int, Any]],
    ids: list[str | None],
    digests: list[str | None],
    known: dict[str, str | None],
    fast: dict[int, Record | None],
    first_seen: dict[str, int],
    today: date,
) -> Iterator[Checked]:
    """A batch's rows a row at a time: fast, each row's record as the column check gives it (None where the
    full check decides)."""
    for i, ((line, row), rid, digest) in enumerate(zip(batch, ids, digests, strict=True)):
        if isinstance(row, RowFormatError):
            yield line, [RowError(line, row.column, row.reason)], None
            continue
        if rid and rid not in first_seen and known.get(rid) == digest:
            first_seen[rid] = line
            yield line, UNCHANGED, digest
            continue
        result: Record | list[RowError] | None = fast.get(i)
        if result is None:
            checked = validate_row(row, line, today=today)
            result = record_tuple(checked) if isinstance(checked, RecordIn) else checked
        if isinstance(result, tuple):
            record_id = result[_RECORD_ID]
            if record_id in first_seen:
                result = [
                    RowError(
                        line,
                        "record_id",
                        f"'{record_id}' appears twice in the file (first at line {first_seen[record_id]})",
                    )
                ]
            else:
                first_seen[record_id] = line
        yield line, result, digest


def _record_ids(rows: list[dict[str, Any]]) -> list[str | None]:
    """`_record_id` of each row of a batch of dicts: in C where every row's record id is text."""
    raw = list(map(dict.get, rows, repeat("record_id")))
    if not _STR.issuperset(map(type, raw)):
        return list(map(_record_id, rows))
    stripped: list[str | None] = list(map(str.strip, raw))
    if "" in stripped:
        stripped = [s or None for s in stripped]
    return stripped


_STR = frozenset({str})
_DICT = frozenset({dict})


_RECORD_ID = FIELD_INDEX["record_id"]


def _record_id(row: dict[str, Any] | RowFormatError) -> str | None:
    rid = None if isinstance(row, RowFormatError) else row.get("record_id")
    return rid.strip() or None if isinstance(rid, str) else None
