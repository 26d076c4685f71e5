"""Refusals as data: what the domain says when it will not do what was asked.

A refusal names the field at fault and says why in a message that is also the key its translations are
filed under (`%(name)s` placeholders filled from `values`), so that each door renders it in its reader's
language: the web pages translate it, the API and the CLI give the English. The kind tells a door how to
answer (an HTTP status, an exit code) without parsing the words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["invalid", "not_found", "conflict", "too_large", "too_many", "busy", "forbidden"]


@dataclass(frozen=True)
class Problem:
    field: str | None
    message: str  # English, with %(name)s placeholders; also the msgid of its translations
    values: tuple[tuple[str, Any], ...] = ()

    def text(self, translate: Any = None) -> str:
        """The message filled in, translated first when a `gettext` is given."""
        message = translate(self.message) if translate is not None else self.message
        return message % dict(self.values) if self.values else message


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
