"""Russian/Ukrainian morphology (pymorphy3) and Russian NER (natasha's slovnet model).

Both load their models from inside their packages, once, lazily, and are reused. pymorphy3 tags given
names (Name), surnames (Surn) and patronymics (Patr) and puts names back in the nominative
("Вадима Михоева" -> "Вадим Михоев"); natasha finds PER spans in Russian (and, less well, Ukrainian).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

NAME_TAGS = ("Name", "Surn", "Patr")


@lru_cache(maxsize=2)
def analyzer(lang: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="uk" if lang == "uk" else "ru")


@lru_cache(maxsize=1)
def _natasha() -> tuple[Any, Any]:
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    return Segmenter(), NewsNERTagger(NewsEmbedding())


@lru_cache(maxsize=200_000)
def _parses(word: str, lang: str) -> tuple[Any, ...]:
    return tuple(analyzer(lang).parse(word))


@dataclass(frozen=True)
class NameInfo:
    """What the dictionaries say about one capitalised token."""

    tags: frozenset[str]  # subset of Name/Surn/Patr (any parse), plus "Geox"/"Orgn"/"other"
    best: str  # "Name"/"Surn"/"Patr"/"Geox"/"word"/"unknown" from the most probable parse
    known: bool  # the word is in the dictionary (not only guessed)


@lru_cache(maxsize=200_000)
def name_info(word: str, lang: str) -> NameInfo:
    parses = _parses(word, lang)
    tags: set[str] = set()
    for p in parses:
        for t in (*NAME_TAGS, "Geox", "Orgn"):
            if t in p.tag.grammemes:
                tags.add(t)
    known = any(p.is_known for p in parses)
    best = "unknown"
    if parses:
        # uk scores are flat (often 1.0 everywhere): prefer name tags among the top-scoring parses.
        top = max(p.score for p in parses)
        tops = [p for p in parses if p.score >= top * 0.8]
        for t in (*NAME_TAGS, "Geox"):
            if any(t in p.tag.grammemes for p in tops):
                best = t
                break
        else:
            best = "word" if known else "unknown"
    return NameInfo(frozenset(tags), best, known)


def is_function_word(word: str, lang: str) -> bool:
    parses = _parses(word.lower(), lang)
    return (
        bool(parses)
        and any(t in parses[0].tag.grammemes for t in ("PREP", "CONJ", "PRCL", "NPRO", "INTJ", "ADVB"))
        and parses[0].is_known
    )


@dataclass(frozen=True)
class NameParse:
    """A person's name read in its sentence: nominative lemmas, and the case and gender it was read in."""

    lemmas: list[str]
    case: str | None  # "nomn", "gent", "datv", "accs", "ablt", "loct", "voct"; None when nothing declines
    gender: str | None  # "masc" / "femn" where the endings say


_CASE_NORM = {"gen2": "gent", "loc2": "loct", "acc2": "accs", "gen1": "gent", "loc1": "loct"}
_TAG_ORDER = {"Name": 3, "Patr": 2, "Surn": 1}


@lru_cache(maxsize=1)
def _prepositions() -> dict[str, dict[str, list[str]]]:
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).parent / "data" / "prepositions.json").read_text(encoding="utf-8"))
    return {lang: data[lang] for lang in ("ru", "uk")}


def context_cases(before: list[str], lang: str) -> frozenset[str]:
    """Cases the word right before a name allows it: a preposition's government (data table), or a
    transitive verb's object (accusative, which is the genitive form for men). Empty when nothing says;
    a noun before a name says nothing ("мати Дениса" governs, "лейтенант Денис" agrees)."""
    if not before or not any(c.isalpha() for c in before[-1]):
        return frozenset()
    prev = before[-1].lower()
    preps = _prepositions().get("uk" if lang == "uk" else "ru", {})
    if prev in preps:
        return frozenset(preps[prev])
    parses = _parses(prev, lang)
    if not parses:
        return frozenset()
    top = parses[0]
    if top.tag.POS in ("VERB", "INFN") and "tran" in top.tag.grammemes:
        return frozenset({"accs", "gent"})
    return frozenset()


def _reading_fits(p: Any, case: str, gender: str | None) -> bool:
    if p.tag.POS not in ("NOUN", "ADJF") or p.tag.number == "plur" or not p.tag.case:
        return False
    if _CASE_NORM.get(str(p.tag.case), str(p.tag.case)) != case:
        return False
    pg = str(p.tag.gender) if p.tag.gender else None
    return gender is None or pg is None or pg == gender or "ms-f" in p.tag.grammemes


def analyse_name(tokens: list[str], lang: str, context: frozenset[str] = frozenset()) -> NameParse:
    """Read a name's words together: the case and gender all of them agree on ("Богдана Мельничука" is a
    man in the genitive: the surname has no feminine nominative reading; "Богдана Коваленко" is a woman,
    since a man's -енко surname declines), then each word in the nominative of that gender.

    Hypotheses are ranked by (1) how many words agree, (2) the case the context governs (a preposition,
    a transitive verb), (3) how many words show the case by a declined ending, not an indeclinable
    reading, (4) how many words read as names, (5) nominative, since
    reports name people more than they address them (a vocative last). Between (4) and (5) come the
    dictionary's scores (meaningful in Russian: "Дмитрия" is a man's genitive far more often than a
    woman's nominative; flat in Ukrainian, where the nominative then wins).
    """
    words = [t.split("-")[-1] for t in tokens]  # a double-barrelled surname declines in its last part
    per_word = [
        [p for p in _parses(w, lang) if p.tag.POS in ("NOUN", "ADJF") and p.tag.number != "plur"
         and p.tag.case]
        for w in words
    ]  # fmt: skip
    hyps: set[tuple[str, str | None]] = set()
    for parses in per_word:
        for p in parses:
            case = _CASE_NORM.get(str(p.tag.case), str(p.tag.case))
            gender = str(p.tag.gender) if p.tag.gender in ("masc", "femn") else None
            hyps.add((case, gender))
    if not hyps:
        return NameParse(list(tokens), None, None)

    def rank(h: tuple[str, str | None]) -> tuple[int, bool, int, int, float, bool, bool, bool]:
        case, gender = h
        agree = named = declined = 0
        score = 1.0
        for parses in per_word:
            fit = [p for p in parses if _reading_fits(p, case, gender)]
            if fit:
                agree += 1
                named += any(p.tag.grammemes & set(NAME_TAGS) for p in fit)
                # An indeclinable reading ("Анне", a woman's "Бойко") fits every case: no evidence of one.
                declined += any("Fixd" not in p.tag.grammemes for p in fit)
                # A guessed word's scores (a surname not in the dictionary) say nothing about its case.
                score *= max(p.score if p.is_known else 1.0 for p in fit)
        # Scores within a factor of two are a tie: only a clear difference overrides the nominative.
        return (agree, case in context, declined, named, round(math.log2(score or 1e-9)), case == "nomn",
                case != "voct", gender is not None)  # fmt: skip

    case, gender = max(sorted(hyps, key=str), key=rank)
    if gender is None:  # "Бойко Олена": the given name tells; otherwise any gender the words allow
        gender = next(
            (str(p.tag.gender) for ps in per_word for p in ps
             if _reading_fits(p, case, None) and p.tag.gender in ("masc", "femn")
             and p.tag.grammemes & {"Name"}),
            None,
        )  # fmt: skip
    lemmas = [_lemma_token(tok, lang, case, gender) for tok in tokens]
    return NameParse(lemmas, case, gender)


def lemmatize_name(tokens: list[str], lang: str, context: frozenset[str] = frozenset()) -> list[str]:
    """Nominative form of a person's name tokens, agreeing in case and gender (see `analyse_name`)."""
    return analyse_name(tokens, lang, context).lemmas


def _lemma_token(token: str, lang: str, case: str, gender: str | None) -> str:
    if "-" in token:  # double-barrelled: lemmatise each part
        return "-".join(_lemma_token(part, lang, case, gender) for part in token.split("-"))
    fit = [p for p in _parses(token, lang) if _reading_fits(p, case, gender)]
    if not fit:
        return token
    chosen = max(
        fit,
        key=lambda p: (
            max((_TAG_ORDER.get(t, 0) for t in p.tag.grammemes), default=0),
            "Fixd" not in p.tag.grammemes,  # "Анне" is Анна's dative before it is an indeclinable Anne
            p.tag.POS == "NOUN",
            p.score,
        ),
    )
    if case == "nomn":
        return token  # already nominative: keep the spelling as written
    inflected = chosen.inflect({"nomn"} | ({"sing"} if lang == "ru" else set()))
    # A feminine surname's dictionary lemma is masculine (Петровой -> петров): inflect, keeping gender.
    word = inflected.word if inflected is not None else chosen.normal_form
    return _recase(word, token)


def _recase(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word[:1].upper() + word[1:]


def natasha_person_spans(texts: list[str]) -> list[list[tuple[int, int]]]:
    """Character spans natasha's NER labels PER, for each text; one batched call for a document."""
    _, tagger = _natasha()
    return [[(sp.start, sp.stop) for sp in markup.spans if sp.type == "PER"] for markup in tagger.map(texts)]


def warm_up(lang: str, use_natasha: bool = True) -> None:
    """Load models before timing or batch work."""
    analyzer(lang)
    if use_natasha:
        _natasha()
