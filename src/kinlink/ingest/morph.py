"""Russian/Ukrainian morphology (pymorphy3) and Russian NER (natasha's slovnet model).

Both load their models from inside their packages, once, lazily, and are reused. pymorphy3 tags given
names (Name), surnames (Surn) and patronymics (Patr) and puts names back in the nominative
("Вадима Михоева" -> "Вадим Михоев"); natasha finds PER spans in Russian (and, less well, Ukrainian).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

NAME_TAGS = ("Name", "Surn", "Patr")
_CASE_GROUPS = {"gent": {"gent", "accs", "gen2"}, "accs": {"gent", "accs"}, "loct": {"loct", "loc2"}}


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


def lemmatize_name(tokens: list[str], lang: str) -> list[str]:
    """Nominative form of a person's name tokens, agreeing in case and gender with the given name."""
    target_cases: set[str] | None = None
    target_gender: str | None = None
    for role in ("Name", "Patr"):
        # The given name (or patronymic) decides case and gender; a singular reading only, since
        # "Тарасов" is also "of the Tarases".
        cands = [
            p
            for tok in tokens
            for p in _parses(tok, lang)
            if role in p.tag.grammemes and p.tag.case and p.tag.number != "plur"
        ]
        if cands:
            # Scores tie often in uk ("Петро": vocative of "Петра" or nominative "Петро"): reports name
            # people, they rarely address them, so a nominative reading wins and a vocative loses.
            best = max(
                cands,
                key=lambda p: (p.is_known, p.score, "nomn" in p.tag.grammemes, "voct" not in p.tag.grammemes),
            )
            target_gender = str(best.tag.gender) if best.tag.gender else None
            same_word = [p for p in cands if p.word == best.word and str(p.tag.gender) == str(target_gender)]
            target_cases = {str(p.tag.case) for p in same_word}
            for case in list(target_cases):
                target_cases |= _CASE_GROUPS.get(case, set())
            break
    return [_lemma_token(tok, lang, target_cases, target_gender) for tok in tokens]


def _lemma_token(token: str, lang: str, cases: set[str] | None, gender: str | None) -> str:
    if "-" in token:  # double-barrelled: lemmatise each part
        return "-".join(_lemma_token(part, lang, cases, gender) for part in token.split("-"))
    parses = _parses(token, lang)
    if not parses:
        return token

    def fits(p: Any) -> bool:
        if p.tag.POS not in ("NOUN", "ADJF") or p.tag.number == "plur":
            return False
        if cases is not None and str(p.tag.case) not in cases:
            return False
        pg = p.tag.gender
        return gender is None or pg is None or str(pg) == gender or "ms-f" in str(p.tag)

    ranked = sorted(
        (p for p in parses if fits(p)),
        key=lambda p: (any(t in p.tag.grammemes for t in NAME_TAGS), p.tag.POS == "NOUN", p.score),
        reverse=True,
    )
    if not ranked:
        return token
    chosen = ranked[0]
    if "nomn" in chosen.tag.grammemes and chosen.tag.number != "plur":
        return token  # already nominative: keep the spelling as written
    word = chosen.normal_form
    if lang == "ru":
        # Russian feminine surnames: the dictionary lemma is masculine (Петровой -> петров).
        inflected = chosen.inflect({"nomn", "sing"})
        if inflected is not None:
            word = inflected.word
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
