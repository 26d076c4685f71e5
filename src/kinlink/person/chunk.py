"""A chunk of a registrar's rows checked column by column: each row's record as a tuple, no object a row.

`kinlink.person.rows` checks a row the fast way (each cell once per distinct value of its column) and builds
its `RecordIn`; at 100,000 rows that per-row walk of the cells and the record's assembly were a third of an
import's CPU (issue 19). Here the same cell functions and the same caches run over a whole column of a chunk
at once (each distinct value looked up once, the column's values then mapped in C), the rules across cells
run over the chunk's columns, and a record is a tuple of `RecordIn`'s fields (`RECORD_FIELDS`) zipped from
them.

Only what the fast way accepts is accepted: a row that the column check refuses, or is not sure of, comes as
None, and the caller checks it with `validate_row`, which reports every problem (or accepts it the full way,
as before). A tuple is always what `validate_row` gives for that row (`record_tuple` of it): a test holds
the two to each other.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from datetime import date
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

from kinlink.person.fields import RECORD_ID_MAX, TEXT_COLUMNS, RecordIn
from kinlink.person.row_cells import NAME_COLUMNS, NONE, OTHER_NAME_COLUMNS
from kinlink.person.rows import (
    _CACHE_BOUND,
    _CELLS,
    _GIVEN_PARTS,
    _by_day,
    _caches_of,
    _merged,
    _status_event,
)
from kinlink.person.text import plain_text

Record = tuple[Any, ...]  # a record's fields in the order of RECORD_FIELDS

RECORD_FIELDS = tuple(f.name for f in fields(RecordIn))
FIELD_INDEX = {name: i for i, name in enumerate(RECORD_FIELDS)}
_DEFAULTS = {f.name: None if f.default is MISSING else f.default for f in fields(RecordIn)}
_record_values = attrgetter(*RECORD_FIELDS)
_VALUE, _PROBLEMS = itemgetter(0), itemgetter(1)  # of a cell's (checked value, problems)
# Columns the fast way reads into no field of their own: the status's event and the histories, the
# alternates (a list on the record).
_POPPED = ("status", "status_date", "place", "events", "alternate_names")
assert all(c in FIELD_INDEX or c in _POPPED for c in _CELLS)
_TEXT_TYPES = frozenset({str, type(None)})
_DICT = frozenset({dict})
# What an empty cell leaves: the field's default (None for the columns read into no field of their own).
_EMPTY = {c: _DEFAULTS.get(c) if c in FIELD_INDEX and c not in _POPPED else None for c in _CELLS}
_NAMES_AND_LANGUAGE = {*NAME_COLUMNS, *OTHER_NAME_COLUMNS, "language"}
# Columns whose check is `text_cell`'s alone (or the record id's, its like), by their length limits.
_PLAIN_LIMITS = {
    **{c: limit for c, (_meaning, limit) in TEXT_COLUMNS.items() if c not in _NAMES_AND_LANGUAGE},
    "record_id": RECORD_ID_MAX,
}


def record_tuple(rec: RecordIn) -> Record:
    """A record's fields as the tuple the column check gives (alternates and events as tuples)."""
    values = list(_record_values(rec))
    values[_ALTERNATES] = tuple(values[_ALTERNATES])
    values[_EVENTS] = tuple(values[_EVENTS])
    return tuple(values)


def record_of(values: Record) -> RecordIn:
    """The `RecordIn` of a record's tuple (for the rare row that updates a record, and for callers that
    want records)."""
    rec = dict(zip(RECORD_FIELDS, values, strict=True))
    rec["alternate_names"] = list(rec["alternate_names"])
    rec["events"] = list(rec["events"])
    return RecordIn.checked(rec)


_ALTERNATES = FIELD_INDEX["alternate_names"]
_EVENTS = FIELD_INDEX["events"]


def row_columns(batch: list[Any]) -> dict[str, tuple[Any, ...]] | None:
    """A batch's columns (each one's cells by row) when its rows are dicts with the same columns in the same
    order (a CSV's or a spreadsheet's); else None. The import takes them once for a batch's hashes and its
    check (issue 19)."""
    if not batch:
        return None
    keys = tuple(batch[0])
    if not _DICT.issuperset(map(type, batch)) or not all(map(keys.__eq__, map(tuple, batch))):
        return None
    return dict(zip(keys, zip(*map(dict.values, batch), strict=True), strict=True))


def fast_records(
    batch: list[Any], today: date, columns: dict[str, tuple[Any, ...]] | None = None
) -> list[Record | None]:
    """Each row's record (a tuple of RECORD_FIELDS), or None where the full check must decide.

    The rows are dicts with the same columns in the same order (a CSV's or a spreadsheet's): else every
    row comes as None. columns: the batch's `row_columns`, when the caller has them."""
    return records_of(len(batch), fast_columns(batch, today, columns))


def records_of(n: int, found: tuple[list[list[Any]], set[int]] | None) -> list[Record | None]:
    """The records of n rows' `fast_columns`, each a tuple (None where the full check must decide)."""
    if found is None:
        return [None] * n
    records: list[Record | None] = list(zip(*found[0], strict=True))
    for i in found[1]:
        records[i] = None
    return records


def fast_columns(
    batch: list[Any], today: date, columns: dict[str, tuple[Any, ...]] | None = None
) -> tuple[list[list[Any]], set[int]] | None:
    """`fast_records` by column: each of RECORD_FIELDS's columns, and the rows the full check must decide
    (their places in the columns hold nothing to use); None where every row must (and for no rows)."""
    n = len(batch)
    if not n:
        return None
    if columns is None:
        columns = row_columns(batch)
        if columns is None:
            return None
    bad: set[int] = set()
    caches = _by_day.get(today) or _caches_of(today)
    checked: dict[str, list[Any]] = {}
    for col, values in columns.items():
        empty = _EMPTY.get(col)  # what an empty cell leaves in the field: its default
        if values.count("") == n:  # a column the file leaves empty (most of a registry's): one C pass
            checked[col] = [empty] * n
            continue
        if not _TEXT_TYPES.issuperset(map(type, values)):
            return None  # JSON values (lists, numbers, booleans): the full way, a row at a time
        plain = _plain_column(col, values, caches)
        if plain is not None:
            checked[col] = plain
            continue
        filled = list(dict.fromkeys(filter(None, values)))  # the distinct non-empty cells
        if not filled:
            checked[col] = [empty] * n
            continue
        check = _CELLS.get(col)
        skipped: set[str] = set()
        if check is None or not plain_text("".join(filled)):
            # A column the fast way does not read (age, age_as_of), or text that a row's check refuses: the
            # rows that fill it with such a cell go the full way, and the cell is not checked here.
            skipped = set(filled) if check is None else {v for v in filled if not plain_text(v)}
            bad.update(i for i, v in enumerate(values) if v in skipped)
            if check is None:
                continue
            filled = [v for v in filled if v not in skipped]
        hits = _hits(col, check, filled, caches.get(col), today)
        if any(map(_PROBLEMS, hits.values())):  # rare: looked for in C first
            wrong = {v for v, hit in hits.items() if hit[1]}
            bad.update(i for i, v in enumerate(values) if v in wrong)
        value_of: dict[Any, Any] = dict(zip(hits, map(_VALUE, hits.values()), strict=True))
        value_of[""] = value_of[None] = empty
        value_of.update(dict.fromkeys(skipped, empty))  # their rows are refused already
        checked[col] = list(map(value_of.__getitem__, values))
    return _assembled(n, checked, bad)


def _plain_column(col: str, values: tuple[Any, ...], caches: dict[str, Any]) -> list[str] | None:
    """A column of distinct texts (the record id, a service number) filled in every row, whose cells are all
    fine: its cells stripped, as `_hits` gives them, without a dict of its distinct values; else None."""
    limit = _PLAIN_LIMITS.get(col)
    if limit is None or col in caches or None in values or "" in values or not plain_text("".join(values)):
        return None
    stripped = list(map(str.strip, values))
    if max(map(len, stripped)) > limit or not all(stripped):
        return None
    return stripped


def _hits(
    col: str, check: Any, filled: list[str], cache: dict[str, Any] | None, today: date
) -> dict[str, tuple[Any, Any]]:
    """(checked value, problems) of each distinct cell of a column: from the column's cache, else checked."""
    limit = _PLAIN_LIMITS.get(col)
    if limit is not None and cache is None and filled:
        # A column of distinct texts (a service number): `text_cell` of the whole column at once, when no
        # cell is too long (or, for the record id, empty once stripped).
        stripped = list(map(str.strip, filled))
        if max(map(len, stripped)) <= limit and (col != "record_id" or all(stripped)):
            return dict(zip(filled, zip([s or None for s in stripped], repeat(NONE)), strict=True))
    if cache is None:
        return {v: check(v, today) for v in filled}
    hits = dict(zip(filled, map(cache.get, filled), strict=True))  # the cached ones looked up in C
    if None not in hits.values():
        return hits
    for v, hit in hits.items():
        if hit is None:
            hit = check(v, today)
            if len(cache) >= _CACHE_BOUND:
                cache.clear()
            cache[v] = hits[v] = hit
    return hits


def _assembled(n: int, checked: dict[str, list[Any]], bad: set[int]) -> tuple[list[list[Any]], set[int]]:
    """The rules across cells, over the chunk's columns (the rows they refuse added to `bad`), and the
    records' columns."""
    nothing = [None] * n
    record_ids = checked.get("record_id", nothing)
    if None in record_ids:
        bad.update(i for i, v in enumerate(record_ids) if v is None)
    kinds, dates, places = (checked.get(c, nothing) for c in ("status", "status_date", "place"))
    histories = checked.get("events", nothing)
    if kinds.count(None) and (dates.count(None) < n or places.count(None) < n):
        # status_date or place without a status
        bad.update(
            i
            for i, (k, d, p) in enumerate(zip(kinds, dates, places, strict=True))
            if k is None and (d is not None or p is not None)
        )
    full = checked.get("full_name", nothing)
    if full.count(None):
        # The name from its parts where the row gives none: joined in C, a row's parts at a time.
        columns = [checked.get(c, nothing) for c in _GIVEN_PARTS]
        parts = zip(*columns, strict=True)
        if any(None in c for c in columns):
            joined = map(" ".join, map(filter, repeat(None), parts))
        else:
            joined = map(" ".join, parts)  # every part given: nothing to leave out
        every = full.count(None) == n  # no row gives a full name of its own
        names = list(joined) if every else [f or j for f, j in zip(full, joined, strict=True)]
        if "" in names:
            bad.update(i for i, name in enumerate(names) if not name)
    else:
        names = list(full)
    # A row's events: its status's, then its history's, each once; worked out once per distinct status and
    # history of the chunk (histories by identity: each is a cached object that the chunk's column holds).
    keys = list(zip(kinds, dates, places, map(id, histories), strict=True))
    merged = {}
    for key, i in dict(zip(keys, range(n), strict=True)).items():  # a row of each distinct key: its history
        history = histories[i]
        hit = _events_by_key.get(key)
        if hit is None or hit[0] is not history:
            if len(_events_by_key) >= _CACHE_BOUND:
                _events_by_key.clear()
            hit = _events_by_key[key] = (history, _events(*key[:3], history))
        merged[key] = hit[1]
    events = list(map(merged.__getitem__, keys))

    out: list[list[Any]] = []
    for name in RECORD_FIELDS:
        if name == "full_name":
            out.append(names)
        elif name == "events":
            out.append(events)
        elif name == "alternate_names":
            alternates = checked.get(name, nothing)
            out.append([()] * n if alternates.count(None) == n else [a or () for a in alternates])
        else:
            out.append(checked.get(name) or [_DEFAULTS[name]] * n)
    return out, bad


# A row's events by its status's kind, date and place and its history's id, across chunks: an entry holds the
# history, so its id is not reused while the entry lives (and a hit is held to it).
_events_by_key: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] = {}


def _events(kind: str | None, when: str | None, place: str | None, history: Any) -> tuple[Any, ...]:
    """A row's events: its status's, then its history's, each once (as `kinlink.person.rows` merges them)."""
    status = _status_event(kind, when, place) if kind is not None else None
    if history:
        return _merged(status, history)
    return (status,) if status is not None else ()
