"""parse_name tells a name's script and language from facts cached a word (issue 19): property tests that
they are what the whole text says, on random text and on random mixes of name-like words."""

from __future__ import annotations

import pickle
import re
from dataclasses import fields

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.names.language import _LATIN_LANGUAGES, _language
from kinlink.names.parse import ParsedName, parse_name
from kinlink.names.script import CYRILLIC, LATIN, SCRIPT_OF_FLAGS, clean_text, detect_script, script_flags

_WORDS = [
    "Пактышев",
    "Леонид",
    "Андреевич",
    "Їжакевич",
    "Ірина",
    "Левчук",
    "Грицай",
    "Ўладзімір",
    "Сідарэнка",
    "Мельника",
    "Петровича",
    "Андрія",
    "Олександр",
    "Шевченко",
    "Subbotin",
    "Szczepański",
    "Mihăilescu",
    "Dvořák",
    "Müller",
    "Sergueï",
    "Fomitch",
    "Khrushchev",
    "Peña",
    "Ionovici",
    "Kowalczyk",
    "Л.А.",
    "O'Neil",
    "Jean-Pierre",
    "Грицай-Левчук",
    "ПАКТЫШЕВ",
    "Αλέξης",
    "李",
    "Ivan3",
    "г-н",
    "(Петров)",
    "Σίσυφος",
]
_words = st.lists(st.sampled_from(_WORDS) | st.text(min_size=1, max_size=8), min_size=0, max_size=5)
_names = st.builds(lambda ws, sep: sep.join(ws), _words, st.sampled_from([" ", ", ", " , ", "  "]))


def _reference_language(tokens: list[str], script: str) -> str | None:
    """The language as the whole text's regexes told it before, for a name without given names."""
    text = " ".join(tokens).lower()
    if script == CYRILLIC:
        if re.search("[ґєї]", text) or ("і" in text and "и" in text):
            return "uk"
        if "ў" in text or ("і" in text and re.search("[ыэё]", text)):
            return "be"
        if re.search("[ыэъё]", text):
            return "ru"
        if "і" in text:
            return "uk"
        return "ru" if re.search(r"(ова?|ева?|ина?|ий|ая)\b", text) else None
    if script != LATIN:
        return None
    for lang, rx in _LATIN_LANGUAGES:
        if rx.search(text):
            return lang
    return None


@settings(max_examples=400)
@given(_names)
def test_script_from_word_facts_is_the_texts(text: str) -> None:
    clean = clean_text(text)
    flags = 0
    for w in clean.replace(",", " ").split():
        flags |= script_flags(w)
    assert SCRIPT_OF_FLAGS[flags] == detect_script(clean)
    assert parse_name(text).script == detect_script(clean)


@settings(max_examples=400)
@given(_words, st.sampled_from([CYRILLIC, LATIN, "Mixed", "Other"]))
def test_language_from_word_facts_is_the_texts(tokens: list[str], script: str) -> None:
    assert _language(tokens, script, ()) == _reference_language(tokens, script)


@settings(max_examples=200)
@given(_names)
def test_a_parsed_name_is_the_dataclass_built_from_its_fields(text: str) -> None:
    p = parse_name(text)
    same = ParsedName(**{f.name: getattr(p, f.name) for f in fields(ParsedName)})
    assert p == same and hash(p) == hash(same) and repr(p) == repr(same)
    assert pickle.loads(pickle.dumps(p)) == p
