"""The one place the matcher calls `kinlink.names`: parsing, comparing and blocking keys, with caches.

Parsing and comparing names is the costly part of matching; both are pure, so results are cached by the
text compared. Term-frequency keys (how common a family name is) are derived here too, so the index and the
database path count names the same way.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from kinlink import names as _names
from kinlink.matching.comparators import latin
from kinlink.names.caching import WORD_CACHE

ParsedName = Any  # kinlink.names.ParsedName
NameComparison = Any  # kinlink.names.NameComparison

PARTS = ("family", "given", "patronymic")


# `parse_name` past its own cache: `parse`'s holds the matcher's names, and a name kept in both was added
# and looked up twice (a third of a new name's parse when its words are known: issue 19).
_parse_name_now = _names.parse_name.__wrapped__


@lru_cache(maxsize=300_000)
def parse(text: str) -> ParsedName:
    return _parse_name_now(text)


@lru_cache(maxsize=300_000)
def compare_parsed(a: ParsedName, b: ParsedName) -> NameComparison:
    return _names.compare(a, b)


def best_comparison(a_names: tuple[ParsedName, ...], b_names: tuple[ParsedName, ...]) -> NameComparison:
    """Of every name one side is known by against every name of the other, the closest pair (of two
    equally close, the one that compares more parts). A part that pair lacks but another pair compares is
    taken from the closest such pair: both sides have a patronymic even when the closest spellings are
    "Demidovich Ivan" and "Демидович Иван"."""
    if len(a_names) == 1 and len(b_names) == 1:
        return compare_parsed(a_names[0], b_names[0])
    found = [compare_parsed(a, b) for a in a_names for b in b_names]
    best = max(found, key=lambda c: (c.score, _compared(c)))  # max keeps the first of equals
    fills = {}
    for part in PARTS:
        if getattr(best, part) is None:
            other = max(
                (c for c in found if getattr(c, part) is not None), key=lambda c: c.score, default=None
            )
            if other is not None:
                fills[part] = getattr(other, part)
    return replace(best, **fills) if fills else best


def _compared(c: NameComparison) -> int:
    return sum(getattr(c, part) is not None for part in PARTS)


def has_part(names: tuple[ParsedName, ...], part: str) -> bool:
    """Whether any of the names has this part (family, given or patronymic), in full or as an initial."""
    return any(_names.has_part(n, part) for n in names)


def settled_parts(a_names: tuple[ParsedName, ...], b_names: tuple[ParsedName, ...]) -> dict[str, Any] | None:
    """The name parts whose comparison `best_comparison` will hold, known before the family names are
    compared (see `kinlink.names.settled_parts`); None where several names on a side leave the pair open."""
    if len(a_names) != 1 or len(b_names) != 1:
        return None
    return _names.settled_parts(a_names[0], b_names[0])


def settled_family(a_names: tuple[ParsedName, ...], b_names: tuple[ParsedName, ...]) -> Any:
    """The family part of `best_comparison` for a pair that `settled_parts` settled (one name a side, each
    order known): `compare` then compares the family names alone (`kinlink.names.compare_family`, cached
    by the two names), None where a side has none. The part's level is the one `best_comparison` gives;
    its reason may differ (a declined name's), so it is only weighed, never shown."""
    return compare_families(a_names[0].family, b_names[0].family)


def compare_families(a: str | None, b: str | None) -> Any:
    """`settled_family` of two names' family names: weighed by its level, which is worked out at once;
    its score and reason only if read (`FamilyLevel`)."""
    return FamilyLevel(a, b, _names.family_level(a, b)) if a and b else None


class FamilyLevel:
    """`kinlink.names.compare_family(a, b)` for weighing a candidate: its level (`family_level`, without
    the score and reason a comparison works out, which a search's bound, asked of a dozen candidates a
    query, most met for the first time, never reads: issue 19); the score and reason are the comparison's
    own, made when read."""

    __slots__ = ("a", "b", "level")

    def __init__(self, a: str, b: str, level: str) -> None:
        self.a, self.b, self.level = a, b, level

    @property
    def score(self) -> float:
        return _names.compare_family(self.a, self.b).score  # type: ignore[no-any-return]

    @property
    def reason(self) -> Any:
        return _names.compare_family(self.a, self.b).reason


def settled_key(names: tuple[ParsedName, ...]) -> tuple[object, ...] | None:
    """All that `settled_parts` reads of one side's names (`kinlink.names.settled_key`); None where the side
    has several names, which `settled_parts` never settles."""
    return _names.settled_key(names[0]) if len(names) == 1 else None


@lru_cache(maxsize=300_000)
def blocking_keys(text: str) -> frozenset[str]:
    return frozenset(_names.blocking_keys(parse(text)))


def part_text(parsed: ParsedName, part: str) -> str | None:
    value = getattr(parsed, part, None)
    if isinstance(value, tuple | list):
        value = " ".join(value) if value else None
    return value or None


def tf_keys(text: str) -> tuple[str | None, str | None, str | None]:
    """The keys under which this name's family, given name and patronymic are counted for term frequency."""
    return tf_keys_parsed(parse(text))


def tf_keys_parsed(p: ParsedName) -> tuple[str | None, str | None, str | None]:
    if type(p) is _names.ParsedName:
        # The usual case, read from its slots: each part's key is cached a word, and this runs for every
        # record indexed (issue 19).
        family, given_words, patr = p.family, p.given, p.patronymic
        return (
            _family_key(family) if family else None,
            _given_key(given_words[0]) if given_words else None,
            latin(patr) if patr else None,
        )
    family = part_text(p, "family")
    given_parts = getattr(p, "given", ()) or ()
    given = None
    if given_parts:
        first = given_parts[0] if isinstance(given_parts, tuple | list) else given_parts
        given = _given_key(first)
    patronymic = part_text(p, "patronymic")
    return (
        _family_key(family) if family else None,
        given,
        latin(patronymic) if patronymic else None,
    )


@lru_cache(maxsize=WORD_CACHE)
def _given_key(first: str) -> str:
    try:
        given = _canonical_given(first)
    except Exception:  # an unknown name has no canonical form: count it as written
        given = None
    return given or latin(first)


@lru_cache(maxsize=WORD_CACHE)
def _canonical_given(name: str) -> str | None:
    return _names.canonical_given(name)


@lru_cache(maxsize=WORD_CACHE)
def _family_key(family: str) -> str:
    # Ivanov and Ivanova are one family name for how common it is.
    key = latin(family)
    for fem, masc in (("ova", "ov"), ("eva", "ev"), ("ina", "in"), ("aia", "ii"), ("skaya", "skiy")):
        if key.endswith(fem) and len(key) > len(fem) + 2:
            return key[: -len(fem)] + masc
    return key
