"""Spreadsheet cells that cannot run (OWASP "CSV Injection"), in one place for every writer.

A cell whose first character, or first character after leading whitespace (importers and
spreadsheets strip it), is = + - @ or that begins with a tab or carriage return is read as a formula
by Excel, LibreOffice and Sheets. A leading single quote makes it plain text. A cell that already
begins with a quote gets one more, so that `plain` undoes exactly one and every value round-trips.
"""

from __future__ import annotations

_TRIGGERS = ("=", "+", "-", "@")
_LEADING_SPACE = " \t\r\n\f\v"


def neutralised(value: str) -> str:
    """The cell as written to a CSV or spreadsheet: never a live formula."""
    if value.startswith(("'", "\t", "\r")) or value.lstrip(_LEADING_SPACE).startswith(_TRIGGERS):
        return "'" + value
    return value


def plain(value: str) -> str:
    """The original value of a cell `neutralised` wrote. Safe on import: the importer writes to the
    database, never to a spreadsheet, and every export neutralises again on the way out."""
    return value[1:] if value.startswith("'") else value
