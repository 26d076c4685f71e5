"""What the matcher knows of a person: a record, a sighting or the person sought by a tracing request."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, TypeVar

from kinlink.names.frozen import quick_init

T = TypeVar("T")


def pickled_by_slots(cls: type[T]) -> type[T]:
    """A frozen slots dataclass pickled in the format dataclasses gives it (the values in field order),
    without its `fields()` call per object, and read back through each slot's own setter rather than
    object.__setattr__ by name: records cross to worker processes by the million, and a batch's workers
    send every hit (record, score, evidence) back (issue 19). Applied above @dataclass."""
    names = tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    state = attrgetter(*names)  # the values as a tuple, in C (every class here has several fields)

    def __getstate__(self: T) -> tuple[Any, ...]:
        return state(self)  # type: ignore[no-any-return]

    # Each slot set by its own line (the values unpacked at once, as many as there are fields or an
    # error), not by a loop over the setters: a third of the time (issue 19).
    scope = {f"_s{i}": getattr(cls, name).__set__ for i, name in enumerate(names)}
    local = [f"v{i}" for i in range(len(names))]
    body = [f" {', '.join(local)}, = values"] + [f" _s{i}(self, v{i})" for i in range(len(names))]
    source = "def __setstate__(self, values):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<pickled_by_slots {cls.__module__}.{cls.__qualname__}>", "exec"), scope)

    cls.__getstate__ = __getstate__  # type: ignore[method-assign,assignment]
    cls.__setstate__ = scope["__setstate__"]  # type: ignore[attr-defined]
    return cls


@quick_init
@pickled_by_slots
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


FIELD_NAMES = tuple(MatchRecord.__dataclass_fields__)
# A record's values in field order, as a tuple (in C).
record_state = attrgetter(*FIELD_NAMES)
