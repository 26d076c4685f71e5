"""A person's name rows as the registry stores them: the primary name (its parts as given, else parsed), then
the alternates, each with its folded form, script and language. Worked out for one record (`name_rows`), for
a record's fields (`add_names`), or for a chunk of an import by column (`joined_names`): the same rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import itemgetter, or_
from typing import Any, TypeVar

from kinlink.names import detect_script, parse_name
from kinlink.names.parse import _SHAPES
from kinlink.names.parse import name_language as name_language_of
from kinlink.names.parts import PartFacts, joined_language, joined_script, part_facts
from kinlink.names.script import SCRIPT_OF_FLAGS
from kinlink.person.fields import RecordIn
from kinlink.store.models import fold_name


def name_rows(rec: RecordIn) -> list[dict[str, Any]]:
    """The person's names as rows: the primary (parts as given, else parsed) then the alternates."""
    return [dict(zip(NAME_KEYS, values, strict=True)) for values in name_values(rec)]


def name_values(rec: RecordIn) -> list[tuple[Any, ...]]:
    """`name_rows` as tuples in the order of NAME_KEYS: what the bulk writer sends, without a dict a name."""
    r = rec
    return _names_of(
        r.full_name, r.family_name, r.given_names, r.patronymic, r.name_language, r.alternate_names
    )


def _names_of(
    full_name: str,
    family_name: str | None,
    given_names: str | None,
    patronymic: str | None,
    name_language: str | None,
    alternate_names: Iterable[str],
) -> list[tuple[Any, ...]]:
    """`name_values` of a record's name fields (a record's tuple gives them without a RecordIn)."""
    rows = []
    for position, written in enumerate([full_name, *alternate_names]):
        given_parts = position == 0 and (family_name or given_names or patronymic)
        if given_parts and name_language:  # parts and language as given: nothing to parse (issue 19)
            family, given, patronymic_, language = family_name, given_names, patronymic, name_language
        elif given_parts:  # parts as given: a name is parsed only for its language
            family, given, patronymic_ = family_name, given_names, patronymic
            language = name_language_of(written)  # parse_name(written).language, with less work
        else:
            parsed = parse_name(written)
            family, given, patronymic_ = parsed.family, " ".join(parsed.given) or None, parsed.patronymic
            language = (name_language if position == 0 else None) or parsed.language
        rows.append((position, written, family, given, patronymic_, detect_script(written), language))
    return rows


NAME_KEYS = ("position", "full_name", "family_name", "given_names", "patronymic", "script", "language")


def _joined_name(
    full_name: str,
    family_name: str | None,
    given_names: str | None,
    patronymic: str | None,
    name_language: str | None,
    alternate_names: Iterable[str],
) -> tuple[Any, ...] | None:
    """A record's one name row (with its folded form first) when its full name is its parts joined (as the
    check joins them where a row gives no full name) and it has no alternates, from facts of each distinct
    part (`kinlink.names.parts`); None for any other record (`_names_of` then). Nearly every row of a
    registry whose names come in parts, each new, of parts that repeat (issue 19)."""
    if alternate_names:
        return None
    if family_name and given_names and patronymic:
        if full_name != f"{family_name} {given_names} {patronymic}":
            return None
        f, g, p = _part(family_name), _part(given_names), _part(patronymic)
        folded = " ".join(filter(None, (f[0], g[0], p[0])))
        script = joined_script(f[1], g[1], p[1])
        language = name_language or joined_language(full_name, f[1], g[1], p[1])
    else:
        given_parts = [x for x in (family_name, given_names, patronymic) if x]
        if not given_parts or full_name != " ".join(given_parts):
            return None
        facts = [_part(x) for x in given_parts]
        folded = " ".join(filter(None, [x[0] for x in facts]))
        script = joined_script(*(x[1] for x in facts))
        language = name_language or name_language_of(full_name)
    return folded, 0, full_name, family_name, given_names, patronymic, script, language


def joined_names(ids: list[int], fields: list[Sequence[Any]]) -> list[Sequence[Any]] | None:
    """The chunk's name rows by column (_NAME_COLUMNS), each record's one row as `_joined_name` gives it, when
    every record's full name is its three parts joined and none has alternates (a registry's rows that give
    names in parts); else None. A column at a time: each part's folded form and facts looked up in C, the
    rest zipped (issue 19)."""
    full, family, given, patronymic, language, alternates = fields
    n = len(ids)
    if alternates.count(()) != n or any(None in c or "" in c for c in (family, given, patronymic)):
        return None
    if list(full) != list(map(" ".join, zip(family, given, patronymic, strict=True))):
        return None
    found = [_parts_of(c) for c in (family, given, patronymic)]
    folded_parts = [list(map(itemgetter(0), c)) for c in found]
    facts = [list(map(itemgetter(1), c)) for c in found]
    if any("" in c for c in folded_parts):  # a part with nothing left once folded: left out of the join
        folded = list(map(" ".join, map(filter, repeat(None), zip(*folded_parts, strict=True))))
    else:
        folded = list(map(" ".join, zip(*folded_parts, strict=True)))
    flags = (list(map(itemgetter(0), c)) for c in facts)
    scripts = list(
        map(SCRIPT_OF_FLAGS.__getitem__, map(or_, map(or_, next(flags), next(flags)), next(flags)))
    )
    if None in language or "" in language:
        # joined_language's: the shape of the name's three words' facts, else name_language of the name
        keys = zip(
            map(itemgetter(1), facts[0]),
            map(itemgetter(2), facts[1]),
            map(itemgetter(2), facts[2]),
            strict=True,
        )
        shapes = list(map(_SHAPES.get, keys))
        language = [
            given_language or (shape[1] if shape is not None else _language(written))
            for given_language, shape, written in zip(language, shapes, full, strict=True)
        ]
    return [ids, folded, [0] * n, full, family, given, patronymic, scripts, language]


def _parts_of(column: Sequence[str]) -> list[tuple[str, PartFacts]]:
    """`_part` of each part of a column: the cached ones looked up in C."""
    found = list(map(_parts.get, column))
    if None in found:
        found = [hit if hit is not None else _part(part) for hit, part in zip(found, column, strict=True)]
    return found


# A part's folded form (`fold_name`) and its facts (`part_facts`), once per distinct part: the one cache of
# both. `fold_name` of parts joined by spaces is their folded forms joined, the empty ones left out: NFKC,
# case folding and the runs of spaces are each a character's own business, and a space stops any
# composition across it.
_parts: dict[str, tuple[str, PartFacts]] = {}
_PARTS_BOUND = 1 << 17


_V = TypeVar("_V")


def _keep(cache: dict[str, _V], bound: int, key: str, value: _V) -> _V:
    """`cache[key] = value`, the cache emptied first once it holds `bound` entries; the value."""
    if len(cache) >= bound:
        cache.clear()
    cache[key] = value
    return value


def _part(part: str) -> tuple[str, PartFacts]:
    found = _parts.get(part)
    if found is None:
        found = _keep(_parts, _PARTS_BOUND, part, (fold_name(part), part_facts(part)))
        if _learned is not None:
            _learned[0].append((part, found))
    return found


# `name_language` of a full name whose parts' shape does not tell it (about 4 % of the bench's rows), kept
# so that a language worked out ahead (`joined_ahead`) is found here.
_languages: dict[str, str | None] = {}
_LANGUAGES_BOUND = 1 << 16


def _language(written: str) -> str | None:
    if written in _languages:
        return _languages[written]
    language = _keep(_languages, _LANGUAGES_BOUND, written, name_language_of(written))
    if _learned is not None:
        _learned[1].append((written, language))
    return language


# Names worked out ahead (issue 19). A first import's rows are checked by a process of their own
# (kinlink.registry.checking_process), which also runs `joined_names` on each chunk and sends what that
# added to its caches: the names library's work on each new part and language, most of this module's time
# (about 0.5 CPU-s of 100,000 rows). The importing process takes it (`learn`) before it writes the chunk,
# and its own `joined_names` then finds every part and language it looks up, the same values.
NAME_FIELDS = ("full_name", "family_name", "given_names", "patronymic", "name_language", "alternate_names")
Learned = tuple[list[tuple[str, tuple[str, PartFacts]]], list[tuple[str, str | None]]]
_learned: Learned | None = None  # while `joined_ahead` runs: what the caches gain


JoinedAhead = tuple[list[str], list[str], list[str | None]]  # folded, script, language by column


def joined_ahead(fields: list[Sequence[Any]]) -> tuple[Learned, JoinedAhead | None]:
    """What `joined_names` of a chunk's name fields (by column, in the order of NAME_FIELDS) added to this
    process's caches (each new part's folded form and facts, each new full name's language), with the
    columns of `joined_names` that are not the chunk's own (each name's folded
    form, script and language), or None where `joined_names` gives None: what the importer would otherwise
    work out again from its caches (issue 19)."""
    global _learned
    _learned = ([], [])
    try:
        joined = joined_names([0] * len(fields[0]), fields)
        learned = _learned
    finally:
        _learned = None
    if joined is None:
        return learned, None
    return learned, (joined[1], joined[7], joined[8])  # type: ignore[return-value]


def names_of_joined(ids: list[int], fields: list[Sequence[Any]], ahead: JoinedAhead) -> list[Sequence[Any]]:
    """The columns `joined_names(ids, fields)` gives, from those `joined_ahead` worked out for the same
    fields (by another process): the chunk's own columns put in their places."""
    full, family, given, patronymic = fields[:4]
    folded, scripts, language = ahead
    return [ids, folded, [0] * len(ids), full, family, given, patronymic, scripts, language]


def learn(learned: Learned) -> None:
    """The parts and languages another process worked out (`joined_ahead`) taken into this one's caches."""
    parts, languages = learned
    for part, found in parts:
        _keep(_parts, _PARTS_BOUND, part, found)
    for written, language in languages:
        _keep(_languages, _LANGUAGES_BOUND, written, language)


def add_names(
    names: list[tuple[Any, ...]],
    pid: int,
    full_name: str,
    family_name: str | None,
    given_names: str | None,
    patronymic: str | None,
    name_language: str | None,
    alternate_names: Iterable[str],
) -> None:
    """A person's name rows appended to `names`, from its record's name fields (_NAME_FIELDS)."""
    fields = (full_name, family_name, given_names, patronymic, name_language, alternate_names)
    joined = _joined_name(*fields)
    if joined is not None:
        names.append((pid, *joined))
    else:
        for n in _names_of(*fields):
            names.append((pid, fold_name(n[1]), *n))
