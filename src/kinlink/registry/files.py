"""Reading and writing registrar files: CSV (UTF-8, any script) and JSON Lines."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kinlink.cells import neutralised, plain
from kinlink.person.fields import COLUMNS
from kinlink.person.text import TooDeep, describe, loads_bounded

FORMATS = ("csv", "jsonl")


class FileFormatError(ValueError):
    """The file as a whole cannot be read (wrong format, bad header, not UTF-8)."""


class RowFormatError(ValueError):
    """One line cannot be read as a row (broken JSON); the import reports it with the others."""

    def __init__(self, line: int, column: str, reason: str) -> None:
        super().__init__(reason)
        self.line, self.column, self.reason = line, column, reason


def detect_format(path: Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise FileFormatError(f"format '{explicit}' is not one of {', '.join(FORMATS)}")
        return explicit
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise FileFormatError(
        f"cannot tell the format of '{path.name}': name it .csv or .jsonl, or pass --format"
    )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any] | RowFormatError]]:
    """(line number, row) pairs; a row that cannot be read comes as a RowFormatError in its place."""
    try:
        if fmt == "csv":
            yield from _read_csv(path)
        else:
            yield from _read_jsonl(path)
    except UnicodeDecodeError as e:
        raise FileFormatError(
            f"the file is not UTF-8 (byte {e.start} of a block cannot be decoded)"
        ) from None


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowFormatError]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        # strict: a stray or unclosed quote is an error, not a field that swallows the rest of the file.
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise FileFormatError("the file is empty: a header line naming the columns is expected") from None
        except csv.Error as e:
            raise FileFormatError(f"line 1: the header is not valid CSV ({e})") from None
        header = [h.strip() for h in header]
        _check_header(header)
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
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                yield (
                    start,
                    RowFormatError(
                        start, "-", f"has {len(values)} fields where the header names {len(header)}"
                    ),
                )
                continue
            yield start, dict(zip(header, (plain(v) for v in values), strict=True))


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise FileFormatError(f"line 1: column '{name}' appears twice in the header")
        seen.add(name)
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise FileFormatError(
            f"line 1: unknown column(s) {', '.join(repr(u) for u in unknown)}; "
            f"known columns are: {', '.join(COLUMNS)}"
        )
    if "record_id" not in seen:
        raise FileFormatError("line 1: the header has no 'record_id' column (the registrar's own id)")


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
