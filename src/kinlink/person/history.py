"""A row's dated history as registrars write it: a JSON list of {kind, date, place, note, ...}.

Pure. Problems come back as (column, reason, values): the reason is English with %(name)s placeholders (also
the key of its translations), as a row's checks (`kinlink.person.rows`) report them.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any

from kinlink.person.confirmation import LEVELS, parse_level
from kinlink.person.fields import EventIn, _text
from kinlink.person.partial_dates import DateError, parse_partial_date
from kinlink.person.status import event_kind_for_status
from kinlink.person.text import TooDeep, loads_bounded, message_id, text_problem


@lru_cache(maxsize=65536)
def read_date(s: str, today: date) -> tuple[str | None, tuple[str, dict[str, Any]] | None]:
    """A partial date read once per distinct text (and day): a registry's dates repeat across rows
    (issue 19). (ISO text, None), or (None, (message, values)) when it is not a date."""
    try:
        return parse_partial_date(s, today=today).iso(), None
    except DateError as e:
        return None, (e.message, dict(e.values))


# A history as short as most rows' ("captured on a day") recurs across a registry's rows: read once.
# Longer ones (notes) are read each time, which keeps the cache small.
SHORT_EVENTS = 256


@lru_cache(maxsize=16384)
def short_events(
    text: str, today: date
) -> tuple[tuple[EventIn, ...], tuple[tuple[str, str, dict[str, Any]], ...]]:
    """`read_events` of one JSON text, once per distinct text: (events, problems as (column, reason,
    values))."""
    problems: list[tuple[str, str, dict[str, Any]]] = []

    def err(column: str, reason: str, **values: Any) -> None:
        problems.append((column, reason, values))

    def partial(column: str, value: Any) -> str | None:
        s = _text(value)
        if s is None:
            return None
        iso, problem = read_date(s, today)
        if problem is not None:
            err(column, problem[0], **problem[1])
        return iso

    return tuple(read_events(text, err, partial)), tuple(problems)


def read_events(value: Any, err: Any, partial: Any) -> list[EventIn]:
    """The full history: a JSON list of {kind, date, place, note} (a JSON text in CSV)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = loads_bounded(value)
        except TooDeep as e:
            err("events", str(e))
            return []
        except json.JSONDecodeError as e:
            err("events", message_id("is not JSON: %(why)s at character %(pos)s"), why=e.msg, pos=e.pos)
            return []
        except ValueError as e:  # json's other refusals: an integer of more than 4300 digits
            err("events", message_id("is not JSON: %(why)s"), why=str(e))
            return []
        found = text_problem(value)
        if found:
            err("events", found[0], **found[1])
            return []
    if not isinstance(value, list):
        err("events", message_id("must be a list of events, each {kind, date, place, note}"))
        return []
    out = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            err("events", message_id("event %(n)s needs a kind"), n=i)
            continue
        unknown = set(item) - EVENT_KEYS
        if unknown:
            err(
                "events",
                message_id("event %(n)s has unknown keys: %(keys)s"),
                n=i,
                keys=", ".join(sorted(unknown)),
            )
            continue
        kind = event_kind_for_status(item["kind"])
        if kind is None:
            err("events", message_id("event %(n)s: unknown kind '%(kind)s'"), n=i, kind=item["kind"])
            continue
        when = partial("events", item.get("date"))
        level = _text(item.get("confirmation"))
        if level is not None and parse_level(level) is None:
            err(
                "events",
                message_id("event %(n)s: unknown confirmation '%(value)s'; known: %(known)s"),
                n=i,
                value=level,
                known=", ".join(LEVELS),
            )
            continue
        extra = {k: _text(item.get(k)) for k in ("author", "ref")}
        too_long = [k for k, limit in EVENT_LIMITS.items() if len(extra[k] or "") > limit]
        if too_long:
            err(
                "events",
                message_id("event %(n)s: %(key)s is longer than %(limit)s characters"),
                n=i,
                key=too_long[0],
                limit=EVENT_LIMITS[too_long[0]],
            )
            continue
        out.append(
            EventIn(
                kind,
                when,
                _text(item.get("place")),
                _text(item.get("note")),
                parse_level(level),
                extra["author"],
                extra["ref"],
            )
        )
    return out


EVENT_KEYS = frozenset({"kind", "date", "place", "note", "confirmation", "author", "ref"})
EVENT_LIMITS = {"author": 300, "ref": 200}
