"""Which words of a name are its family name, given names and patronymic, and in what order it was written.

Read from each token's cached facts (`kinlink.names.parse._tok`) and a few questions asked of the words
themselves (a patronymic's form, a family name's ending), as `kinlink.names.parse` reads a name.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kinlink.names.caching import WORD_CACHE
from kinlink.names.gendered import patronymic_of
from kinlink.names.given import given_sex
from kinlink.names.translit import readings

FAMILY_FIRST = "family_first"
GIVEN_FIRST = "given_first"
UNKNOWN = "unknown"

_FAMILY_SUFFIX = re.compile(
    r"(ova?|eva?|ina?|ska|ski|skaia|sk|cka|cki|ck|aia|enko|ko|uk|Cuk|iuk|ian|dze|Svili|iC|oviC|eviC)$"
)


# What a parse asks of a token, worked out once a token (a name is nearly always new, its words are not;
# issue 19): (token, an initial, a given name we know, a patronymic by the strict test, written in
# capitals, the letters _language looks for). Only the first two are asked of an initial.
TokenFacts = tuple[str, bool, bool, bool, bool, int]


@lru_cache(maxsize=WORD_CACHE)
def has_family_suffix(tok: str) -> bool:
    return any(_FAMILY_SUFFIX.search(k) for k in readings(tok).likely)


@lru_cache(maxsize=WORD_CACHE)
def fathered(tok: str) -> bool:
    p = patronymic_of(tok)
    return p is not None and bool(p.fathers)


def assign_parts(
    facts: list[TokenFacts], comma_family_first: bool
) -> tuple[str | None, tuple[str, ...], str | None, str]:
    """(family, given names, patronymic, order) for the non-initial tokens."""
    n = len(facts)
    if n == 0:
        return None, (), None, UNKNOWN
    toks, _, known, patr, upper, _ = zip(*facts, strict=True)
    if n == 3 and patr[1] and patr[2] and not known[0] and not known[1]:
        # Two words with a patronymic ending after a word we do not know (a misspelt given
        # name): a family name in -евич/-ович (Їжакевич, Прокопович) is as common as a
        # patronymic, but in registry order F G P the middle word would be a given name, and
        # this one is not: the order is G P F ("Arten Hordijovyč Jižakevyč", "Romam
        # Teodorovych Prokopovych").
        return toks[2], (toks[0],), toks[1], GIVEN_FIRST
    if all(upper) or not any(upper):
        upper = (False,) * n
    if comma_family_first:
        rest = toks[1:]
        p = rest[-1] if len(rest) >= 2 and patronymic_of(rest[-1]) else None
        given = tuple(rest[:-1] if p else rest)
        return toks[0], given, p, FAMILY_FIRST
    if n == 1:
        if known[0] and not patr[0] and not upper[0] and not has_family_suffix(toks[0]):
            return None, (toks[0],), None, UNKNOWN
        return toks[0], (), None, UNKNOWN
    if any(upper):
        fi = upper.index(True)
        rest = [t for i, t in enumerate(toks) if i != fi]
        p = rest[-1] if len(rest) >= 2 and patronymic_of(rest[-1]) else None
        order = FAMILY_FIRST if fi == 0 else GIVEN_FIRST
        return toks[fi], tuple(rest[:-1] if p else rest), p, order
    # A patronymic right after a given name fixes the rest: [F] G P [F].
    for i in range(1, n if n >= 3 else 0):
        if patr[i] and (known[i - 1] or (n == 3 and i == 2 and not known[0])):
            before, after = toks[: i - 1], toks[i + 1 :]
            family_toks = before or after
            family = " ".join(family_toks) if family_toks else None
            order = FAMILY_FIRST if before else (GIVEN_FIRST if after else UNKNOWN)
            return family, (toks[i - 1],), toks[i], order
    # Three words with one clear patronymic: its place gives the order even when the given
    # name is misspelt ("Mksim Albertovici Cialenko").
    if n == 3 and known[0] and not known[1] and not patr[2] and patronymic_of(toks[1]):
        return toks[2], (toks[0],), toks[1], GIVEN_FIRST  # Доброслав Фокич Паулюс
    if n == 3 and patr[1] != patr[2]:
        if patr[1]:
            return toks[2], (toks[0],), toks[1], GIVEN_FIRST
        if known[0] and not known[1]:
            return toks[1], (toks[0],), toks[2], UNKNOWN  # "Leonid Paktishev Andreevich"
        return toks[0], (toks[1],), toks[2], FAMILY_FIRST
    # Press order G P F with a bare -ич patronymic made from a known name, and a family name
    # with its suffix last ("Sergueï Fomitch Dorofeev").
    if (
        n == 3
        and not known[2]
        and fathered(toks[1])
        and has_family_suffix(toks[2])
        and (known[0] or not has_family_suffix(toks[0]))
    ):
        return toks[2], (toks[0],), toks[1], GIVEN_FIRST
    # Registry order F G P with a bare -ич patronymic (Савич, Лукич, Ільїч).
    if n == 3 and known[1] and not known[2] and patronymic_of(toks[2]):
        return toks[0], (toks[1],), toks[2], FAMILY_FIRST
    if n == 2 and known[0] and not known[1]:
        # "Леонид Андреевич" (name and patronymic, no family name) only when it cannot be a
        # family name: a woman's patronymic of the right sex. "Anna Makarevici" and "Антон
        # Макаревич" are Given Family.
        p = patronymic_of(toks[1], strict=True)
        if p is not None and p.sex == "f" and given_sex(toks[0]) == "f":
            return None, (toks[0],), toks[1], UNKNOWN
    # No patronymic. A known given name at one end and not at the other settles the order.
    if known[0] != known[-1]:
        if n == 3 and not known[1] and patronymic_of(toks[1]) is None:
            # Two words beside one given name, neither a given name nor a patronymic: a double-barrelled
            # family name written with a space ("Наталія Левчук Грицай", "Соколова Микитенко Ірина").
            if known[0]:
                return f"{toks[1]} {toks[2]}", (toks[0],), None, GIVEN_FIRST
            return f"{toks[0]} {toks[1]}", (toks[2],), None, FAMILY_FIRST
        if known[0]:
            return toks[-1], tuple(toks[:-1]), None, GIVEN_FIRST
        return toks[0], tuple(toks[1:]), None, FAMILY_FIRST
    # Both or neither known ("Роман Олег", "Vachnij Avhustyn" misspelt): a family-name
    # suffix decides, else the press order Given Family.
    suf0, suf1 = has_family_suffix(toks[0]), has_family_suffix(toks[-1])
    if suf0 and not suf1:
        return toks[0], tuple(toks[1:]), None, UNKNOWN
    return toks[-1], tuple(toks[:-1]), None, UNKNOWN
