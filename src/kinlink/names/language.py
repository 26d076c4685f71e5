"""What a name's words tell besides its parts: its language (from its letters, or else its given names)
and its bearer's sex (from its given names, patronymic or family name), as `kinlink.names.parse` asks."""

from __future__ import annotations

import re
from functools import lru_cache

from kinlink.names.caching import WORD_CACHE
from kinlink.names.gendered import family_form, patronymic_of
from kinlink.names.given import given_forms, given_sex
from kinlink.names.order import TokenFacts
from kinlink.names.script import CYRILLIC, LATIN, MIXED, detect_script
from kinlink.names.translit import readings

_UK_LETTERS = re.compile(r"[ґєї]")
_RU_AFTER_I = re.compile(r"[ыэё]")
_RU_LETTERS = re.compile(r"[ыэъё]")
_RU_ENDINGS = re.compile(r"(ова?|ева?|ина?|ий|ая)\b")
_LATIN_LANGUAGES = tuple(
    (lang, re.compile(rx))
    for lang, rx in (
        ("ro", r"[șşțţă]|\b\w+ovici\b"),
        ("pl", r"[łżźśćńąę]|sz|cz|rz|\w+owicz\b"),
        ("cs", r"[čšžřěů]"),
        ("de", r"[äöüß]|sch|\w+(ow|ew|owa|ewa)\b|witsch\b"),
        ("fr", r"[ïçéè]|tch|ou|\w+ine\b|\w+ovitch\b"),
        ("es", r"ñ"),
        ("en", r"kh|zh|sh|ch|ts|y"),
    )
)


# A token's letters as _language asks of them, one bit a question (the answers of the joined, lower-cased
# text are the or of its tokens': no pattern spans a space).
_UK, _I_UK, _I_RU, _WU, _RU_AFTER, _RU, _RU_END = (1 << i for i in range(7))
_LATIN_SHIFT = 8
_HAS_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")  # every letter a Latin pattern names


@lru_cache(maxsize=WORD_CACHE)
def _language_bits(tok: str) -> int:
    low = tok.lower()
    bits = 0
    # The Cyrillic questions look for Cyrillic letters, and every Latin pattern needs a Latin letter: a word
    # of one script is asked only its own script's (half the patterns a word).
    if not low.isascii():
        bits = (
            (_UK if _UK_LETTERS.search(low) else 0)
            | (_I_UK if "і" in low else 0)
            | (_I_RU if "и" in low else 0)
            | (_WU if "ў" in low else 0)
            | (_RU_AFTER if _RU_AFTER_I.search(low) else 0)
            | (_RU if _RU_LETTERS.search(low) else 0)
            | (_RU_END if _RU_ENDINGS.search(low) else 0)
        )
    if low.isascii() or _HAS_LATIN_LETTER.search(low):
        for i, (_lang, rx) in enumerate(_LATIN_LANGUAGES):
            if rx.search(low):
                bits |= 1 << (_LATIN_SHIFT + i)
    return bits


def _language(tokens: list[str], script: str, given: tuple[str, ...]) -> str | None:
    bits = 0
    for t in tokens:
        bits |= _language_bits(t)
    return _language_of(bits, script, given)


def _letters(toks: list[TokenFacts], script: str) -> tuple[int, str]:
    """A name's letters as _language_of asks of them (its tokens' _language_bits or-ed), and the script it
    is asked with: a name of mixed scripts as its tokens, homoglyphs fixed, tell it."""
    bits = 0
    for t in toks:
        bits |= t[5]
    if script == MIXED:
        script = detect_script(" ".join([t[0] for t in toks]))
    return bits, script


def _told_by_letters(bits: int, script: str) -> bool:
    """Whether _language_of answers from the letters alone, without asking the given names."""
    return script != CYRILLIC or bool(bits & (_UK | _WU | _RU | _I_UK))


def _language_of(bits: int, script: str, given: tuple[str, ...]) -> str | None:
    """The language a name's letters (its tokens' _language_bits or-ed) and given names tell."""
    if script != CYRILLIC and script != LATIN:
        return None
    if script == CYRILLIC:
        if bits & _UK or (bits & _I_UK and bits & _I_RU):
            return "uk"
        if bits & _WU or (bits & _I_UK and bits & _RU_AFTER):
            return "be"
        if bits & _RU:
            return "ru"
        if bits & _I_UK:
            return "uk"
        langs = {_given_language(t) for t in given}
        langs.discard(None)
        if len(langs) == 1:
            return langs.pop()
        return "ru" if bits & _RU_END else None
    latin = bits >> _LATIN_SHIFT
    if latin:
        return _LATIN_LANGUAGES[(latin & -latin).bit_length() - 1][0]
    return None


@lru_cache(maxsize=WORD_CACHE)
def _given_language(tok: str) -> str | None:
    """The language of the given name's first table entry when it is a full form."""
    forms = given_forms(tok)
    return forms[0].lang if forms and forms[0].kind == "full" else None


def _sex(family: str | None, given: tuple[str, ...], patronymic: str | None) -> str | None:
    for g in given:
        s = given_sex(g)
        if s:
            return s
    if patronymic:
        p = patronymic_of(patronymic)
        if p:
            return p.sex
    if family:
        r = readings(family)
        sexes = {family_form(k).sex for k in r.likely}
        if len(sexes) == 1:
            return sexes.pop()
    return None
