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
from operator import attrgetter
from typing import Any

from kinlink.person.fields import RECORD_ID_MAX, TEXT_COLUMNS, RecordIn
from kinlink.person.rows import (
    _CACHE_BOUND,
    _CELLS,
    _GIVEN_PARTS,
    NAME_COLUMNS,
    NONE,
    OTHER_NAME_COLUMNS,
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
# Columns the fast way reads into no field of their own: the status's event and the histories, the
# alternates (a list on the record).
_POPPED = ("status", "status_date", "place", "events", "alternate_names")
assert all(c in FIELD_INDEX or c in _POPPED for c in _CELLS)
_TEXT_TYPES = frozenset({str, type(None)})
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


def fast_records(batch: list[Any], today: date) -> list[Record | None]:
    """Each row's record (a tuple of RECORD_FIELDS), or None where the full check must decide.

    The rows are dicts with the same columns in the same order (a CSV's or a spreadsheet's): else every
    row comes as None."""
    n = len(batch)
    if not n:
        return []
    keys = tuple(batch[0])
    if not all(type(r) is dict for r in batch) or not all(map(keys.__eq__, map(tuple, batch))):
        return [None] * n
    columns = dict(zip(keys, zip(*map(dict.values, batch), strict=True), strict=True))
    bad: set[int] = set()
    caches = _by_day.get(today) or _caches_of(today)
    checked: dict[str, list[Any]] = {}
    for col, values in columns.items():
        if not _TEXT_TYPES.issuperset(map(type, values)):
            return [None] * n  # JSON values (lists, numbers, booleans): the full way, a row at a time
        empty = _EMPTY.get(col)  # what an empty cell leaves in the field: its default
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
        wrong = {v for v, hit in hits.items() if hit[1]}
        if wrong:
            bad.update(i for i, v in enumerate(values) if v in wrong)
        value_of: dict[Any, Any] = {v: hit[0] for v, hit in hits.items()}
        value_of[""] = value_of[None] = empty
        value_of.update(dict.fromkeys(skipped, empty))  # their rows are refused already
        checked[col] = list(map(value_of.__getitem__, values))
    return _assembled(n, checked, bad)


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
    hits = {}
    for v in filled:
        hit = cache.get(v)
        if hit is None:
            hit = check(v, today)
            if len(cache) >= _CACHE_BOUND:
                cache.clear()
            cache[v] = hit
        hits[v] = hit
    return hits


def _assembled(n: int, checked: dict[str, list[Any]], bad: set[int]) -> list[Record | None]:
    """The rules across cells, over the chunk's columns, and each good row's record."""
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
        parts = zip(*(checked.get(c, nothing) for c in _GIVEN_PARTS), strict=True)
        joined = map(" ".join, map(filter, repeat(None), parts))
        names = [f or j for f, j in zip(full, joined, strict=True)]
        if "" in names:
            bad.update(i for i, name in enumerate(names) if not name)
    else:
        names = list(full)
    # A row's events: its status's, then its history's, each once; worked out once per distinct status and
    # history of the chunk (histories by identity: each is a cached object that the chunk's column holds).
    merged: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    events = []
    for key in zip(kinds, dates, places, map(id, histories), strict=True):
        found = merged.get(key)
        if found is None:
            found = merged[key] = _events(*key[:3], histories[len(events)])
        events.append(found)

    out: list[list[Any]] = []
    for name in RECORD_FIELDS:
        if name == "full_name":
            out.append(names)
        elif name == "events":
            out.append(events)
        elif name == "alternate_names":
            out.append([a or () for a in checked.get(name, nothing)])
        else:
            out.append(checked.get(name) or [_DEFAULTS[name]] * n)
    records: list[Record | None] = list(zip(*out, strict=True))
    for i in bad:
        records[i] = None
    return records


def _events(kind: str | None, when: str | None, place: str | None, history: Any) -> tuple[Any, ...]:
    """A row's events: its status's, then its history's, each once (as `kinlink.person.rows` merges them)."""
    status = _status_event(kind, when, place) if kind is not None else None
    if history:
        return _merged(status, history)
    return (status,) if status is not None else ()
