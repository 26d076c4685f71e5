"""Spreadsheets as registrars send them, written by real writers: XlsxWriter (typed cells: numbers and
dates as Excel stores them) and odfpy (LibreOffice's format)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, date | datetime):
                    sheet.write_datetime(r, c, value, day)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


def write_ods(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, int | float) and not isinstance(value, bool):
                    cell = TableCell(valuetype="float", value=value)
                elif isinstance(value, date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat())
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text="" if value is None else str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path
