"""Per-field comparators: each turns two prepared values into features, which the model's levels test.

Values are prepared once per record (dates into day ranges, places into keys, ...) so that comparing a
query with hundreds of candidates does only the pairwise work. Names are compared by `kinlink.names`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio
from unidecode import unidecode

from kinlink.matching.record import MatchRecord

Range = tuple[int, int]  # first and last possible day, as proleptic Gregorian ordinals

# --- dates ------------------------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


@lru_cache(maxsize=100_000)
def date_range(text: str | None) -> Range | None:
    """'1993' -> all of 1993; '1993-05' -> May 1993; '1993-05-07' -> that day. Unreadable -> None."""
    if not text:
        return None
    t = text.strip()
    try:
        year = int(t[:4])
        if len(t) >= 10:
            d = date(year, int(t[5:7]), int(t[8:10]))
            return d.toordinal(), d.toordinal()
        if len(t) >= 7:
            month = int(t[5:7])
            return date(year, month, 1).toordinal(), _month_end(year, month).toordinal()
        return date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    except ValueError:
        return None


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


@lru_cache(maxsize=200_000)
def birth_range(
    birth_date: str | None,
    age: int | None = None,
    age_as_of: str | None = None,
    birth_year_to: int | None = None,
) -> Range | None:
    """The days on which the person can have been born, from a (partial) date, a year range or an age.

    An age at a date: someone 28 on 2022-02-27 was born between 1993-02-28 and 1994-02-27.
    """
    rng = date_range(birth_date)
    if rng is not None:
        if birth_year_to is not None and birth_year_to >= int(birth_date[:4]):  # type: ignore[index]
            rng = (rng[0], date(birth_year_to, 12, 31).toordinal())
        return rng
    if age is not None and age_as_of:
        as_of = date_range(age_as_of)
        if as_of is None or age < 0:
            return None
        first, last = date.fromordinal(as_of[0]), date.fromordinal(as_of[1])
        lo = _years_before(last, age + 1).toordinal() + 1
        hi = _years_before(first, age).toordinal()
        return lo, hi
    return None


def range_gap(a: Range, b: Range) -> int:
    """Days between two ranges; 0 when they overlap."""
    if a[1] < b[0]:
        return b[0] - a[1]
    if b[1] < a[0]:
        return a[0] - b[1]
    return 0


# --- text normalisation -----------------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DIGITS = re.compile(r"\d+")
# Words that say what kind of place or unit it is, not which one.
_PLACE_WORDS = frozenset(
    [
        "region",
        "oblast",
        "oblast'",
        "oblast",
        "krai",
        "krai'",
        "kray",
        "raion",
        "rayon",
        "district",
        "city",
        "town",
        "village",
        "selo",
        "pgt",
        "g",
        "gorod",
        "respublika",
        "republic",
        "of",
        "the",
        "obl",
        "r",
        "n",
        "p",
        "s",
    ]
)
_UNIT_WORDS = frozenset(
    [
        "brigade",
        "brigada",
        "regiment",
        "polk",
        "battalion",
        "batal'on",
        "batalon",
        "division",
        "diviziia",
        "divizion",
        "company",
        "rota",
        "separate",
        "otdel'naia",
        "otdelnaia",
        "omsbr",
        "ombr",
        "omsp",
        "msp",
        "vch",
        "v",
        "ch",
        "military",
        "unit",
        "chast'",
        "chast",
        "the",
        "of",
        "no",
        "motor",
        "rifle",
        "motostrelkovaia",
        "motostrelkovyi",
        "guards",
        "gvardeiskaia",
        "tank",
        "tankovaia",
    ]
)


@lru_cache(maxsize=200_000)
def latin(text: str) -> str:
    """Lower-case ASCII with single spaces: the same place written in Cyrillic or Latin comes out close."""
    # Apostrophes (from ь, ъ, ') are dropped, not turned into word breaks: Мельник -> "melnik".
    ascii_text = text if text.isascii() else text.translate(_UNIDECODED)
    return " ".join(_NON_ALNUM.sub(" ", ascii_text.lower().replace("'", "").replace("’", "")).split())


class _Unidecoded(dict[int, str]):
    """unidecode as a str.translate table, filled a character at a time: unidecode reads a text one character
    at a time, each on its own, in a Python loop; a table does it in C (`latin` runs for every new name word,
    place and unit: issue 19)."""

    def __missing__(self, code: int) -> str:
        out = self[code] = unidecode(chr(code))
        return out


_UNIDECODED = _Unidecoded()


@lru_cache(maxsize=100_000)
def place_key(text: str | None) -> tuple[str, frozenset[str]] | None:
    """The normalised place, and 5-letter stems of its naming words ('Rostov region' ~ 'Ростовская обл.')."""
    if not text or not text.strip():
        return None
    norm = latin(text)
    stems = frozenset(w[:5] for w in norm.split() if w not in _PLACE_WORDS and len(w) >= 3)
    return norm, stems


@lru_cache(maxsize=100_000)
def unit_key(text: str | None) -> tuple[str, frozenset[str]] | None:
    if not text or not text.strip():
        return None
    norm = latin(text)
    numbers = frozenset(_DIGITS.findall(norm))
    return norm, numbers


@lru_cache(maxsize=100_000)
def identifier_key(text: str | None) -> str | None:
    if not text:
        return None
    key = _NON_ALNUM.sub("", unidecode(text).lower())
    return key or None


@lru_cache(maxsize=100_000)
def text_key(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    return latin(text)


def sex_key(text: str | None) -> str | None:
    if not text:
        return None
    t = text.strip().lower()[:1]
    return {"m": "m", "f": "f", "м": "m", "ж": "f", "ч": "m"}.get(t)


# --- comparators ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparator:
    """prepare(record) -> a value or None (missing); features(a, b) -> what the model's levels test.

    `reads`: the record fields prepare reads, where not only the comparison's own field; records equal
    on them get the same value (the index prepares each distinct value once). `repeats`: values are
    shared by many records (places, units), so the scorer remembers each pair's outcome. `tested`: some
    of the features (their names, in order) without the others, for a scorer whose levels test those
    alone (a birth range's gap and width, worked out for every candidate; issue 19).
    """

    prepare: Callable[[MatchRecord, str], Any]
    features: Callable[[Any, Any], dict[str, Any]]
    reads: tuple[str, ...] | None = None
    repeats: bool = False
    tested: tuple[tuple[str, ...], Callable[[Any, Any], tuple[Any, ...]]] | None = None


def _prep_birth(r: MatchRecord, _field: str) -> Range | None:
    return birth_range(r.birth_date, r.age, r.age_as_of, r.birth_year_to)


def _feat_birth(a: Range, b: Range) -> dict[str, Any]:
    return {
        "gap": range_gap(a, b),
        "width": max(a[1] - a[0], b[1] - b[0]) + 1,
        "a": a,
        "b": b,
    }


def _gap_width(a: Range, b: Range) -> tuple[int, int]:
    """`_feat_birth`'s (and `_feat_date`'s) gap and width alone (`range_gap` written out: this runs for
    nearly every candidate of every search)."""
    a0, a1 = a
    b0, b1 = b
    gap = b0 - a1 if a1 < b0 else a0 - b1 if b1 < a0 else 0
    return gap, max(a1 - a0, b1 - b0) + 1


def _prep_date(r: MatchRecord, fld: str) -> Range | None:
    return date_range(getattr(r, fld))


def _feat_date(a: Range, b: Range) -> dict[str, Any]:
    # A partial date is a range: a day and a month that holds it are 0 days apart, but say only "the same
    # month" (width), not "within three days".
    return {"gap": range_gap(a, b), "width": max(a[1] - a[0], b[1] - b[0]) + 1, "a": a, "b": b}


def _prep_place(r: MatchRecord, fld: str) -> tuple[str, frozenset[str]] | None:
    return place_key(getattr(r, fld))


def _feat_place(a: tuple[str, frozenset[str]], b: tuple[str, frozenset[str]]) -> dict[str, Any]:
    equal = a[0] == b[0]
    return {"equal": equal, "similar": equal or bool(a[1] & b[1]) or ratio(a[0], b[0]) >= 85}


def _prep_unit(r: MatchRecord, fld: str) -> tuple[str, frozenset[str]] | None:
    return unit_key(getattr(r, fld))


def _feat_unit(a: tuple[str, frozenset[str]], b: tuple[str, frozenset[str]]) -> dict[str, Any]:
    return {"equal": a[0] == b[0], "same_number": bool(a[1] & b[1])}


def _prep_text(r: MatchRecord, fld: str) -> str | None:
    return text_key(getattr(r, fld))


def _feat_text(a: str, b: str) -> dict[str, Any]:
    return {"equal": a == b, "similarity": 1.0 if a == b else ratio(a, b) / 100.0}


def _prep_identifier(r: MatchRecord, fld: str) -> str | None:
    return identifier_key(getattr(r, fld))


def _feat_identifier(a: str, b: str) -> dict[str, Any]:
    return {"edits": _edits(a, b)[0]}


def _edits(a: str, b: str) -> tuple[int]:
    """`_feat_identifier`'s one feature, alone (`Comparator.tested`)."""
    return (0 if a == b else Levenshtein.distance(a, b, score_cutoff=3),)


def _prep_equal(r: MatchRecord, fld: str) -> str | None:
    value = getattr(r, fld)
    return sex_key(value) if fld == "sex" else text_key(value)


def _feat_equal(a: str, b: str) -> dict[str, Any]:
    return {"equal": a == b}


COMPARATORS: dict[str, Comparator] = {
    "birth": Comparator(
        _prep_birth,
        _feat_birth,
        ("birth_date", "age", "age_as_of", "birth_year_to"),
        tested=(("gap", "width"), _gap_width),
    ),
    "date": Comparator(_prep_date, _feat_date, repeats=True, tested=(("gap", "width"), _gap_width)),
    "place": Comparator(_prep_place, _feat_place, repeats=True),
    "unit": Comparator(_prep_unit, _feat_unit, repeats=True),
    "text": Comparator(_prep_text, _feat_text, repeats=True),
    "identifier": Comparator(_prep_identifier, _feat_identifier, tested=(("edits",), _edits)),
    "equal": Comparator(_prep_equal, _feat_equal, repeats=True),
}
