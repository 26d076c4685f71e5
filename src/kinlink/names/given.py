"""Given names: equivalence classes across Russian, Ukrainian, Belarusian, Western forms and
diminutives, looked up through transliteration keys so that any spelling finds its class."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from kinlink.messages import message_id
from kinlink.names.caching import WORD_CACHE
from kinlink.names.script import CYRILLIC, fix_homoglyphs
from kinlink.names.translit import cleaned_readings, readings

LANG_LABELS = {"ru": "Russian", "uk": "Ukrainian", "be": "Belarusian", "western": "Western"}
# The same, as message ids (a language's name, standing alone: "Олексій (Ukrainian)").
LANG_NAMES = {
    "ru": message_id("Russian"),
    "uk": message_id("Ukrainian"),
    "be": message_id("Belarusian"),
    "western": message_id("Western"),
}


@dataclass(frozen=True)
class GivenForm:
    form: str
    class_id: str
    sex: str  # "m" or "f"
    lang: str  # "ru", "uk", "be" or "western"
    kind: str  # "full", "diminutive" or "western"

    def describe(self) -> str:
        if self.kind == "diminutive":
            return f"a diminutive of {_head(self.class_id, self.sex)}"
        return f"the {LANG_LABELS[self.lang]} form"


@dataclass(frozen=True)
class _Table:
    by_key: dict[str, tuple[GivenForm, ...]]
    heads: dict[tuple[str, str], str]  # (class, sex) -> Russian head form
    class_order: dict[str, int]
    initials: dict[str, frozenset[str]]  # class -> first letters (key space) of its full forms


@cache
def _table() -> _Table:
    by_key: dict[str, list[GivenForm]] = {}
    heads: dict[tuple[str, str], str] = {}
    order: dict[str, int] = {}
    initials: dict[str, set[str]] = {}
    text = resources.files("kinlink.names").joinpath("data/given_names.tsv").read_text("utf-8")
    rows = csv.DictReader((ln for ln in text.splitlines() if not ln.startswith("#")), delimiter="\t")
    for row in rows:
        cid, sex = row["id"], row["sex"]
        order.setdefault(cid, len(order))
        cols = (("ru", "full"), ("uk", "full"), ("be", "full"), ("diminutives", "diminutive"))
        for col, kind in (*cols, ("western", "western")):
            for form in filter(None, (row.get(col) or "").split("|")):
                lang = "western" if col == "western" else col if col != "diminutives" else "ru"
                gf = GivenForm(form, cid, sex, lang, kind)
                heads.setdefault((cid, sex), form)
                r = readings(form)
                # A Western form is registered under its main reading only: its other readings
                # would make unrelated spellings look like it (Spanish "Jan" reads Хан).
                keys = r.keys if r.script == CYRILLIC else r.keys[:1]
                for key in keys:
                    lst = by_key.setdefault(key, [])
                    if gf not in lst:
                        lst.append(gf)
                if kind == "full" and col in ("ru", "uk"):
                    initials.setdefault(cid, set()).add(fold_cyrillic(form[0]))
    return _Table(
        {k: tuple(v) for k, v in by_key.items()},
        heads,
        order,
        {k: frozenset(v) for k, v in initials.items()},
    )


def _head(class_id: str, sex: str) -> str:
    t = _table()
    return t.heads.get((class_id, sex)) or t.heads.get((class_id, "m")) or class_id


def head_form(class_id: str, sex: str | None = None) -> str:
    """The Russian head form of a class (Александр), for messages."""
    return _head(class_id, sex or "m")


@lru_cache(maxsize=WORD_CACHE)
def given_forms(token: str) -> tuple[GivenForm, ...]:
    """The table entries a spelling can stand for (empty when unknown).

    The token's plausible readings are tried first, then its other readings; so "Michail" finds
    Михаил through the German reading even though "ch" might be English ч.
    """
    tok = token.strip('.,;:()[]"')
    if len(tok) < 2:
        return ()
    # What follows reads the token's readings (those of its homoglyphs fixed, lower-cased) and its lower
    # case alone: worked out once for "Иванов" and "иванов", which a parse asks of each word (issue 19).
    return _given_forms(fix_homoglyphs(tok).lower(), tok.lower())


@lru_cache(maxsize=WORD_CACHE)
def _given_forms(read_as: str, low: str) -> tuple[GivenForm, ...]:
    """`given_forms` of a token whose readings are `cleaned_readings(read_as)` (as `readings` reads it)
    and whose lower case is `low`."""
    t = _table()
    r = cleaned_readings(read_as)
    for keys in (r.likely, r.keys):
        found: list[GivenForm] = []
        for key in keys:
            for gf in t.by_key.get(key, ()):
                if gf not in found:
                    found.append(gf)
        if found:
            # Exact spelling first, then full forms before diminutives, then table order.
            found.sort(
                key=lambda g: (g.form.lower() != low, g.kind == "diminutive", t.class_order[g.class_id])
            )
            return tuple(found)
    return ()


def given_classes(token: str) -> frozenset[str]:
    return frozenset(g.class_id for g in given_forms(token))


def canonical_given(name: str) -> str | None:
    """Canonical id of the given name's equivalence class, or None if the name is unknown.

    Олексій, Алексей, Алёша, Alexei and Oleksiy all give "aleksei". Male and female forms of
    one name share the id (Александр, Александра: "aleksandr").
    """
    forms = given_forms(name.strip())
    return forms[0].class_id if forms else None


@lru_cache(maxsize=WORD_CACHE)  # asked of every word of every name parsed
def is_known_given_name(token: str) -> bool:
    """True if the token is a given name (any of our forms, in Cyrillic or any romanisation)."""
    return bool(given_forms(token))


@lru_cache(maxsize=WORD_CACHE)
def given_sex(token: str) -> str | None:
    """ "m" or "f" when the spelling tells; the spelling's own entry wins over look-alikes
    (Валентин is male even though French Valentine reads the same)."""
    forms = given_forms(token)
    low = token.strip(".").lower()
    exact = [g for g in forms if g.form.lower() == low]
    native = [g for g in forms if g.kind != "western"]
    sexes = {g.sex for g in (exact or native)}
    return sexes.pop() if len(sexes) == 1 else None


def class_initials(class_id: str) -> frozenset[str]:
    """First letters (folded Cyrillic) of the Russian and Ukrainian full forms of a class:
    {"а", "о"} for Александр/Олександр."""
    return _table().initials.get(class_id, frozenset())


# й stays apart: a Latin "Y." is Євген, Юрій, Яків or Йосип, never Игорь or Ирина.
_CYR_FOLD = str.maketrans({"і": "и", "ї": "и", "ы": "и", "є": "е", "ё": "е", "э": "е", "ґ": "г"})


def fold_cyrillic(letter: str) -> str:
    return letter.lower().translate(_CYR_FOLD)


# The Cyrillic letters (folded) that a Latin initial can stand for, from the first letters of
# the romanisations in use: "I." is Иван, in ICAO passports Юлия (Iuliia), Яков (Iakov),
# Йосип (Iosyp), in French Елена (Ielena); "J." and "Y." are the iotated vowels and й
# (Jelena, Yelena, Juri), "J." also French ж and Spanish х, never и; "O." is also French
# "Ou" for у (Oulianov); "C." is ц, ч (Ch-, Ci-, Cz-), х (German Ch-) or Romance к, never с.
_LATIN_INITIAL: dict[str, str] = {
    "a": "а", "b": "б", "c": "цчкх", "č": "ч", "d": "д", "e": "е", "f": "ф", "g": "г",
    "h": "гх", "i": "иеюяй", "j": "еюяйжх", "k": "кх", "l": "л", "ł": "л", "m": "м", "n": "н",
    "o": "оу", "p": "п", "r": "р", "s": "сшщжз", "š": "ш", "ș": "ш", "ŝ": "щ", "t": "тчц",
    "ț": "ц", "u": "у", "v": "в", "w": "в", "x": "хк", "y": "еюяй", "z": "зжц", "ž": "ж",
    "ż": "ж", "q": "к",
}  # fmt: skip


@lru_cache(maxsize=WORD_CACHE)
def initial_letters(token: str, equivalents: bool = True) -> frozenset[str]:
    """The Cyrillic letters (folded) a name or an initial may begin with, in any script; with
    `equivalents`, also those of the name's other-language forms (Алексей: а, and о for
    Олексій)."""
    tok = token.strip(".").strip()
    if not tok:
        return frozenset()
    first = tok[0].lower()
    if readings(tok).script == CYRILLIC:
        out = {fold_cyrillic(first)}
    else:
        base = unicodedata.normalize("NFD", first)[0]
        out = set(_LATIN_INITIAL.get(first, "") or _LATIN_INITIAL.get(base, ""))
    if equivalents and len(tok) > 1:
        for g in given_forms(tok):
            out |= class_initials(g.class_id)
    return frozenset(out)


@lru_cache(maxsize=4096)
def classes_with_initials(letters: frozenset[str]) -> tuple[str, ...]:
    """The classes whose Russian or Ukrainian full forms begin with one of these letters
    (folded), in table order: every name an initial may stand for."""
    t = _table()
    return tuple(c for c in t.class_order if t.initials.get(c, frozenset()) & letters)


def forms_for_key(key: str) -> tuple[GivenForm, ...]:
    return _table().by_key.get(key, ())


def known_keys() -> frozenset[str]:
    return frozenset(_table().by_key)
