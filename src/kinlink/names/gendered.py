"""Gendered family names and patronymics, recognised on transliteration keys so that
Иванова, Iwanowa and Ivanova, or Андреевич, Andrejewitsch and Andreevici, are one form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kinlink.names.caching import WORD_CACHE
from kinlink.names.frozen import quick_init
from kinlink.names.given import forms_for_key
from kinlink.names.translit import readings

# (key ending, neutral ending, sex). Checked in order; the neutral stem is the masculine form.
# Keys spell ч as C; Ukrainian -ська and Russian -ская share the stem "sk".
_FAMILY_ENDINGS: tuple[tuple[str, str, str | None], ...] = (
    ("skaia", "sk", "f"), ("ska", "sk", "f"), ("ski", "sk", "m"), ("skoi", "sk", "m"),
    ("ckaia", "ck", "f"), ("cka", "ck", "f"), ("cki", "ck", "m"), ("ckoi", "ck", "m"),
    ("ova", "ov", "f"), ("eva", "ev", "f"), ("ina", "in", "f"),
    ("ov", "ov", "m"), ("ev", "ev", "m"), ("in", "in", "m"),
    ("aia", "", "f"), ("oi", "", "m"),
)  # fmt: skip
_VOWELS = set("aeiou")


@quick_init
@dataclass(frozen=True)
class FamilyForm:
    stem: str  # gender-neutral (masculine) stem in key space
    sex: str | None
    derived: bool = True  # False when no gendered ending was found (the stem is the key)


# Every ending at once: most keys have none (Коваленко, Ткачук), and one endswith of them all is a sixteenth
# of the loop's tests (issue 19).
_ANY_FAMILY_ENDING = tuple(ending for ending, _, _ in _FAMILY_ENDINGS)


@lru_cache(maxsize=WORD_CACHE)
def family_form(key: str) -> FamilyForm:
    if key.endswith(_ANY_FAMILY_ENDING):
        for ending, neutral, sex in _FAMILY_ENDINGS:
            if key.endswith(ending) and len(key) > len(ending) + 1:
                return FamilyForm(key[: -len(ending)] + neutral, sex)
    # Ukrainian adjectival names: Вишиваний / Вишивана. An -a alone does not tell the sex
    # (Сковорода, Шульга are men's names too), so the sex stays open.
    if len(key) > 3 and key[-1] in "ia" and key[-2] not in _VOWELS:
        return FamilyForm(key[:-1], "m" if key[-1] == "i" else None)
    return FamilyForm(key, None, derived=False)


# Patronymic endings in key space: -ович/-евич/-ич, -овна/-евна/-івна/-ична; Latin spellings
# (-owitsch, -ovitch, -ovici, -owicz, -ovych) read to the same keys.
# A plain c where ч was meant is what dropping diacritics leaves (Petrovyč -> Petrovyc);
# no Slavic name ends in -овиц, so it is still a patronymic.
_PATRONYMIC = re.compile(r"(?:(ov|ev)i[Cc]|(ov|ev|iv)na|iCna|iC)$")
_PATRONYMIC_LOOSE = re.compile(r"(ov|ev)i[Cc]$|(ov|ev|iv)na$|iCna$")


@quick_init
@dataclass(frozen=True)
class Patronymic:
    key: str
    sex: str
    stem: str  # father's name stem in key space
    fathers: frozenset[str]  # given-name classes the father's name may belong to


def looks_like_patronymic(token: str, strict: bool = True) -> bool:
    """Whether a token has a patronymic ending (strict: not the bare -ич of Belarusian surnames)."""
    return patronymic_of(token, strict) is not None


@lru_cache(maxsize=WORD_CACHE)
def patronymic_of(token: str, strict: bool = False) -> Patronymic | None:
    r = readings(token)
    for key in (*r.likely, *r.keys):
        if len(key) < 4:
            continue
        m = (_PATRONYMIC_LOOSE if strict else _PATRONYMIC).search(key)
        if not m:
            continue
        sex = "f" if key.endswith("na") else "m"
        stem = key[: m.start()]
        return Patronymic(key, sex, stem, _fathers(stem))
    return None


def _fathers(stem: str) -> frozenset[str]:
    """Given-name classes whose male form could give this patronymic stem.

    Андреевич: andr+ei; Ильич: il+ia; Львович, Павлович: the fleeting e (lev, pavel).
    """
    cands = {stem, stem + "i", stem + "ei", stem + "a", stem + "ia", stem + "ii"}
    if len(stem) >= 3 and stem[-1] not in _VOWELS and stem[-2] not in _VOWELS:
        cands.add(stem[:-1] + "e" + stem[-1])
        cands.add(stem[:-1])
    out: set[str] = set()
    for c in cands:
        for gf in forms_for_key(c):
            if gf.sex == "m":
                out.add(gf.class_id)
    return frozenset(out)
