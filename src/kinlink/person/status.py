"""The current status of a person, derived from the dated history of events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Every kind of event a person's history holds.
EVENT_KINDS = (
    "captured",
    "interned",
    "transferred",
    "wounded",
    "hospitalised",
    "seriously_ill",
    "released",
    "repatriated",
    "escaped",
    "died",
    "buried",
    "missing",
    "found",
    "note",  # a note about the person that reports no change (a partner's note, a search for news)
)

# What an event says about the person afterwards. Transfers and burials change where the person is,
# not what the person is, so they carry the status forward (a burial confirms a death).
EVENT_STATUS: dict[str, str | None] = {
    "captured": "captured",
    "interned": "interned",
    "transferred": None,
    "wounded": "wounded",
    "hospitalised": "hospitalised",
    "seriously_ill": "seriously_ill",
    "released": "released",
    "repatriated": "repatriated",
    "escaped": "escaped",
    "died": "dead",
    "buried": "dead",
    "missing": "missing",
    "found": "found",
    "note": None,
}

# Words registrars use in a `status` column, mapped to the event they record.
STATUS_ALIASES: dict[str, str] = {
    **{k: k for k in EVENT_STATUS},
    "dead": "died",
    "killed": "died",
    "deceased": "died",
    "hospitalized": "hospitalised",
    "ill": "seriously_ill",
    "prisoner": "captured",
    "pow": "captured",
    "detained": "interned",
    "exchanged": "released",
}


@dataclass(frozen=True)
class DatedEvent:
    kind: str
    date: str | None  # partial ISO date
    order: int  # insertion order breaks ties and places undated events


def event_kind_for_status(word: str) -> str | None:
    """The event a status word records ('Seriously ill' -> seriously_ill), or None if unknown."""
    return STATUS_ALIASES.get(word.strip().lower().replace("-", "_").replace(" ", "_"))


def chronological(events: Iterable[DatedEvent]) -> list[DatedEvent]:
    """Events ordered by date (a partial date counts from its first day), then by the order in which they
    were recorded; an undated event counts as of when it was recorded."""
    last_date = ""
    ordered: list[tuple[str, int, DatedEvent]] = []
    for ev in sorted(events, key=lambda e: e.order):
        # An undated event sorts with the latest dated one seen before it.
        if ev.date:
            last_date = max(last_date, ev.date)
        ordered.append((ev.date or last_date, ev.order, ev))
    return [ev for _, _, ev in sorted(ordered, key=lambda t: (t[0], t[1]))]


def deciding_event(events: Iterable[DatedEvent]) -> DatedEvent | None:
    """The last event that says what the person is: the one the current status comes from."""
    found = None
    for ev in chronological(events):
        if EVENT_STATUS.get(ev.kind) is not None:
            found = ev
    return found


def current_status(events: Iterable[DatedEvent]) -> tuple[str | None, str | None]:
    """(status, date) after the last event that says what the person is (see `chronological`)."""
    return status_of([(ev.kind, ev.date) for ev in sorted(events, key=lambda e: e.order)])


def status_of(events: Sequence[tuple[str, str | None]]) -> tuple[str | None, str | None]:
    """`current_status` of (kind, date) events in the order they were recorded, in one pass without sorting:
    the deciding event is the one `chronological` puts last among those that say what the person is (an
    import works this out for every row, issue 19)."""
    found: tuple[str, str | None] | None = None
    best: tuple[str, int] = ("", -1)
    last_date = ""
    for order, (kind, when) in enumerate(events):
        if when:
            last_date = max(last_date, when)
        key = (when or last_date, order)
        if EVENT_STATUS.get(kind) is not None and key > best:
            found, best = (kind, when), key
    return (None, None) if found is None else (EVENT_STATUS[found[0]], found[1])


# Events that say where the person is afterwards: their place is the person's current place.
MOVES = frozenset({"interned", "transferred", "hospitalised", "released", "repatriated", "escaped", "found"})


@dataclass(frozen=True)
class PlacedEvent:
    kind: str
    date: str | None  # partial ISO date
    place: str | None
    order: int


def current_place(events: Iterable[PlacedEvent], location: str | None = None) -> str | None:
    """Where the person is now: the place of the latest event that moved them (a transfer, an internment,
    a hospital...), else the record's location, else the place of the latest event that names one (the
    last known place). Events are ordered as by `chronological`."""
    placed = [ev for ev in chronological(events) if ev.place]  # type: ignore[arg-type, attr-defined]
    moved = [ev for ev in placed if ev.kind in MOVES]
    if moved:
        return moved[-1].place  # type: ignore[attr-defined, no-any-return]
    if location:
        return location
    return placed[-1].place if placed else None  # type: ignore[attr-defined, no-any-return]
