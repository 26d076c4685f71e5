"""Reading official lists as spreadsheets: XLSX, XLS and ODS, through python-calamine (one reader, in
Rust, for every format; it streams rows and reads 50,000-row sheets in a second or two).

A sheet's first row holds the headings; every row under it is one record. Cells come typed: whole numbers
come back as whole numbers ('1001', never '1001.0'), dates as ISO dates, booleans as booleans; everything
else as text, as the validation of a CSV row expects it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

SHEET_FORMATS = ("xlsx", "xlsm", "xls", "ods")


class SheetError(ValueError):
    """The workbook or the sheet cannot be read."""


def _workbook(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own error types per format; all mean "not readable"
        raise SheetError(f"cannot read '{path.name}' as a spreadsheet ({type(e).__name__})") from None


def sheet_names(path: Path) -> list[str]:
    return list(_workbook(path).sheet_names)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column as spreadsheets name it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_text(value: Any) -> Any:
    """A typed cell as the row validation reads it (text, or a boolean for yes/no cells)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


class Sheet:
    """One sheet of a workbook: its name, its headings with their columns, and its rows numbered as the
    spreadsheet numbers them."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        book = _workbook(path)
        names = list(book.sheet_names)
        if not names:
            raise SheetError(f"'{path.name}' has no sheets")
        if name is None:
            name = names[0]
        elif name not in names:
            raise SheetError(f"'{path.name}' has no sheet '{name}'; its sheets are: {', '.join(names)}")
        self.name = name
        try:
            self._sheet = book.get_sheet_by_name(name)
        except Exception as e:  # as above: a sheet calamine cannot parse
            raise SheetError(f"cannot read sheet '{name}' ({type(e).__name__})") from None
        start = self._sheet.start  # (row, column) of the first cell that holds anything, or None
        self.first_row, self.first_col = (start[0] + 1, start[1]) if start else (1, 0)
        self._rows = iter(self._sheet.iter_rows())
        header = next(self._rows, None)
        if header is None:
            raise SheetError(f"sheet '{name}' is empty: a first row naming the columns is expected")
        self.headings = [str(cell_text(h) or "").strip() for h in header]
        while self.headings and not self.headings[-1]:
            self.headings.pop()

    def letter(self, index: int) -> str:
        return column_letter(self.first_col + index)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) for each row under the headings that holds anything."""
        width = len(self.headings)
        for n, cells in enumerate(self._rows, self.first_row + 1):
            values = [cell_text(c) for c in cells]
            if not any(v not in (None, "") for v in values):
                continue
            extra = [v for v in values[width:] if v not in (None, "")]
            if extra:
                yield n, values  # longer than its headings: reported by the reader
                continue
            yield n, values[:width] + [""] * (width - len(values))
