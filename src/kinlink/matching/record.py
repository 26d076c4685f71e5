"""What the matcher knows of a person: a record, a sighting or the person sought by a tracing request."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """The fields the model compares, all optional but a name. Dates are partial ISO (YYYY[-MM[-DD]])."""

    id: int | str | None
    name: str
    other_names: tuple[str, ...] = ()
    source_record_id: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    # A year range ("born 1992-1994") is kept as its own bounds; an age is kept with the date it was stated.
    birth_year_to: int | None = None
    age: int | None = None
    age_as_of: str | None = None
    place_of_birth: str | None = None
    unit: str | None = None
    rank: str | None = None
    service_number: str | None = None
    capture_place: str | None = None
    capture_date: str | None = None
    kind: str = "record"  # record | request | sighting
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.other_names)

    # Pickled in the format dataclasses gives a frozen slots class (the values in field order), without
    # its `fields()` call for every record: records cross to worker processes by the million.
    def __getstate__(self) -> tuple[Any, ...]:
        return record_state(self)

    def __setstate__(self, state: Any) -> None:
        # Through each slot's own setter, not object.__setattr__ by name (half the time, a million records
        # read back from a pickled stream; issue 19).
        for set_slot, value in zip(_SLOT_SETTERS, state, strict=True):
            set_slot(self, value)


FIELD_NAMES = tuple(MatchRecord.__dataclass_fields__)
_SLOT_SETTERS = tuple(getattr(MatchRecord, name).__set__ for name in FIELD_NAMES)
# A record's values in field order, as a tuple (in C).
record_state = attrgetter(*FIELD_NAMES)
