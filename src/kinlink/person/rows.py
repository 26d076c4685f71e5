"""The checks that turn a registrar's row into a record: each cell's own, then those across cells.

Pure: a row (a dict of strings or JSON values) goes in, a `RecordIn` or a list of `RowError` comes out.

Each cell's rules are one function of the cell alone (`*_cell`, in `kinlink.person.row_cells`), returning
its value and its problems; the full check (`check_row`) runs them in the order its errors are reported,
then the rules across cells. A registry's cells repeat (dates, units, ranks, given names), so an import
first tries `validate_row`'s fast way: the same cell functions, once per distinct value of a column, and
the row's rules for a clean row; a row with any problem (or a rare shape: an age, JSON values) goes the
full way, which reports every problem (issue 19).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Any

from kinlink.person.fields import (
    CONSENT_COLUMNS,
    MULTILINE_COLUMNS,
    TEXT_COLUMNS,
    EventIn,
    RecordIn,
    RowError,
    _has_letter,
    _text,
)
from kinlink.person.partial_dates import birth_year_range
from kinlink.person.row_cells import (
    NAME_COLUMNS,
    OTHER_NAME_COLUMNS,
    Problem,
    Problems,
    _problem,
    age_cell,
    alternates_cell,
    consent_cell,
    date_cell,
    events_cell,
    expiry_cell,
    health_cell,
    language_cell,
    name_cell,
    other_name_cell,
    record_id_cell,
    sex_cell,
    status_cell,
    text_cell,
)
from kinlink.person.text import message_id, plain_text, plain_texts, text_problem

# --- the whole row ----------------------------------------------------------------------------


def validate_row(row: dict[str, Any], line: int, *, today: date | None = None) -> RecordIn | list[RowError]:
    """Check one row; every problem is reported, not just the first. A clean row of text is checked the
    fast way (its cells once per distinct value); the result is the same as `check_row`'s."""
    today = today or date.today()
    found = _fast_record(row, today)
    return found if found is not None else check_row(row, line, today=today)


def check_row(row: dict[str, Any], line: int, *, today: date | None = None) -> RecordIn | list[RowError]:
    """Check one row, every cell and every rule, reporting every problem in the order of the row's rules."""
    problems: list[Problem] = []
    add = problems.extend
    today = today or date.today()

    # Text that is not text is reported and then left out, so that no later check walks it (a value nested
    # 50,000 deep would end str() in RecursionError).
    if not plain_texts(row.values()):  # else nothing to refuse in any column (the common case, cheaply)
        clean = {}
        for column, value in row.items():
            found = text_problem(value, multiline=column in MULTILINE_COLUMNS)
            if found:
                problems.append(_problem(str(column), found[0], **found[1]))
            else:
                clean[column] = value
        row = clean
    get = row.get

    record_id, found = record_id_cell(get("record_id"))
    add(found)
    texts: dict[str, str | None] = {}
    for col in TEXT_COLUMNS:
        texts[col], found = text_cell(col, get(col))
        add(found)

    name_parts = [texts[c] for c in NAME_COLUMNS[1:] if texts[c]]
    full_name = texts["full_name"] or (" ".join(p for p in name_parts if p) if name_parts else None)
    if full_name is None:
        problems.append(
            _problem("full_name", message_id("no name: give full_name, or family_name and/or given_names"))
        )
    else:
        for col in NAME_COLUMNS:
            if texts[col] is not None:
                add(name_cell(col, texts[col] or ""))
        if texts["full_name"] is None and not _has_letter(full_name):
            problems.append(_problem("full_name", message_id("the name has no letters")))
    for col in OTHER_NAME_COLUMNS:
        if texts[col] is not None:
            add(other_name_cell(col, texts[col] or ""))

    alternates, found = alternates_cell(get("alternate_names"))
    add(found)
    sex, found = sex_cell(get("sex"))
    add(found)
    birth_date, found = date_cell("birth_date", get("birth_date"), today)
    add(found)
    age_as_of, found = date_cell("age_as_of", get("age_as_of"), today)
    add(found)
    age, found = age_cell(get("age"))
    add(found)
    if age is not None and age_as_of is None and _text(get("age_as_of")) is None:
        problems.append(_problem("age_as_of", message_id("an age needs the date it was stated (age_as_of)")))
    if birth_date and age is not None and age_as_of:
        lo, hi = birth_year_range(None, age, age_as_of) or (0, 9999)
        if not lo <= int(birth_date[:4]) <= hi:
            message = message_id("age %(age)s on %(as_of)s does not fit birth_date %(birth)s")
            problems.append(_problem("age", message, age=age, as_of=age_as_of, birth=birth_date))

    consents = {}
    for col in CONSENT_COLUMNS:
        consents[col], found = consent_cell(col, get(col))
        add(found)

    events: list[EventIn] = []
    kind, status_problems = status_cell(get("status"))
    status_date, found = date_cell("status_date", get("status_date"), today)
    add(found)
    if kind is not None:
        events.append(EventIn(kind, status_date, texts["place"]))
    elif not status_problems and (status_date is not None or texts["place"] is not None):
        problems.append(_problem("status", message_id("status_date or place is given without a status")))
    add(status_problems)
    history, found = events_cell(get("events"), today)
    add(found)
    events.extend(history)

    language, found = language_cell(texts["language"])
    add(found)
    health_state, found = health_cell(get("health_state"))
    add(found)
    expiry_date, found = expiry_cell(get("expiry_date"))
    add(found)

    if problems:
        return [RowError(line, *p) for p in problems]
    assert record_id is not None and full_name is not None
    return RecordIn(
        record_id=record_id,
        full_name=full_name,
        family_name=texts["family_name"],
        given_names=texts["given_names"],
        patronymic=texts["patronymic"],
        name_language=texts["name_language"],
        alternate_names=alternates,
        sex=sex,
        birth_date=birth_date,
        age=age,
        age_as_of=age_as_of,
        place_of_birth=texts["place_of_birth"],
        nationality=texts["nationality"],
        power=texts["power"],
        rank=texts["rank"],
        unit=texts["unit"],
        service_number=texts["service_number"],
        father_name=texts["father_name"],
        mother_maiden_name=texts["mother_maiden_name"],
        inform_name=texts["inform_name"],
        inform_address=texts["inform_address"],
        distinguishing_marks=texts["distinguishing_marks"],
        location=texts["location"],
        residence=texts["residence"],
        language=language,
        occupation=texts["occupation"],
        detaining_power=texts["detaining_power"],
        detainee_number=texts["detainee_number"],
        health_state=health_state,
        notes=texts["notes"],
        expiry_date=expiry_date,
        events=list({e.key(): e for e in events}.values()),
        **consents,
    )


# --- the fast way: a clean row of text, its cells once per distinct value ----------------------

Cell = Callable[[str, date], tuple[Any, Problems]]


def _text_only(column: str) -> Cell:
    return lambda value, _today: text_cell(column, value)


def _name(column: str) -> Cell:
    def check(value: str, _today: date) -> tuple[Any, Problems]:
        s, problems = text_cell(column, value)
        return s, problems + name_cell(column, s) if s is not None else problems

    return check


def _other_name(column: str) -> Cell:
    def check(value: str, _today: date) -> tuple[Any, Problems]:
        s, problems = text_cell(column, value)
        return s, problems + other_name_cell(column, s) if s is not None else problems

    return check


def _language(value: str, _today: date) -> tuple[Any, Problems]:
    s, problems = text_cell("language", value)
    language, found = language_cell(s)
    return language, problems + found


def _alternates(value: str, _today: date) -> tuple[Any, Problems]:
    names, problems = alternates_cell(value)
    return tuple(names), problems  # a tuple: a cached value is shared


def _consent(column: str) -> Cell:
    return lambda value, _today: consent_cell(column, value)


def _date(column: str) -> Cell:
    return lambda value, today: date_cell(column, value, today)


# Each column the fast way reads (age and age_as_of, rare and checked together, go the full way).
_CELLS: dict[str, Cell] = {
    **{c: _text_only(c) for c in TEXT_COLUMNS},
    **{c: _name(c) for c in NAME_COLUMNS},
    **{c: _other_name(c) for c in OTHER_NAME_COLUMNS},
    **{c: _consent(c) for c in CONSENT_COLUMNS},
    "language": _language,
    "record_id": lambda value, _today: record_id_cell(value),
    "alternate_names": _alternates,
    "sex": lambda value, _today: sex_cell(value),
    "birth_date": _date("birth_date"),
    "status_date": _date("status_date"),
    "status": lambda value, _today: status_cell(value),
    "events": events_cell,
    "health_state": lambda value, _today: health_cell(value),
    "expiry_date": lambda value, _today: expiry_cell(value),
}
# Columns whose values are nearly all distinct are checked each time (a cache would only grow).
_DISTINCT = frozenset(
    {
        "record_id",
        "full_name",
        "alternate_names",
        "service_number",
        "detainee_number",
        "inform_name",
        "inform_address",
        "distinguishing_marks",
        "notes",
        "events",  # short histories have a cache of their own (kinlink.person.history)
    }
)
# Per column, the distinct values seen (value -> (checked value, problems)); emptied when full (a few MiB at
# most), and new for each day (dates are checked against today).
_CACHE_BOUND = 1 << 15
Caches = dict[str, dict[str, tuple[Any, Problems]]]
_by_day: dict[date, Caches] = {}


def _caches_of(today: date) -> Caches:
    """The caches of the day's checks: a new day (or another `today`) starts afresh, and a check still
    running for the other day keeps its own."""
    caches = _by_day.get(today)
    if caches is None:
        caches = {c: {} for c in _CELLS if c not in _DISTINCT}
        _by_day.clear()
        _by_day[today] = caches
    return caches


_TEXT_TYPES = frozenset({str, type(None)})
_FILLED = itemgetter(1)


def _fast_record(row: dict[str, Any], today: date) -> RecordIn | None:
    """The record of a row of plain text whose every cell passes, or None: then the full check decides."""
    if not _TEXT_TYPES.issuperset(map(type, row.values())):
        return None  # JSON values (lists, numbers, booleans): the full way
    cells = dict(filter(_FILLED, row.items()))  # the non-empty cells: an empty one means nothing
    if not plain_text("".join(cells.values())):
        return None
    caches = _by_day.get(today) or _caches_of(today)
    out: dict[str, Any] = {}
    for col, value in cells.items():
        cache = caches.get(col)
        if cache is None:
            check = _CELLS.get(col)
            if check is None:
                return None
            hit = check(value, today)
        else:
            hit = cache.get(value)
            if hit is None:
                hit = _CELLS[col](value, today)
                if len(cache) >= _CACHE_BOUND:
                    cache.clear()
                cache[value] = hit
        if hit[1]:
            return None
        out[col] = hit[0]
    # The rules across cells; a row that breaks one goes the full way, which reports it.
    record_id = out.get("record_id")
    if record_id is None:
        return None
    pop = out.pop
    kind, status_date, place = pop("status", None), pop("status_date", None), pop("place", None)
    history, alternates = pop("events", None), pop("alternate_names", None)
    if kind is None and (status_date is not None or place is not None):
        return None
    name = out.get("full_name") or " ".join(filter(None, map(out.get, _GIVEN_PARTS)))
    if not name:
        return None
    out["full_name"] = name
    out["alternate_names"] = list(alternates or ())
    status = _status_event(kind, status_date, place) if kind is not None else None
    if history:
        out["events"] = list(_merged(status, history))
    else:
        out["events"] = [status] if status is not None else []
    return RecordIn.checked(out)


_GIVEN_PARTS = NAME_COLUMNS[1:]
_Merged = tuple[EventIn | None, tuple[EventIn, ...], tuple[EventIn, ...]]
_merged_by_id: dict[tuple[int, int], _Merged] = {}


def _merged(status: EventIn | None, history: tuple[EventIn, ...]) -> tuple[EventIn, ...]:
    """The status's event and the history's, each event once (by its key): once per distinct pair.

    Both come from caches (`_status_event`, `kinlink.person.history.short_events`), so rows share the same
    objects: the pair is looked up by identity, which costs no hashing of events (a row's events were a
    sixth of its check, issue 19). An entry holds its objects, so their ids are not reused while it lives.
    """
    key = (id(status), id(history))
    hit = _merged_by_id.get(key)
    if hit is not None and hit[0] is status and hit[1] is history:
        return hit[2]
    events = (status, *history) if status is not None else history
    merged = tuple({e.key(): e for e in events}.values())
    if len(_merged_by_id) >= _CACHE_BOUND:
        _merged_by_id.clear()
    _merged_by_id[key] = (status, history, merged)
    return merged


@lru_cache(maxsize=1 << 14)
def _status_event(kind: str, when: str | None, place: str | None) -> EventIn:
    """The event of a row's status, once per distinct one (an EventIn is frozen: records share it)."""
    return EventIn(kind, when, place)
