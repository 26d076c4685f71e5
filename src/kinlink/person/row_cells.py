"""Each cell's own check, a function of the cell alone (`*_cell`) returning its value and its problems.

`kinlink.person.rows` runs them over a row (in the order its errors are reported, then the rules across
cells), and `kinlink.person.chunk` over a chunk's columns, once per distinct value.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kinlink.person.fields import (
    _NOT_IN_NAMES,
    ALTERNATE_SEP,
    FALSE_WORDS,
    HEALTH_STATES,
    LANGUAGE_TAG,
    MAX_AGE,
    RECORD_ID_MAX,
    SEX_WORDS,
    TEXT_COLUMNS,
    TRUE_WORDS,
    EventIn,
    _text,
    name_problem_message,
)
from kinlink.person.history import SHORT_EVENTS, read_date, read_events, short_events
from kinlink.person.partial_dates import DateError, parse_partial_date
from kinlink.person.status import EVENT_KINDS, event_kind_for_status
from kinlink.person.text import message_id

Problem = tuple[str, str, tuple[tuple[str, Any], ...]]  # column, reason, its values (sorted by name)
Problems = tuple[Problem, ...]
NONE: Problems = ()

NAME_COLUMNS = ("full_name", "family_name", "given_names", "patronymic")
OTHER_NAME_COLUMNS = ("father_name", "mother_maiden_name", "inform_name")


def _problem(column: str, reason: str, **values: Any) -> Problem:
    return column, reason, tuple(sorted(values.items()))


# --- each cell on its own ---------------------------------------------------------------------


def record_id_cell(value: Any) -> tuple[str | None, Problems]:
    s = _text(value)
    if s is None:
        return None, (
            _problem("record_id", message_id("is required (the registrar's own id of this record)")),
        )
    if len(s) > RECORD_ID_MAX:
        return s, (_problem("record_id", message_id("is longer than %(n)s characters"), n=RECORD_ID_MAX),)
    return s, NONE


def text_cell(column: str, value: Any) -> tuple[str | None, Problems]:
    if value is None or value == "":
        return None, NONE
    s = _text(value)
    limit = TEXT_COLUMNS[column][1]
    if s is not None and len(s) > limit:
        return s, (_problem(column, message_id("is longer than %(n)s characters"), n=limit),)
    return s, NONE


def name_cell(column: str, name: str) -> Problems:
    """A name's own problems (full_name and its parts, when the row gives a name)."""
    found = name_problem_message(name)
    return (_problem(column, found[0], **found[1]),) if found else NONE


def other_name_cell(column: str, name: str) -> Problems:
    """Names of others (father, mother, the person to inform): only markup is refused."""
    if not any(ch in _NOT_IN_NAMES for ch in name):
        return NONE
    message, values = name_problem_message(name) or (message_id("is not a name"), {})
    return (_problem(column, message, **values),)


def alternates_cell(value: Any) -> tuple[list[str], Problems]:
    if value is None or value == "":
        return [], NONE
    items = value if isinstance(value, list) else str(value).split(ALTERNATE_SEP)
    names, problems = [], []
    for item in items:
        s = _text(item)
        if s is None:
            continue
        found = name_problem_message(s)
        if found:
            problems.append(_problem("alternate_names", found[0], **found[1]))
        elif len(s) > TEXT_COLUMNS["full_name"][1]:
            problems.append(_problem("alternate_names", message_id("a name is longer than 400 characters")))
        else:
            names.append(s)
    return names, tuple(problems)


def sex_cell(value: Any) -> tuple[str | None, Problems]:
    raw = _text(value)
    if raw is None:
        return None, NONE
    sex = SEX_WORDS.get(raw.lower())
    if sex is None and raw.lower() not in {"u", "unknown", "?"}:
        return None, (
            _problem(
                "sex", message_id("'%(value)s' is not a sex; write m or f (or leave it empty)"), value=raw
            ),
        )
    return sex, NONE


def date_cell(column: str, value: Any, today: date) -> tuple[str | None, Problems]:
    """A partial date (birth_date, age_as_of, status_date): not in the future."""
    s = _text(value)
    if s is None:
        return None, NONE
    iso, problem = read_date(s, today)
    return iso, (_problem(column, problem[0], **problem[1]),) if problem is not None else NONE


def age_cell(value: Any) -> tuple[int | None, Problems]:
    raw = _text(value)
    if raw is None:
        return None, NONE
    try:
        age = int(raw)
        if not 0 <= age <= MAX_AGE:
            raise ValueError
    except ValueError:
        message = message_id("'%(value)s' is not an age in years (0 to %(n)s)")
        return None, (_problem("age", message, value=raw, n=MAX_AGE),)
    return age, NONE


def consent_cell(column: str, raw: Any) -> tuple[bool, Problems]:
    if isinstance(raw, bool):
        return raw, NONE
    s = (_text(raw) or "").lower()
    if s in TRUE_WORDS:
        return True, NONE
    if s in FALSE_WORDS:
        return False, NONE
    return False, (_problem(column, message_id("'%(value)s' is not yes or no"), value=raw),)


def status_cell(value: Any) -> tuple[str | None, Problems]:
    """The kind of event a status records; (None, no problem) when there is none."""
    raw = _text(value)
    if raw is None:
        return None, NONE
    kind = event_kind_for_status(raw)
    if kind is None:
        message = message_id("unknown status '%(value)s'; known: %(known)s")
        return None, (_problem("status", message, value=raw, known=", ".join(EVENT_KINDS)),)
    return kind, NONE


def events_cell(value: Any, today: date) -> tuple[tuple[EventIn, ...], Problems]:
    if isinstance(value, str) and 0 < len(value) <= SHORT_EVENTS:
        found, problems = short_events(value, today)
        if not problems:  # nearly always
            return found, NONE
        return found, tuple(_problem(c, reason, **values) for c, reason, values in problems)
    collected: list[Problem] = []

    def err(column: str, reason: str, **values: Any) -> None:
        collected.append(_problem(column, reason, **values))

    def partial(column: str, value: Any) -> str | None:
        iso, problems = date_cell(column, value, today)
        collected.extend(problems)
        return iso

    return tuple(read_events(value, err, partial)), tuple(collected)


def language_cell(text: str | None) -> tuple[str | None, Problems]:
    """The language column's text (already a checked text cell), as a lower-case tag."""
    language = text.lower() if text else None
    if language is not None and not LANGUAGE_TAG.match(language):
        return language, (_problem("language", f"'{text}' is not a language code (such as ru, uk, ro, en)"),)
    return language, NONE


def health_cell(value: Any) -> tuple[str | None, Problems]:
    raw = _text(value)
    if raw is None:
        return None, NONE
    health_state = "_".join(raw.lower().replace("-", " ").split())
    if health_state not in HEALTH_STATES:
        reason = f"'{raw}' is not a state of health; known: {', '.join(HEALTH_STATES)}"
        return health_state, (_problem("health_state", reason),)
    return health_state, NONE


def expiry_cell(value: Any) -> tuple[str | None, Problems]:
    raw = _text(value)
    if raw is None:
        return None, NONE
    try:
        return parse_partial_date(raw, allow_future=True).iso(), NONE
    except DateError as e:
        return None, (_problem("expiry_date", e.message, **e.values),)
