"""Reading and writing registrar files: CSV (UTF-8, any script), JSON Lines, and spreadsheets (XLSX,
XLS, ODS) with headings in English, Russian or Ukrainian, or mapped to kinlink's fields by the registrar."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path
from typing import Any

from kinlink.cells import neutralised, plain
from kinlink.person.fields import COLUMNS
from kinlink.person.headings import resolve
from kinlink.person.text import TooDeep, describe, loads_bounded, message_id
from kinlink.registry.sheets import SHEET_FORMATS, Sheet, SheetError

FORMATS = ("csv", "jsonl")  # what kinlink writes
READ_FORMATS = (*FORMATS, *SHEET_FORMATS)  # what it reads


class FileFormatError(ValueError):
    """The file as a whole cannot be read (wrong format, bad header, not UTF-8). The message is English with
    %(name)s placeholders (also the key of its translations), and its values beside it."""

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message % values if values else message)
        self.message, self.values = message, values


@dataclass(frozen=True)
class Layout:
    """Where each field sits in a list: the sheet, the headings as written, and their columns."""

    sheet: str | None
    headings: tuple[str, ...]
    fields: tuple[str | None, ...]
    letters: tuple[str, ...] | None = None  # spreadsheet column letters (None for CSV)

    def where(self, field: str) -> tuple[str | None, str]:
        """(column letter, heading as written) of a field; the field itself when no column holds it."""
        for i, f in enumerate(self.fields):
            if f == field:
                return (self.letters[i] if self.letters else None), self.headings[i]
        return None, field


class RowFormatError(ValueError):
    """One line cannot be read as a row (broken JSON); the import reports it with the others."""

    def __init__(self, line: int, column: str, reason: str) -> None:
        super().__init__(reason)
        self.line, self.column, self.reason = line, column, reason


def detect_format(path: Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in READ_FORMATS:
            raise FileFormatError(f"format '{explicit}' is not one of {', '.join(READ_FORMATS)}")
        return explicit
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix.lstrip(".") in SHEET_FORMATS:
        return suffix.lstrip(".")
    raise FileFormatError(
        f"cannot tell the format of '{path.name}': name it .csv, .jsonl, .xlsx or .ods, or pass --format"
    )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


Rows = Iterator[tuple[int, dict[str, Any] | RowFormatError]]


def read_rows(
    path: Path, fmt: str, mapping: Mapping[str, str] | None = None, sheet: str | None = None
) -> Rows:
    """(line number, row) pairs; a row that cannot be read comes as a RowFormatError in its place."""
    return open_list(path, fmt, mapping, sheet)[1]


def headings_of(path: Path, fmt: str, sheet: str | None = None) -> tuple[str | None, list[str]]:
    """The sheet read (None for CSV) and its headings as written, before any mapping."""
    if fmt in SHEET_FORMATS:
        try:
            found = Sheet(path, sheet)
        except SheetError as e:
            raise FileFormatError(str(e)) from None
        return found.name, found.headings
    if fmt != "csv":
        raise FileFormatError(message_id("a JSON Lines file has no headings to map"))
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f, strict=True), None)
    except UnicodeDecodeError as e:
        raise FileFormatError(
            f"the file is not UTF-8 (byte {e.start} of a block cannot be decoded)"
        ) from None
    except csv.Error as e:
        raise FileFormatError(f"line 1: the header is not valid CSV ({e})") from None
    if header is None:
        raise FileFormatError("the file is empty: a header line naming the columns is expected")
    return None, [h.strip() for h in header]


def open_list(
    path: Path, fmt: str, mapping: Mapping[str, str] | None = None, sheet: str | None = None
) -> tuple[Layout | None, Rows]:
    """The list's layout (None for JSON Lines, whose keys are the fields) and its rows, keyed by field.
    Headings are resolved with `mapping` (heading -> field, or '' to leave the column out) first, then
    recognised in English, Russian or Ukrainian; a heading neither mapped nor recognised refuses the file."""
    if fmt in SHEET_FORMATS:
        try:
            found = Sheet(path, sheet)
        except SheetError as e:
            raise FileFormatError(str(e)) from None
        fields = _resolve(found.headings, mapping, "")
        layout = Layout(
            found.name,
            tuple(found.headings),
            fields,
            tuple(found.letter(i) for i in range(len(found.headings))),
        )
        return layout, _sheet_rows(found, layout)
    if fmt == "csv":
        _, headings = headings_of(path, fmt)
        layout = Layout(None, tuple(headings), _resolve(headings, mapping, "line 1: "))
        return layout, _decoded(_read_csv(path, layout))
    return None, _decoded(_read_jsonl(path))


def _decoded(rows: Rows) -> Rows:
    try:
        yield from rows
    except UnicodeDecodeError as e:
        raise FileFormatError(
            f"the file is not UTF-8 (byte {e.start} of a block cannot be decoded)"
        ) from None


def _resolve(headings: list[str], mapping: Mapping[str, str] | None, where: str) -> tuple[str | None, ...]:
    seen: set[str] = set()
    for name in headings:
        if name and name in seen:
            raise FileFormatError(f"{where}column '{name}' appears twice in the header")
        seen.add(name)
    resolved = resolve(headings, mapping)
    if resolved.unknown:
        raise FileFormatError(
            f"{where}unknown column(s) {', '.join(repr(u) for u in resolved.unknown)}; "
            f"map them to kinlink's fields (or leave them out) with a mapping; "
            f"known columns are: {', '.join(COLUMNS)}"
        )
    if resolved.repeated:
        raise FileFormatError(
            message_id("%(where)stwo columns are both taken for %(fields)s"),
            where=where,
            fields=", ".join(sorted(set(resolved.repeated))),
        )
    if "record_id" not in resolved.fields:
        raise FileFormatError(
            message_id("%(where)sthe header has no 'record_id' column (the registrar's own id)"), where=where
        )
    return resolved.fields


def _sheet_rows(sheet: Sheet, layout: Layout) -> Rows:
    width = len(layout.headings)
    for n, values in sheet.rows():
        if len(values) != width:
            yield n, RowFormatError(n, "-", f"has {len(values)} cells where the headings name {width}")
            continue
        yield n, {f: v for f, v in zip(layout.fields, values, strict=True) if f is not None}


def _read_csv(path: Path, layout: Layout) -> Rows:
    header = layout.headings
    # The row's dict built in C (zip, dict) and `plain` applied only to the cells that need it (a leading
    # quote is rare): a registry has ~40 columns, and this ran a Python step per cell (issue 19).
    fields = layout.fields
    every = None not in fields
    quoted = methodcaller("startswith", "'")
    with path.open(encoding="utf-8-sig", newline="") as f:
        # strict: a stray or unclosed quote is an error, not a field that swallows the rest of the file.
        reader = csv.reader(f, strict=True)
        next(reader)  # the headings, read by headings_of
        line = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                start, line = line + 1, reader.line_num
                reason = (
                    'a quoted field is never closed (a " is missing)'
                    if "unexpected end of data" in str(e)
                    else f"is not valid CSV ({e})"
                )
                yield start, RowFormatError(start, "-", reason)
                continue
            start, line = line + 1, reader.line_num
            joined = "".join(values)
            if not joined.strip():  # only blanks (one C pass, not a step a cell)
                continue
            if len(values) != len(header):
                yield (
                    start,
                    RowFormatError(
                        start, "-", f"has {len(values)} fields where the header names {len(header)}"
                    ),
                )
                continue
            if every:
                row = dict(zip(fields, values, strict=True))
            else:
                row = {f: v for f, v in zip(fields, values, strict=True) if f is not None}
            if "'" in joined and any(map(quoted, values)):  # no quote at all: no cell starts with one
                row = {f: plain(v) for f, v in row.items()}
            yield start, row


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowFormatError]]:
    known = set(COLUMNS)
    with path.open(encoding="utf-8-sig") as f:
        for n, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                obj = loads_bounded(text)
            except TooDeep as e:
                yield n, RowFormatError(n, e.key or "-", str(e))
                continue
            except json.JSONDecodeError as e:
                yield n, RowFormatError(n, "-", f"is not JSON: {e.msg} at character {e.colno}")
                continue
            except ValueError as e:  # json's other refusals: an integer of more than 4300 digits
                yield n, RowFormatError(n, "-", f"is not JSON: {e}")
                continue
            if not isinstance(obj, dict):
                yield n, RowFormatError(n, "-", "is not a JSON object")
                continue
            unknown = sorted(set(obj) - known)
            if unknown:
                # The names are quoted in the reason: a name that is not text is described, not echoed.
                bad = next((u for u in unknown if describe(u)), None)
                if bad is not None:
                    yield n, RowFormatError(n, "-", f"a column's name {describe(bad)}")
                    continue
                yield n, RowFormatError(n, unknown[0], f"unknown column(s): {', '.join(unknown)}")
                continue
            yield n, obj


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, out: io.TextIOBase) -> int:
    n = 0
    if fmt == "csv":
        # RFC 4180 line ends: the writer then quotes a value holding a lone carriage return too.
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            flat = dict(row)
            flat["alternate_names"] = "|".join(row.get("alternate_names") or [])
            flat["events"] = json.dumps(row["events"], ensure_ascii=False) if row.get("events") else ""
            writer.writerow({k: _csv_value(v) for k, v in flat.items()})
            n += 1
    else:
        for row in rows:
            out.write(
                json.dumps({k: v for k, v in row.items() if v not in (None, [], "")}, ensure_ascii=False)
                + "\n"
            )
            n += 1
    return n


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    return neutralised(v) if isinstance(v, str) else v
