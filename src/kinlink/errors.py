"""Refusals as data: what the domain says when it will not do what was asked.

A refusal names the field at fault and says why in a message (`kinlink.messages.Message`: an English
message id that is also the key of its translations, and the values to fill it with), so that each door
renders it in its reader's language: the web pages translate it, the API and the CLI give the English.
The kind tells a door how to answer (an HTTP status, an exit code) without parsing the words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kinlink.messages import Message

Kind = Literal["invalid", "not_found", "conflict", "too_large", "too_many", "busy", "forbidden"]


@dataclass(frozen=True, init=False)
class Problem(Message):
    """A message that names the field at fault (None: the request as a whole): `Problem(field, message,
    values)`."""

    field: str | None = None

    def __init__(self, field: str | None, message: str, values: tuple[tuple[str, Any], ...] = ()) -> None:
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "values", values)


def problem(field_name: str | None, message: str, **values: Any) -> Problem:
    return Problem(field_name, message, tuple(sorted(values.items())))


@dataclass(eq=False)
class Refused(Exception):
    """The action was refused; nothing it would have written is kept."""

    kind: Kind
    problems: list[Problem] = field(default_factory=list)
    retry_after: int | None = None  # seconds, for too_many and busy

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return "; ".join(f"{p.field}: {p.text()}" if p.field else p.text() for p in self.problems)

    @property
    def field(self) -> str | None:
        return self.problems[0].field if self.problems else None

    @property
    def message(self) -> str:
        return self.problems[0].text() if self.problems else self.kind

    def by_field(self) -> Mapping[str, list[Problem]]:
        out: dict[str, list[Problem]] = {}
        for p in self.problems:
            out.setdefault(p.field or "", []).append(p)
        return out


def invalid(problems: Iterable[Problem]) -> Refused:
    return Refused("invalid", list(problems))


def refuse(kind: Kind, field_name: str | None, message: str, **values: Any) -> Refused:
    """One problem, as a refusal of this kind: `raise refuse("not_found", "person_id", "no record %(id)s",
    id=42)`."""
    return Refused(kind, [problem(field_name, message, **values)])
