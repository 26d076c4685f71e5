"""Issue 19: functions rewritten to cache per word (or per piece of a name) give what the plain code gave.

Each test holds the plain implementation the cached one replaced, and compares both on generated names
(every romanisation of Cyrillic names, case variants, homoglyph mixes, initials, titles, random text)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.names.name_words import NAME_WORDS, as_typed
from unidecode import unidecode

from kinlink.matching import names_bridge as nb
from kinlink.matching.comparators import latin
from kinlink.names import language as language_module
from kinlink.names.blocking import (
    _pair_keys,
    _typo_variants,
    blocking_keys,
    distinct_keys,
    family_skeletons,
    given_signatures,
)
from kinlink.names.gendered import patronymic_of
from kinlink.names.given import initial_letters
from kinlink.names.parse import ParsedName, parse_name
from kinlink.names.translit import readings, skeleton

_WORDS = sorted(NAME_WORDS)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def words(draw: st.DrawFn) -> str:
    return as_typed(draw, draw(st.sampled_from(_WORDS)))


names = st.lists(words(), min_size=1, max_size=4).map(" ".join)
texts = st.one_of(names, st.text(alphabet="aбвÄßçşțéёЁїЇўñ'’-. ABCxyzКМНoрH,", max_size=16))


def _reference_blocking_keys(p: ParsedName) -> set[str]:
    """blocking_keys as it was before its pieces were cached."""
    keys: set[str] = set()
    fams = family_skeletons(p.family) if p.family else ()
    givs: tuple[str, ...] = given_signatures(p.given[0]) if p.given else ()
    inits: frozenset[str] = frozenset()
    if p.given:
        inits = initial_letters(p.given[0])
    elif p.initials:
        inits = initial_letters(p.initials[0])
    for i, fs in enumerate(fams):
        keys.add("f:" + fs)
        if givs:
            keys.update(_pair_keys(fs, i < 2, givs))
        for ini in inits:
            keys.add(f"i:{fs}|{ini}")
    if fams and not p.given and p.initials:
        for d in _typo_variants(fams[0]):
            for ini in inits:
                keys.add(f"i:{d}|{ini}")
    if p.order == "unknown" and p.family and p.given:
        other_givs = given_signatures(p.family)
        for fs in family_skeletons(p.given[0])[:2]:
            for ini in initial_letters(p.family):
                keys.add(f"i:{fs}|{ini}")
            if other_givs:
                keys.update(_pair_keys(fs, True, other_givs))
    if givs and p.patronymic:
        pat = patronymic_of(p.patronymic)
        if pat is not None:
            fathers = sorted(pat.fathers)[:2] or ["?" + skeleton(pat.stem)]
            for g in givs[:2]:
                for f in fathers:
                    keys.add(f"gp:{g}|{f}")
    if not fams and givs and len(p.given) >= 2:
        for g2 in given_signatures(p.given[1]):
            a, b = sorted((givs[0], g2))
            keys.add(f"n:{a}|{b}")
    return keys


@SETTINGS
@given(names)
def test_blocking_keys_as_before(name: str) -> None:
    p = parse_name(name)
    assert blocking_keys(p) == _reference_blocking_keys(p)


@SETTINGS
@given(texts)
def test_readings_of_a_spelling_as_read_alone(token: str) -> None:
    # The readings of a word's other spellings are shared; each must equal a reading made from scratch.
    got = readings(token)
    readings.cache_clear()
    fresh = readings(token)
    assert vars(got) == vars(fresh)
    assert got.token == token


def _reference_latin(text: str) -> str:
    return " ".join(
        re.sub(r"[^0-9a-z]+", " ", unidecode(text).lower().replace("'", "").replace("’", "")).split()
    )


@SETTINGS
@given(texts)
def test_latin_as_unidecode(text: str) -> None:
    latin.cache_clear()
    assert latin(text) == _reference_latin(text)


_UK_LETTERS = re.compile(r"[ґєї]")
_RU_AFTER_I = re.compile(r"[ыэё]")
_RU_LETTERS = re.compile(r"[ыэъё]")
_RU_ENDINGS = re.compile(r"(ова?|ева?|ина?|ий|ая)\b")


def _reference_language_bits(tok: str) -> int:
    low = tok.lower()
    bits = (
        (1 if _UK_LETTERS.search(low) else 0)
        | (2 if "і" in low else 0)
        | (4 if "и" in low else 0)
        | (8 if "ў" in low else 0)
        | (16 if _RU_AFTER_I.search(low) else 0)
        | (32 if _RU_LETTERS.search(low) else 0)
        | (64 if _RU_ENDINGS.search(low) else 0)
    )
    for i, (_lang, rx) in enumerate(language_module._LATIN_LANGUAGES):
        if rx.search(low):
            bits |= 1 << (8 + i)
    return bits


@SETTINGS
@given(texts)
def test_language_bits_as_before(text: str) -> None:
    for tok in text.split() or [text]:
        assert language_module._language_bits(tok) == _reference_language_bits(tok)


def _reference_tf_keys(p: ParsedName) -> tuple[str | None, str | None, str | None]:
    """names_bridge.tf_keys_parsed as it was before its ParsedName fast path."""
    family = nb.part_text(p, "family")
    given_parts = getattr(p, "given", ()) or ()
    given = None
    if given_parts:
        first = given_parts[0] if isinstance(given_parts, tuple | list) else given_parts
        try:
            given = nb._canonical_given(first)
        except Exception:
            given = None
        given = given or latin(first)
    patronymic = nb.part_text(p, "patronymic")
    return (nb._family_key(family) if family else None, given, latin(patronymic) if patronymic else None)


@SETTINGS
@given(names)
def test_tf_keys_as_before(name: str) -> None:
    p = parse_name(name)
    assert nb.tf_keys_parsed(p) == _reference_tf_keys(p)


@SETTINGS
@given(names)
def test_distinct_keys_are_the_blocking_keys_each_once(name: str) -> None:
    # The index build's tuple of a name's keys (issue 19): the set blocking_keys gives, no key twice.
    p = parse_name(name)
    keys = distinct_keys(p)
    assert len(keys) == len(set(keys))
    assert set(keys) == blocking_keys(p) == _reference_blocking_keys(p)


@SETTINGS
@given(names)
def test_the_matchers_parse_is_parse_name_kept_once(name: str) -> None:
    # The matcher's cache of parsed names calls `parse_name` past its own (issue 19): the same parse, and a
    # name new to both is not added to `parse_name`'s cache as well.
    nb.parse.cache_clear()
    parse_name.cache_clear()
    got = nb.parse(name)
    assert parse_name.cache_info().currsize == 0
    assert got == parse_name(name)
    assert nb.parse(name) is got
