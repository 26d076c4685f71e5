"""A list's column headings recognised as kinlink's fields, in English, Russian or Ukrainian.

Pure. The synonyms are a data table (data/headings.tsv, naming its sources) keyed by the fields of
kinlink.person.fields: every field's own name is always recognised, and the table must cover every field
and no other (tests hold it to that). A heading that means nothing known is left unmapped: the registrar maps
it, or marks it to be ignored, once per source.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kinlink.person.fields import COLUMNS

TABLE = Path(__file__).with_name("data") / "headings.tsv"
LANGS = ("en", "ru", "uk")
IGNORE = ""  # a heading mapped to this is a column the registrar chose to leave out


def normalise(heading: str) -> str:
    """Case-folded, ё as е, apostrophes and punctuation as spaces, spaces collapsed: 'Ім'я:' -> 'ім я'."""
    text = unicodedata.normalize("NFC", str(heading)).casefold().replace("ё", "е")
    text = "".join(ch if ch.isalnum() or ch == "№" else " " for ch in text)
    return " ".join(text.split())


@cache
def synonyms() -> dict[str, str]:
    """Normalised heading -> field, from the fields themselves and the data table."""
    found: dict[str, str] = {}
    for column in COLUMNS:
        found[normalise(column)] = column
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        column, *forms = line.split("\t")
        if column not in COLUMNS:
            raise ValueError(f"{TABLE.name}: '{column}' is not one of kinlink's fields")
        for cell in forms:
            for form in cell.split("|"):
                key = normalise(form)
                if key and found.setdefault(key, column) != column:
                    raise ValueError(f"{TABLE.name}: '{form}' means both {found[key]} and {column}")
    return found


def table_fields() -> set[str]:
    """The fields the data table has a row for (every field must have one)."""
    return {
        line.split("\t", 1)[0]
        for line in TABLE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }


def recognise(heading: str) -> str | None:
    """The field a heading names, or None when it is not one kinlink knows."""
    return synonyms().get(normalise(heading))


_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Resolved:
    """Each column of a list: the field it fills, or None (left out); and what could not be resolved."""

    fields: tuple[str | None, ...]
    unknown: tuple[str, ...]  # headings neither recognised nor mapped
    repeated: tuple[str, ...]  # fields that two headings would both fill


def resolve(headings: Iterable[str], saved: Mapping[str, str] | None = None) -> Resolved:
    """The field of each heading: a saved mapping first (its keys are the headings as written, normalised
    when compared), then recognition. A mapping to IGNORE leaves the column out."""
    by_norm = {normalise(k): v for k, v in (saved or {}).items()}
    out: list[str | None] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    repeated: list[str] = []
    for heading in headings:
        key = normalise(heading)
        if key in by_norm:
            column: str | None = by_norm[key] or None
        elif not key:
            column = None  # an empty heading over an empty column: nothing to map
        else:
            column = recognise(heading)
            if column is None:
                unknown.append(_SPACES.sub(" ", str(heading)).strip())
        if column is not None:
            if column in seen:
                repeated.append(column)
            seen[column] = heading
        out.append(column)
    return Resolved(tuple(out), tuple(unknown), tuple(repeated))


def check_mapping(mapping: Mapping[str, str]) -> list[str]:
    """The fields a mapping names that kinlink does not know (it maps headings to fields or to IGNORE)."""
    return sorted({v for v in mapping.values() if v != IGNORE and v not in COLUMNS})
