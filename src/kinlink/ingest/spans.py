"""Where people are named in a sentence, as token spans.

A strong span (two or more name words) may start a person; a weak one (a lone capitalised word) may only
refer back to someone named in full. Russian and Ukrainian have pymorphy3's name tags, with natasha as the
safety net; Romanian and English have no such dictionary, so a capitalised run counts when it holds a known
given name or has a surname's shape. Role, rank and stop words cut a run, so that "Conservative MP Tom
Hughes" yields the man and not his title.
"""

from __future__ import annotations

import re

from kinlink.ingest import gazetteer, lexicon
from kinlink.ingest.options import ExtractOptions
from kinlink.ingest.sentences import Sent

_SURNAME_SHAPE = re.compile(
    r"(?:ov|ev|iov|yov|ova|eva|iova|in|yn|ina|yna|enko|chuk|iuk|yuk|uk|ko|sky|skiy|skyi|skii|ski|ska|skaya"
    r"|vich|vych|ych|ich|ovich|escu|eanu|shev|shin|kin|tsev|tseva|ets|iak|yak|ak|ian|yan|dze|shvili)$"
)
_CYR_SURNAME_SHAPE = re.compile(
    r"(?:ов|ев|ёв|ова|ева|ёва|ин|ын|ина|ына|енко|чук|юк|ук|ко|ский|ская|цкий|цкая|ський|ська|цький|ич|вич"
    r"|ян|дзе|швили|ів|їв|єв|ец|ець|як|ак)$"
)
_STOP_CYR = frozenset(
    [
        "под",
        "під",
        "в",
        "у",
        "на",
        "из",
        "з",
        "от",
        "від",
        "и",
        "і",
        "та",
        "о",
        "об",
        "про",
        "по",
        "за",
        "с",
        "со",
        "зі",
        "із",
        "к",
        "до",
        "для",
        "при",
        "как",
        "як",
        "это",
        "це",
        "но",
        "але",
    ]
)


# Relational adjectives in -ський/-цький/-зький (uk) and -ский/-цкий (ru), in every case and gender.
_PLACE_ADJECTIVE = re.compile(
    r"(?:ськ|цьк|зьк|ск|цк)(?:ий|ій|а|ої|ого|ому|им|ім|у|ою|е|і|их|ими|ая|ой|ое|ую|ом|ие|ые|ым|ыми)$"
)


def is_cap(tok: str) -> bool:
    return len(tok) > 1 and tok[0].isupper() and any(ch.isalpha() for ch in tok) and tok[0].isalpha()


def role_or_rank_word(word: str, lang: str) -> bool:
    w = word.lower()
    pats = [p for _, p in lexicon.ROLE_PATTERNS[lang]] + [
        lexicon.RANK_PATTERNS[lang],
        lexicon.MILITARY_PATTERNS[lang],
    ]
    return any(lexicon.compiled(p).fullmatch(w) for p in pats) or w in ("гвардии", "гвардії")


def latin_spans(sent: Sent, lang: str, opts: ExtractOptions) -> list[tuple[int, int, bool]]:
    """(start, end, strong): strong spans may start a person; weak (single-word) ones only refer back."""
    toks = sent.toks
    out: list[tuple[int, int, bool]] = []
    i = 0
    while i < len(toks):
        if not is_cap(toks[i].text):
            i += 1
            continue
        j = i
        while j < len(toks) and is_cap(toks[j].text) and j - i < 5:
            j += 1
        folded = [gazetteer.fold(toks[k].text) for k in range(i, j)]
        if any(f in lexicon.LATIN_PLACE_NOUNS for f in folded):
            i = j  # "Taras Shevchenko Boulevard", "Ordinul Ștefan cel Mare": a place or an award
            continue
        # Role, rank and stop words split a run: "Conservative MP Tom Hughes", "Republicii Moldova
        # Sergiu Lungu", "Georgian Legion" (nothing left).
        a = i
        for k in range(i, j + 1):
            if k < j and not (folded[k - i] in lexicon.LATIN_STOP or role_or_rank_word(toks[k].text, lang)):
                continue
            words = [toks[x].text for x in range(a, k)]
            if words:
                given = opts.use_gazetteer and any(gazetteer.is_known_given_name(w) for w in words)
                shape = any(_SURNAME_SHAPE.search(gazetteer.fold(w)) for w in words)
                if len(words) >= 2 and (given or shape):
                    out.append((a, k, True))
                elif len(words) == 1:
                    out.append((a, k, False))
            a = k + 1
        i = j
    return out


def cyr_spans(
    sent: Sent, lang: str, opts: ExtractOptions, ner: list[tuple[int, int]]
) -> list[tuple[int, int, bool]]:
    from kinlink.ingest import morph

    toks = sent.toks
    out: list[tuple[int, int, bool]] = []

    def tags(word: str) -> frozenset[str]:
        # The dictionaries miss some given names (pymorphy3's uk has no "Володимир"): the gazetteer adds them.
        found = morph.name_info(word, lang).tags
        if opts.use_gazetteer and gazetteer.is_known_given_name(word):
            found = found | {"Name"}
        return found

    def nameish(word: str) -> bool:
        if not opts.use_morph:
            return True
        info = morph.name_info(word, lang)
        return (bool(tags(word) & {"Name", "Surn", "Patr"}) and info.best != "Geox") or info.best == "unknown"

    def abbreviation(k: int) -> bool:
        # "ОВА", "ЗСУ", "СБУ": an institution's initials end a run of names ("Голова Волинської ОВА Іван").
        w = toks[k].text
        return w.isupper() and len(w) <= 4 and not (tags(w) & {"Name", "Surn"})

    def place_adjective(k: int) -> bool:
        # A relational adjective of a place ("Ніжинська міська рада", "Волинської ОВА", "Новочеркасский
        # городской совет") agrees with the noun after it; a surname of that shape ("Олена Ковальська")
        # stands beside a given name.
        if not _PLACE_ADJECTIVE.search(toks[k].text.lower()):
            return False
        near = [toks[n].text for n in (k - 1, k + 1) if 0 <= n < len(toks)]
        return not any(is_cap(w) and "Name" in tags(w) for w in near)

    def trim(a: int, b: int) -> tuple[int, int]:
        while a < b and (
            place_adjective(a)
            or toks[a].text.lower() in _STOP_CYR
            or role_or_rank_word(toks[a].text, lang)
            or (opts.use_morph and not nameish(toks[a].text) and not before_first_name(a, b))
        ):
            a += 1
        while b > a and (
            toks[b - 1].text.lower() in _STOP_CYR
            or (opts.use_morph and not nameish(toks[b - 1].text) and not after_first_name(b - 1, a))
        ):
            b -= 1
        return a, b

    def before_first_name(k: int, b: int) -> bool:
        # "Сомов Олег", "Колесник Андрей" surname first: a word right before a given name, though the
        # dictionary knows it as another word ("сомов", of the catfish; "колесник", a wheelwright), when
        # it has a surname's shape or is capitalised inside a sentence, where a common noun is not.
        if k + 1 >= b or not (looks_like_surname(toks[k].text) or (k > 0 and not toks[k].text.isupper())):
            return False
        prev = toks[k - 1].text if k > 0 else ""
        if prev and (prev.lower() in _STOP_CYR or morph.is_function_word(prev, lang)):
            return False  # "под Вугледаром Олег Савчук": a place after its preposition
        return morph.name_info(toks[k].text, lang).best != "Geox" and "Name" in tags(toks[k + 1].text)

    def after_first_name(k: int, a: int) -> bool:
        # "Григорий Лапин", "Іван Коваль": a dictionary word right after a given name is a surname.
        if k == a:
            return False
        info = morph.name_info(toks[k].text, lang)
        return info.best != "Geox" and bool(tags(toks[k - 1].text) & {"Name", "Patr"})

    def strong(a: int, b: int) -> bool:
        words = [toks[k].text for k in range(a, b)]
        if len(words) < 2:
            return False
        if opts.use_morph:
            word_tags = [tags(w) for w in words]
            named = sum(1 for t in word_tags if t & {"Name", "Surn", "Patr"})
            has_first = any(t & {"Name", "Patr"} for t in word_tags)
            return has_first and named >= 1
        return opts.use_gazetteer and any(gazetteer.is_known_given_name(w) for w in words)

    i = 0
    while i < len(toks):
        if not is_cap(toks[i].text):
            i += 1
            continue
        if opts.use_morph and abbreviation(i):
            i += 1
            continue
        j = i
        while (
            j < len(toks) and is_cap(toks[j].text) and j - i < 4 and not (opts.use_morph and abbreviation(j))
        ):
            j += 1
        a, b = trim(i, j)
        if b - a >= 2 and strong(a, b):
            out.append((a, b, True))
        elif b - a >= 1:
            for k in range(a, b):
                out.append((k, k + 1, False))
        i = j
    for a0, b0 in ner:
        a, b = trim(a0, b0) if opts.use_morph else (a0, b0)
        if b - a >= 2 and (not opts.use_morph or any(nameish(toks[k].text) for k in range(a, b))):
            out.append((a, b, True))
    return _dedupe(out)


def _dedupe(spans: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Keep strong and longer spans over the ones they overlap."""
    spans = sorted(set(spans), key=lambda s: (not s[2], -(s[1] - s[0]), s[0]))
    kept: list[tuple[int, int, bool]] = []
    for s in spans:
        if not any(s[0] < k[1] and k[0] < s[1] for k in kept):
            kept.append(s)
    return sorted(kept)


def looks_like_surname(word: str) -> bool:
    f = gazetteer.fold(word)
    return bool(_SURNAME_SHAPE.search(f) or _CYR_SURNAME_SHAPE.search(word.lower()))
