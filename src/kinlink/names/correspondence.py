"""Regular spelling correspondences between the Belarusian, Ukrainian and Russian forms of one name.

Шчарбакоў and Щербаков, Сямёнава and Семёнова, Корольов and Королёв are one name in two orthographies: each
difference is a rule of the orthography (аканне, яканне, ў for в, шч for щ, дзеканне and цеканне; Ukrainian
ьо for Russian ё), not a typo, and none is a transliteration the phonemic keys of `kinlink.names.translit`
already fold. The rules are data (`data/correspondences.tsv`, with its sources); this module applies them
to both names and tells whether they then read the same, and in which orthography.

Belarusian vowel rules (аканне, яканне) would make too many Russian names one if applied everywhere
(Казаков/Козаков): they apply only when one of the two names shows a Belarusian trait (ў, шч, цц, дзь, э
after a consonant, a final -au/-ou in Latin).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from kinlink.names.caching import WORD_CACHE
from kinlink.names.script import CYRILLIC, LATIN
from kinlink.names.translit import normalise_key, read_cyrillic, readings

_DATA = Path(__file__).with_name("data") / "correspondences.tsv"


def _load() -> dict[tuple[str, str], tuple[tuple[re.Pattern[str], str], ...]]:
    rules: dict[tuple[str, str], list[tuple[re.Pattern[str], str]]] = {}
    for line in _DATA.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, script, rx, repl, _note = line.split("\t")
        rules.setdefault((lang, script), []).append((re.compile(rx), repl))
    return {k: tuple(v) for k, v in rules.items()}


_RULES = _load()
# Traits no Russian or Ukrainian spelling has (ц and дз before a soft vowel are Ukrainian too: Перепелиця).
_BELARUSIAN_TRAIT = re.compile(r"ў|шч|цц|дзь|(?<=[бвгджзклмнпрстфхцчшщ])э|ŭ|[aeo]u$")


def _apply(text: str, lang: str, script: str) -> str:
    for rx, repl in _RULES.get((lang, script), ()):
        text = rx.sub(repl, text)
    return text


@lru_cache(maxsize=WORD_CACHE)
def _keys(token: str, belarusian: bool) -> frozenset[str]:
    """The word's comparison keys with the correspondences applied (the Belarusian vowel rules too when
    asked)."""
    r = readings(token)
    low = token.lower()
    if r.script == CYRILLIC:
        cyr = _apply(low, "uk", "cyr")
        if belarusian:
            cyr = _apply(cyr, "be", "cyr")
        keys = {normalise_key(read_cyrillic(cyr))}
    elif r.script == LATIN:
        keys = {normalise_key(_apply(k, "be", "lat") if belarusian else k) for k in r.loose}
    else:
        return frozenset()
    if belarusian:
        keys = {_apply(k, "be", "key") for k in keys}
    return frozenset(k for k in keys if k)


def correspondence(a: str, b: str) -> tuple[str, str] | None:
    """("be" or "uk", the word in that orthography) when the two words are one name by the regular
    correspondences of that orthography with Russian; None otherwise."""
    # Neither word showing a trait of either orthography (nearly every pair a search compares): none,
    # told from each word's traits, looked up once a word, not worked out again for each new pair.
    if not (_traits(a) or _traits(b)):
        return None
    return _correspondence(a, b)


@lru_cache(maxsize=WORD_CACHE)
def _traits(token: str) -> bool:
    """Whether the word has a trait `_correspondence` looks for: a Ukrainian ьо or a Belarusian trait."""
    low = token.lower()
    return "ьо" in low or bool(_BELARUSIAN_TRAIT.search(low))


@lru_cache(maxsize=65536)
def _correspondence(a: str, b: str) -> tuple[str, str] | None:
    if ("ьо" in a.lower() or "ьо" in b.lower()) and _keys(a, False) & _keys(b, False):
        return "uk", a if "ьо" in a.lower() else b
    trait_a, trait_b = bool(_BELARUSIAN_TRAIT.search(a.lower())), bool(_BELARUSIAN_TRAIT.search(b.lower()))
    if (trait_a or trait_b) and _keys(a, True) & _keys(b, True):
        return "be", a if trait_a else b
    return None


def belarusian_keys(token: str) -> frozenset[str]:
    """The keys a word showing a Belarusian trait has in Russian spelling (Marozau: Морозов's), for
    blocking; none for other words."""
    if not _BELARUSIAN_TRAIT.search(token.lower()):
        return frozenset()
    return _keys(token, True)
