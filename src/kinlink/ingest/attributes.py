"""What a sentence says about the people in it: rank, unit, age, birth year, home, place and date.

Matching compares these with what families write, so they are put back in the nominative
("11-й отдельной гвардейской бригады" -> "11-я отдельная гвардейская бригада", "из Тернополя" ->
"Тернополь"). Each goes to the nearest person; people listed together share a unit and a home; a sentence
led by a pronoun ("Йому було 32 роки.") adds to the one person of the sentence before.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

from kinlink.ingest import gazetteer, lexicon
from kinlink.ingest.occurrences import Occ, genitive
from kinlink.ingest.options import ExtractOptions
from kinlink.ingest.sentences import CONJ, PUNCT, Sent, find, tok_span
from kinlink.ingest.spans import is_cap, role_or_rank_word


def nominative_phrase(text: str, lang: str, use_morph: bool, rank: bool = False) -> str:
    """'11-й отдельной гвардейской бригады' -> '11-я отдельная гвардейская бригада' (ru/uk).

    For ranks the head is the first noun ('старшего лейтенанта', 'командира взвода').
    """
    if lang not in ("ru", "uk") or not use_morph:
        return text
    from kinlink.ingest import morph

    words = text.split()
    if not words:
        return text
    head_i: int | None = None
    if rank:
        for i, w in enumerate(words):
            parses = morph._parses(w.lower(), lang)
            if w.lower() not in ("гвардии", "гвардії") and parses and parses[0].tag.POS == "NOUN":
                head_i = i
                break
    else:
        head_i = next((i for i, w in enumerate(words) if re.match(lexicon.UNIT_NOUNS[lang], w.lower())), None)
    if head_i is None and rank and len(words) == 1:
        # a rank that is an adjective used as a noun: "рядовым" -> "рядовой"
        for p in morph._parses(words[0].lower(), lang):
            if p.tag.POS in ("ADJF", "PRTF") and p.tag.case and str(p.tag.case) != "nomn":
                inflected = p.inflect({"nomn", "sing", "masc"})
                if inflected is not None:
                    return inflected.word
        return text
    if head_i is None:
        for i in range(len(words) - 1, -1, -1):
            parses = morph._parses(words[i].lower(), lang)
            if parses and parses[0].tag.POS == "NOUN":
                head_i = i
                break
    if head_i is None:
        return text
    head = _head_parse(words, head_i, lang)
    gender = str(head.tag.gender) if head.tag.gender else "masc"
    case = str(head.tag.case) if head.tag.case else "nomn"
    if case == "nomn":
        return text
    out = []
    for i, w in enumerate(words):
        if i > head_i:
            out.append(w)  # genitive complements stay ("морской пехоты")
        elif i == head_i:
            out.append(_keep_case(head.normal_form, w))
        else:
            out.append(_adj_nominative(w, lang, gender, case))
    return " ".join(out)


def _head_parse(words: list[str], head_i: int, lang: str) -> object:
    """The head noun's reading that agrees with the adjectives before it (units are singular)."""
    from kinlink.ingest import morph

    nouns = [p for p in morph._parses(words[head_i].lower(), lang) if p.tag.POS == "NOUN"]
    adjs = [w for w in words[:head_i] if not _ORDINAL.match(w)]
    for p in sorted(nouns, key=lambda p: (p.tag.number != "sing", -p.score)):
        if not adjs:
            return p
        last = adjs[-1].rpartition("-")[2].lower()
        for a in morph._parses(last, lang):
            if (
                a.tag.POS in ("ADJF", "PRTF")
                and str(a.tag.case) == str(p.tag.case)
                and a.tag.number == p.tag.number
            ):
                return p
    return nouns[0]


def _keep_case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


_ORDINAL = re.compile(r"^(\d+)[-–]?[а-яіїє]*$")
_UK_ADJ = {  # Ukrainian adjective endings -> nominative, by gender (pymorphy3's uk inflection is weak)
    "femn": [("ьої", "я"), ("ої", "а"), ("ою", "а"), ("ій", "а"), ("у", "а")],
    "masc": [("нього", "ній"), ("ього", "ій"), ("ого", "ий"), ("ому", "ий"), ("им", "ий"), ("ім", "ий")],
    "neut": [("ого", "е"), ("ому", "е"), ("им", "е")],
}


def _adj_nominative(word: str, lang: str, gender: str, case: str) -> str:
    from kinlink.ingest import morph

    m = _ORDINAL.match(word)
    if m:
        suffix = {
            "ru": {"femn": "я", "masc": "й", "neut": "е"},
            "uk": {"femn": "а", "masc": "й", "neut": "е"},
        }
        return f"{m.group(1)}-{suffix[lang].get(gender, 'й')}"
    if "-" in word:  # "десантно-штурмовой": only the last part declines
        head, _, tail = word.rpartition("-")
        return f"{head}-{_adj_nominative(tail, lang, gender, case)}"
    if lang == "uk":
        for end, repl in _UK_ADJ.get(gender, []):
            if word.endswith(end):
                return word[: -len(end)] + repl
        return word
    for p in morph._parses(word.lower(), lang):
        if p.tag.POS in ("ADJF", "PRTF") and str(p.tag.case) == case:
            inflected = p.inflect({"nomn", "sing", gender})
            if inflected is not None:
                return _keep_case(inflected.word, word)
    return word


def attach_attributes(
    sent: Sent, occs: list[Occ], lang: str, opts: ExtractOptions, ref: dt.date | None
) -> None:
    if not occs:
        return

    def nearest(a: int, b: int, max_gap: int = 15, prefer_after: bool = False) -> Occ | None:
        best: tuple[int, Occ] | None = None
        for o in occs:
            if o.end <= a:
                gap = a - o.end + (2 if prefer_after else 0)
            elif o.start >= b:
                gap = o.start - b + (0 if prefer_after else 1)
            else:
                continue
            if not o.strong:
                gap += 5  # a lone capitalised word is rarely the one described
            if gap <= max_gap and (best is None or gap < best[0]):
                best = (gap, o)
        return best[1] if best else None

    for m, a, b in find(lexicon.RANK_PATTERNS[lang], sent):
        o = nearest(a, b, max_gap=12, prefer_after=True)
        if o is not None and o.rank is None:
            o.rank = lexicon.rank_name(nominative_phrase(m.group(0).strip(), lang, opts.use_morph, rank=True))
    flags = 0 if lang in lexicon.UNIT_CASE_SENSITIVE else re.IGNORECASE
    for m, a, b in find(lexicon.UNIT_PATTERNS[lang], sent, flags):
        o = nearest(a, b)
        if o is not None and o.unit is None:
            o.unit = nominative_phrase(m.group(0).strip(), lang, opts.use_morph)
    birth_spans: list[tuple[int, int]] = []
    for pattern in lexicon.BIRTH_PATTERNS[lang]:
        for m, a, b in find(pattern, sent):
            birth_spans.append((m.start(), m.end()))
            o = nearest(a, b)
            if o is not None and o.birth_year is None:
                o.birth_year = int(m.group(1))
    for pattern in lexicon.AGE_PATTERNS[lang]:
        for m, a, b in find(pattern, sent):
            o = nearest(a, b, max_gap=10)
            age = int(m.group(1))
            if o is not None and o.age is None and 14 <= age <= 80:
                o.age = age
    for o in occs:
        if o.age is None:
            m = lexicon.AGE_AFTER_NAME.match(sent.text[sent.toks[o.end - 1].stop :])
            if m and 14 <= int(m.group(1)) <= 80:
                o.age = int(m.group(1))
    home_spans: list[tuple[int, int]] = []
    not_after = lexicon.HOME_NOT_AFTER.get(lang)
    for o in occs:  # "Тарас Левчук из Тернополя", "Callum Reid, 24, from Fife"
        m = re.match(lexicon.HOME_AFTER_NAME[lang], sent.text[sent.toks[o.end - 1].stop :])
        if m and o.home is None and _place_word(m.group(1), lang, opts.use_morph):
            start = sent.toks[o.end - 1].stop + m.start(1)
            home_spans.append((start, start + len(m.group(1))))
            o.home = _place_name(m.group(1), lang, opts.use_morph)
    for pattern in lexicon.HOME_PATTERNS[lang]:
        flags = re.IGNORECASE if lang in ("ru", "uk") else 0
        for m in re.finditer(pattern, sent.text, flags):
            span = tok_span(sent.toks, m.start(1), m.end(1))
            if not span or any(s <= m.start(1) < e for s, e in home_spans):
                continue
            if not_after and m.start(0) == m.start(1) and re.search(not_after, sent.text[: m.start(1)]):
                continue  # "попал в плен в Курской области": where it happened
            home_spans.append((m.start(1), m.end(1)))
            o = nearest(*span)
            people = [p for p in occs if p.strong and p.role is None]
            if o is None and len(people) == 1:
                o = people[0]  # "trupul lui X ... a fost adus în orașul natal, Kostroma": the one person
            if o is not None and o.home is None:
                o.home = nominative_phrase(m.group(1).strip(), lang, opts.use_morph)
    place = None
    for place_m in re.finditer(rf"(?<![\w-])(?:{lexicon.PLACE_PATTERNS[lang]})", sent.text):
        g = next(i for i in range(1, (place_m.lastindex or 1) + 1) if place_m.group(i))
        if any(s <= place_m.start(g) < e for s, e in home_spans):
            continue
        span = tok_span(sent.toks, place_m.start(g), place_m.end(g))
        if span and not any(o.strong and o.start < span[1] and span[0] < o.end for o in occs):
            words = place_m.group(g)
            nxt = sent.toks[span[1] : span[1] + 2]
            if (  # "near Chasiv Yar", "під Часовим Яром": a second capitalised word that is no name
                nxt
                and is_cap(nxt[0].text)
                and not gazetteer.is_known_given_name(nxt[0].text)
                and not (len(nxt) > 1 and is_cap(nxt[1].text))
                and not any(o.strong and o.start == span[1] for o in occs)
            ):
                words = sent.text[place_m.start(g) : nxt[0].stop]
                place = words if " " in words else _place_name(words, lang, opts.use_morph)
            else:
                place = _place_name(words, lang, opts.use_morph)
            break
    date = next((d for d in sent.dates if not any(d.start < e and s < d.end for s, e in birth_spans)), None)
    for o in occs:
        o.place = o.place or place
        o.date = o.date or date
        o.soldier = bool(sent.military or o.rank or o.unit or o.age or o.birth_year or sent.list_item)
    # "Один называет себя Павлом Мухиным, 1996 г.р., второй — Артуром Валиевым": listed with a soldier.
    if any(o.soldier and o.strong for o in occs):
        for o in occs:
            if o.strong and o.role is None and o.speaker_at is None:
                o.soldier = True
    # "капитан A и ефрейтор B из 11-й бригады": coordinated people share unit and home.
    ordered = sorted(occs, key=lambda o: o.start)
    for p, q in itertools.pairwise(ordered):
        gap = [t.text.lower() for t in sent.toks[p.end : q.start]]
        rank_free = [w for w in gap if w not in CONJ and not role_or_rank_word(w, lang)]
        if all(w in PUNCT or w.isdigit() for w in rank_free):
            for attr in ("unit", "home"):
                if getattr(p, attr) is None and getattr(q, attr) is not None:
                    setattr(p, attr, getattr(q, attr))


def pronoun_led(sent: Sent, occs: list[Occ]) -> bool:
    return (
        sent.index > 0
        and not any(o.strong for o in occs)
        and bool(sent.toks)
        and (sent.toks[0].text.lower() in lexicon.PRONOUN_OPENERS or _zero_subject_gender(sent) is not None)
    )


def _zero_subject_gender(sent: Sent) -> str | None:
    """ "Загинув 29 серпня на Курщині.": Russian and Ukrainian drop a subject known from the sentence
    before; a past-tense verb opening the sentence says its gender (masc "загинув", femn "загинула")."""
    if sent.lang not in ("ru", "uk") or not sent.toks:
        return None
    from kinlink.ingest import morph

    parses = morph._parses(sent.toks[0].text.lower(), sent.lang)
    top = parses[0] if parses else None
    if top is None or top.tag.POS != "VERB" or top.tag.tense != "past" or top.tag.number == "plur":
        return None
    return str(top.tag.gender) if top.tag.gender in ("masc", "femn") else None


_MALE_PRONOUNS = {"he", "his", "el", "он", "ему", "его", "він", "йому", "його"}
_FEMALE_PRONOUNS = {"she", "ea", "она", "ей", "вона", "їй"}


def pronoun_fits(sent: Sent, o: Occ, lang: str) -> bool:
    """The pronoun can stand for this person: not a possessor ('мати Максима'), and of their sex."""
    if o.possessive or genitive(o, lang):
        return False
    verb_gender = _zero_subject_gender(sent)
    if verb_gender is not None and sent.toks[0].text.lower() not in lexicon.PRONOUN_OPENERS:
        return o.gender in (None, verb_gender)
    pronoun = sent.toks[0].text.lower()
    if lang in ("ru", "uk"):
        from kinlink.ingest import morph

        for w in o.tokens:
            named = [p for p in morph._parses(w, lang) if "Name" in p.tag.grammemes]
            if named:
                female = str(named[0].tag.gender) == "femn"
                return pronoun in (_FEMALE_PRONOUNS if female else _MALE_PRONOUNS)
    return True


def pronoun_attributes(sent: Sent, prev: list[Occ], lang: str, opts: ExtractOptions) -> None:
    """'Йому було 32 роки.', 'He served in the 57th Brigade.' after a sentence about one person."""
    if len(prev) != 1:
        return
    o = prev[0]
    proxy = Occ(sent=sent.index, start=0, end=1, written="", tokens=[], lemmas=[], keys=[])
    attach_attributes(sent, [proxy], lang, opts, None)
    for attr in ("age", "birth_year", "rank", "unit", "home"):
        if getattr(o, attr) is None and getattr(proxy, attr) is not None:
            setattr(o, attr, getattr(proxy, attr))
    o.soldier = o.soldier or proxy.soldier


def _place_word(word: str, lang: str, use_morph: bool) -> bool:
    """A town or region, not a person or a common word ("из Тернополя" yes, "из Азова"-like names pass)."""
    if lang not in ("ru", "uk") or not use_morph:
        return not gazetteer.is_known_given_name(word)
    from kinlink.ingest import morph

    info = morph.name_info(word, lang)
    return "Geox" in info.tags or not info.known


def _place_name(text: str, lang: str, use_morph: bool) -> str:
    if lang in ("ru", "uk") and use_morph:
        from kinlink.ingest import morph

        for p in morph._parses(text, lang):
            if "Geox" in p.tag.grammemes:
                return _keep_case(p.normal_form, text)
    return text
