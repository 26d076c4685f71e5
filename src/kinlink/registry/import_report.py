"""What an import reports: counts, the ids it wrote, and each problem of a list where a registrar finds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kinlink.person.fields import RowError
from kinlink.registry.files import Layout

Progress = Callable[[int], None]


@dataclass
class ImportReport:
    file: str
    source: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: int = 0  # rows of records erased before: not brought back
    errors: list[str] = field(default_factory=list)
    bad_cells: list[BadCell] = field(default_factory=list)  # the same problems, as data
    written: bool = False
    changed_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # ids, to send after the import
    matched: int = 0  # open requests matched again after the import, for the records it brought

    @property
    def invalid(self) -> int:
        return len({c.row for c in self.bad_cells})


@dataclass(frozen=True)
class BadCell:
    """One problem of a list, where a registrar finds it: the sheet (None for CSV), the row as the file
    numbers it, the column's letter (spreadsheets) and heading as written, the field, and the reason (English
    with %(name)s placeholders, the key of its translations) with its values."""

    sheet: str | None
    row: int
    letter: str | None
    heading: str
    field: str
    reason: str
    values: tuple[tuple[str, Any], ...] = ()

    @property
    def text(self) -> str:
        return self.reason % dict(self.values) if self.values else self.reason

    def render(self, file: str) -> str:
        if self.sheet is None:
            return f"{file}:{self.row}: {self.heading}: {self.text}"
        cell = f"{self.letter}{self.row}" if self.letter else f"row {self.row}"
        return f"{file} [{self.sheet}] {cell} ({self.heading}): {self.text}"


def bad_cell(layout: Layout | None, error: RowError) -> BadCell:
    letter, heading = layout.where(error.column) if layout else (None, error.column)
    return BadCell(
        layout.sheet if layout else None,
        error.line,
        letter,
        heading,
        error.column,
        error.reason,
        error.values,
    )
