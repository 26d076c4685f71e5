"""Names written in an oblique grammatical case, read back in the nominative.

Russian and Ukrainian names inside a sentence, or copied from one, are declined: "Сергея Ковалёва"
(genitive), "Андрієм Мельником" (instrumental), "Олени Бойко" (genitive of a woman's name with an
indeclinable surname). Every part of such a name is analysed with pymorphy3 (the OpenCorpora and
LanguageTool/VESUM dictionaries it ships for ru and uk, with its suffix predictor for words they lack),
which tells each part's case and the gender its ending implies. The name is read in one case and one
gender that every part admits; it is then given in the nominative, and compared and blocked so.

Rules, from the grammar rather than from data:
- The nominative wins whenever every part admits it ("Ковалёва Анна" is a woman, "Иванова" alone
  too): a registry writes names in the nominative, and a guess must never rewrite them.
- One case and one gender for the whole name: "Віталія Ткачука" cannot be a woman named Віталія,
  since Ткачука is only a man's genitive; "Андрія Петровича Мельника" is one man's given name,
  patronymic and surname.
- Indeclinable surnames stay as written in any case: pymorphy3's Fixd ones, the Russian use of
  Ukrainian -енко/-ко, -ых/-их, -аго/-яго (Шевченко, Черных, Живаго), a woman's surname ending in a
  consonant (Ткачук, Коваль), and words no dictionary knows as a noun (foreign surnames).

pymorphy3 costs ~0.1 ms a word: a name whose every word plainly reads as a nominative (a known given name,
a surname ending the way nominatives end) skips it, and each distinct word is analysed once (cached).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kinlink.names.caching import WORD_CACHE
from kinlink.names.frozen import quick_init
from kinlink.names.given import GivenForm, given_forms

# `given_forms` past its cache, for a word whose facts are cached whole (`word_facts_now`).
_given_forms_now = given_forms.__wrapped__

# Cases pymorphy3 tells, in the order a tie between them is read (the genitive is by far the commonest
# in reports: "the body of X", "the release of X").
OBLIQUE = ("gent", "datv", "ablt", "loct", "accs")
GENDERS = ("masc", "femn")
CASE_NAMES = {
    "gent": "genitive",
    "datv": "dative",
    "accs": "accusative",
    "ablt": "instrumental",
    "loct": "prepositional",
}

_CYRILLIC_WORD = re.compile(r"^[а-яёіїєґў'ʼ’-]+$")
_UK_LETTERS = re.compile(r"[іїєґ]")
_RU_LETTERS = re.compile(r"[ыэъё]")
# Endings only a nominative name has, or that an oblique form never has: a word ending so needs no
# analysis. Consonant-final words do, when the consonant is the м of an instrumental (-ом, -ем, -ым, -им).
_PLAIN_NOMINATIVE = re.compile(
    r"(?:[бвгґджзклнпрстфхцчшщь]|(?<![оеёыи])м|(?<![оеі])й|ова|ева|ёва|єва|ина|ына|ская|цкая|ська|цька|ая|яя|ко|ых|их|аго|яго|"
    r"ович|евич|івна|ївна|овна|евна|ична|інична)$"
)
_INDECLINABLE = re.compile(r"(?:ко|ых|их|аго|яго)$")
_OBLIQUE_ENDING = re.compile(r"(?:ом|ем|ём|ым|им|ой|ою|ею|єю|ові|еві|ого|ому|ому|[уюіе])$")
_ENKO = re.compile(r"енк(?:а|у|ові|ом|і)$")
_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


@quick_init
@dataclass(frozen=True)
class Reading:
    case: str
    gender: str  # masc, femn or ms-f (either)
    nominative: str  # lower case
    score: float
    fixed: bool  # indeclinable: the same word in every case
    named: bool  # the dictionary tags the word as a given name, surname or patronymic
    given: bool  # ... as a given name
    known: bool  # the dictionary has the word (not the suffix predictor's guess)


@quick_init
@dataclass(frozen=True)
class CaseReading:
    """A name's words read in the nominative, and the case and gender they were written in."""

    words: tuple[str, ...]  # the nominative words, capitalised as written
    written: tuple[str, ...]  # the words as written
    case: str  # gent, datv, accs, ablt or loct
    gender: str  # masc or femn

    @property
    def case_name(self) -> str:
        return CASE_NAMES[self.case]


@lru_cache(maxsize=2)
def _analyzer(lang: str) -> Any:
    import pymorphy3  # a dependency of the project; loaded once, lazily (~1 s a dictionary)

    return pymorphy3.MorphAnalyzer(lang=lang)


def load_dictionaries() -> None:
    """The morphological dictionaries loaded now, not at the first oblique name read.

    For a process about to fork workers: loaded here they are loaded once and shared by every worker
    (copy on write); loaded lazily, each worker loads its own (~0.2-0.3 CPU-s each, a tenth of a
    worker's first thousand searches; issue 19)."""
    for lang in ("ru", "uk"):
        _analyzer(lang)


@lru_cache(maxsize=WORD_CACHE)  # per distinct word and language: a word's analysis never changes
def readings(word: str, lang: str) -> tuple[Reading, ...]:
    """The singular noun (or adjectival surname) readings of one lower-case word, by case."""
    out: list[Reading] = []
    for p in _analyzer(lang).parse(word):
        tag = p.tag
        case = str(tag.case) if tag.case else ""
        if tag.number == "plur" or (case not in CASE_NAMES and case != "nomn"):
            continue
        if tag.POS == "NOUN":
            if not (_NAME_TAGS & tag.grammemes or "anim" in tag.grammemes):
                continue
        elif not (tag.POS == "ADJF" and "Surn" in tag.grammemes):
            continue
        fixed = "Fixd" in tag.grammemes
        gender = str(tag.gender) if tag.gender else "ms-f"
        if fixed or case == "nomn":
            nominative = word
        else:
            inflected = p.inflect({"nomn"})
            if inflected is None:
                continue
            nominative = inflected.word
        named = bool(_NAME_TAGS & tag.grammemes) and p.is_known  # the predictor's guesses do not count
        if _ENKO.search(word) and nominative.endswith(("ёнок", "енок")):
            # A surname in -енка/-енком is a Ukrainian -енко declined (Гончаренка), the commonest
            # surname type of the region, far more often than a -ёнок (Гаврилёнок, or a young-animal
            # noun the predictor guesses for a word it does not know).
            nominative = _ENKO.sub("енко", word)
        # A reading as a name counts for more than one as any animate noun (мельник, рудёнок).
        score = (float(p.score) or 0.01) * (1.0 if named else 0.3)
        out.append(
            Reading(case, gender, nominative, score, fixed, named, "Name" in tag.grammemes, p.is_known)
        )
    return tuple(out)


def _plainly_nominative(word: str, forms: tuple[GivenForm, ...]) -> bool:
    """Whether a word (whose `given_forms` are these) reads plainly as a nominative."""
    return bool(forms) or bool(_PLAIN_NOMINATIVE.search(word))


_NOMINATIVE_PATRONYMIC = re.compile(r"(?:вна|чна)$")


def _surely_nominative(word: str, forms: tuple[GivenForm, ...]) -> bool:
    """Whether a word (whose `given_forms` are these) can only be a nominative."""
    if _NOMINATIVE_PATRONYMIC.search(word):
        return True
    return not word.endswith(("а", "я", "о")) and any(
        g.sex == "m" and g.kind == "full" and g.form.lower() == word for g in forms
    )


def _fits(word: str, rs: tuple[Reading, ...], case: str, gender: str) -> Reading | None:
    best: Reading | None = None
    top = max((r.score for r in rs), default=0.0)
    named = any(r.named for r in rs)
    for r in rs:
        # A surname in -а/-я (Забара, Сковорода) is either sex's in the nominative.
        common = case == r.case == "nomn" and word.endswith(("а", "я")) and not r.given
        if (r.case == case or r.fixed) and (r.gender in (gender, "ms-f") or common):
            # A given name of our table is an oblique form only of another given name of the table
            # (Ярослава, of Ярослав), not of a surname or a name nobody bears (Ганна: Ганн; Алла: Алл).
            if case != "nomn" and not r.fixed and given_forms(word) and not given_forms(r.nominative):
                continue
            # A nominative the dictionary holds rare for this word, or a calendar name nobody bears
            # (Дмитрия, Григория: women's names in the dictionary, not in our table of given names),
            # does not outweigh the genitive everyone writes; nor does a common noun's nominative
            # (гурия) beside the word's readings as a name (Гурия, the genitive of Гурий).
            if (
                case == "nomn"
                and not r.fixed
                and (r.score < 0.1 * top or (r.given and not given_forms(word)) or (named and not r.named))
            ):
                continue
            if best is None or r.score > best.score:
                best = r
    return best


def _neutral(word: str, rs: tuple[Reading, ...], gender: str, lang: str) -> bool:
    """A word that stays as written in any case for this gender."""
    if _INDECLINABLE.search(word) and not (lang == "uk" and gender == "masc" and word.endswith("ко")):
        return True  # -ых/-их/-аго, and -енко/-ко but in Ukrainian a man's (Шевченка, Шевченкові)
    # A woman's surname ending in a consonant (Ткачук, Коваль) does not decline.
    return gender == "femn" and word[-1] in "бвгґджзклмнпрстфхцчшщь" and any(r.case == "nomn" for r in rs)


def _choose(words: list[str], lang: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(case, gender, nominative words) of the reading every word admits, the nominative first ("nomn":
    the name stays as written); None when no single case fits."""
    rs = [readings(w, lang) if "-" not in w else () for w in words]
    best: tuple[float, str, str, tuple[str, ...]] | None = None
    for case in ("nomn", *OBLIQUE):
        for gender in GENDERS:
            out: list[str] = []
            score = 0.0
            declined = False
            for w, r in zip(words, rs, strict=True):
                got = _fit_word(w, r, case, gender, lang)
                if got is None:
                    break
                out.append(got[0])
                score += got[1]
                # A case is told by a word the dictionary declines, or by an ending only an oblique
                # form has; not by the predictor's guess at an unknown word in -а/-я (Асаула).
                declined |= got[2] and (any(x.known for x in r) or bool(_OBLIQUE_ENDING.search(w)))
            else:
                if case == "nomn":
                    return case, gender, tuple(words)
                if declined and (best is None or score > best[0] + 1e-9):
                    best = (score, case, gender, tuple(out))
    return best[1:] if best is not None else None


def _fit_word(
    word: str, rs: tuple[Reading, ...], case: str, gender: str, lang: str
) -> tuple[str, float, bool] | None:
    """(nominative, score, declined) of one word read in this case and gender; None when it cannot be.
    Each half of a double-barrelled surname declines on its own (Левчука-Грицая)."""
    if "-" in word:
        got = [_fit_word(p, readings(p, lang), case, gender, lang) for p in word.split("-") if p]
        if not got or any(g is None for g in got):
            return None
        return "-".join(g[0] for g in got if g), sum(g[1] for g in got if g), any(g[2] for g in got if g)
    if case == "nomn" and not any(r.known for r in rs) and not _OBLIQUE_ENDING.search(word):
        # A word no dictionary knows may be a nominative, unless its ending says otherwise (Субботиным).
        return word, 0.0, False
    if case == "nomn" and any(g.sex[0] == gender[0] for g in given_forms(word)):
        # A name our table of given names knows in the nominative is one (a woman named Володимира,
        # which pymorphy3 knows only as the genitive of Володимир).
        return word, 0.0, False
    fit = _fits(word, rs, case, gender)
    if fit is not None and not fit.fixed:
        return fit.nominative, fit.score, True
    if fit is not None or ((rs or _INDECLINABLE.search(word)) and _neutral(word, rs, gender, lang)):
        return word, 0.0, False
    if not rs and case == "nomn":
        return word, 0.0, False
    return None


def _named_words(words: list[str], lang: str) -> tuple[int, int, int]:
    """How many of the words this language's dictionary knows as a name (given, surname, patronymic), and
    how many of them it declines (a tie-break: Russian takes "Ади" for an indeclinable man's name, Ukrainian
    for the genitive of Ада)."""
    rs = [readings(w, lang) for w in words]
    return (
        sum(any(r.named for r in x) for x in rs),
        sum(any(r.named and not r.fixed for r in x) for x in rs),
        sum(bool(x) for x in rs),  # then, how many it reads at all (Артимишиним: Ukrainian)
    )


def _supported(words: list[str], lang: str) -> bool:
    """Whether a word bears a nominative reading out: a given name of our table, or a word the dictionary
    knows in the nominative (not an indeclinable one, which fits any case)."""
    return any(
        given_forms(w) or any(r.known and r.case == "nomn" and not r.fixed for r in readings(w, lang))
        for w in words
    )


def _all_known(words: list[str], lang: str) -> bool:
    return all(any(r.known for r in readings(w, lang)) for w in words)


def _recase(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


def word_facts_now(word: str) -> tuple[str, bool, bool, bool, bool]:
    """`_word_facts` worked out, not looked up: for a caller that caches a word's facts of its own
    (`kinlink.names.parse._family_word`). The word's lower case's given forms are asked once, not by each
    question (a word's facts first met cost a cache entry a question before; issue 19)."""
    low = word.lower().replace("’", "'").replace("ʼ", "'")
    if not _CYRILLIC_WORD.match(low):
        return low, False, False, False, False
    forms = _given_forms_now(low)
    return low, True, _plainly_nominative(low, forms), bool(forms), _surely_nominative(low, forms)


# What `nominative` first asks of a word, in one look-up a word (a name is nearly always new, its words
# are not; issue 19): (lower case, Cyrillic, plainly nominative, a given name, surely nominative).
_word_facts = lru_cache(maxsize=WORD_CACHE)(word_facts_now)


def read_as_written(words: tuple[str, ...] | list[str]) -> bool:
    """Whether `nominative(words)` is None from the words' cached facts alone, before any dictionary is
    asked: then it is None whatever else the words are (`kinlink.names.parse.plain_parse` relies on it)."""
    return _as_written([_word_facts(w) for w in words])


def _as_written(facts: list[tuple[str, bool, bool, bool, bool]]) -> bool:
    all_plain, a_given = True, False
    for f in facts:
        if not f[1] or f[4]:
            return True
        all_plain = all_plain and f[2]
        a_given = a_given or f[3]
    return all_plain and a_given


# Not cached: parse_name is its one caller and caches whole names; a name's words, which repeat, are cached
# below it. A cache a name would only add an entry the garbage collector walks (issue 19).
def nominative(words: tuple[str, ...]) -> CaseReading | None:
    """The name's words in the nominative when they are written in an oblique case ("Андрія Петровича
    Мельника": Андрій Петрович Мельник, genitive, masculine); None when they already read as a nominative,
    are not all Cyrillic, or admit no single case."""
    if not words:
        return None
    # One pass over the words' cached facts (a loop, not all()/any() generators: a third of a parse;
    # issue 19). None when a word is not Cyrillic; when every word reads plainly as a nominative and one is a
    # given name we know (feminine surname endings, -ова, -ина, are also a man's genitive, Смирнова,
    # Вениамина: they pass for a nominative only beside such a name); or when one word can only be a
    # nominative (a man's given name not in -а/-я/-о, Сергей; a woman's patronymic, Петровна): the words of a
    # name agree in case. Most registry names stop here.
    facts = [_word_facts(w) for w in words]
    if _as_written(facts):
        return None
    low = [f[0] for f in facts]
    text = " ".join(low)
    if _UK_LETTERS.search(text):
        langs: tuple[str, ...] = ("uk",)
    elif _RU_LETTERS.search(text):
        langs = ("ru",)
    else:
        langs = ("ru", "uk")
    # Without a letter of its own, both dictionaries are asked (Russian first).
    found = _choose(low, langs[0])
    if len(langs) > 1:
        other = _choose(low, langs[1])
        # (unless it stands only on a word Russian does not know and Ukrainian, knowing every word, declines:
        # Святослава Абраменка)
        ukrainian_declines = other is not None and other[0] != "nomn" and _all_known(low, langs[1])
        if (
            found is not None
            and found[0] == "nomn"
            and (
                other is None
                or (_supported(low, langs[0]) and (_all_known(low, langs[0]) or not ukrainian_declines))
            )
        ):
            pass  # a Russian nominative that a word bears out (Герета Ганна) stays as written
        elif other is not None and other[0] == "nomn" and _all_known(low, langs[1]):
            found = other  # so does a Ukrainian one (Забара Анжела: Russian knows Забара as Забар's genitive)
        elif found is None or (
            other is not None and _named_words(low, langs[1]) > _named_words(low, langs[0])
        ):
            # The language whose dictionary knows more of the words as names reads them (Russian on a
            # tie): Олени Бойко and Петром Руденком are Ukrainian.
            found = other
    if found is None or found[0] == "nomn":
        return None
    case, gender, out = found
    if out == tuple(low):
        return None
    cased = tuple(_recase(n, w) for n, w in zip(out, words, strict=True))
    return CaseReading(cased, tuple(words), case, gender)
