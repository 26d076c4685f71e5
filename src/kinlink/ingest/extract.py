"""Extraction: sentences -> people named as subjects (sightings) or in other roles (mentions).

Steps, per document:
1. sentences and tokens (razdel), title and list items marked;
2. cues found by pattern (`lexicon`): statuses, roles, speech verbs, military nouns, ranks, units, ages,
   birth years, home regions, places, dates;
3. person spans: pymorphy3 name tags and natasha PER spans (ru/uk), capitalised runs with a known given
   name or a surname shape (ro/en, via the `gazetteer` seam);
4. each status cue is owned by the nearest person allowed to take it: officials, spokespeople, journalists
   and public figures never are; a speaker does not take the cues of what they report; nobody takes a
   cue across a relative noun ("captured soldier's mother Olga");
5. occurrences merge into people ("Михоев" is "Вадим Михоев"); a soldier-like person with no cue in
   their own sentence takes a free cue from the sentences around (±2) or from a list's heading;
6. the status with most weight wins: killed > released > captured > surrendered > missing > wounded.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

from kinlink.ingest import gazetteer, lexicon
from kinlink.ingest.dates import DateMention, find_dates
from kinlink.ingest.model import ExtractionResult, Mention, Sighting, SourceDocument

STATUS_PRIORITY = {"killed": 6, "released": 5, "captured": 4, "surrendered": 3, "missing": 2, "wounded": 1}
BLOCKING_ROLES = {"official", "spokesperson", "journalist", "public figure"}
WINDOW = 2
_CONJ = {"and", "și", "si", "и", "і", "та", "й", "or", "sau", "или", "або", ",", ";", "&"}
_PUNCT = set(",.;:!?()[]«»„“”\"'’–—-/")
# "1.", "2)", a keycap digit ("1️⃣"), a dash or a bullet-like emoji opens a list item.
_LIST_ITEM = re.compile(
    r"^\s*(?:\d{1,3}[.)]|\d{1,2}\ufe0f?\u20e3|[-•*—–▪▫◾◽●■➖➡►▶👉📌🔹🔸🔺🔻✅✔☑❗🔟\ufe0f]+)\s+"
)
# razdel ends a sentence after these; in names and ranks they are abbreviations ("Sgt. Ivan Petrov").
_ABBREVIATIONS = {"sgt", "pvt", "cpl", "lt", "capt", "maj", "col", "gen", "jr", "sr", "dr", "mr", "mrs", "ms",
                  "st", "gov", "sen", "rep", "adm", "brig", "cmdr", "lt.col", "no", "nr"}  # fmt: skip
_SURNAME_SHAPE = re.compile(
    r"(?:ov|ev|iov|yov|ova|eva|iova|in|yn|ina|yna|enko|chuk|iuk|yuk|uk|ko|sky|skiy|skyi|skii|ski|ska|skaya"
    r"|vich|vych|ych|ich|ovich|escu|eanu|shev|shin|kin|tsev|tseva|ets|iak|yak|ak|ian|yan|dze|shvili)$"
)
_CYR_SURNAME_SHAPE = re.compile(
    r"(?:ов|ев|ёв|ова|ева|ёва|ин|ын|ина|ына|енко|чук|юк|ук|ко|ский|ская|цкий|цкая|ський|ська|цький|ич|вич"
    r"|ян|дзе|швили|ів|їв|єв|ец|ець|як|ак)$"
)
_COMPLEMENTIZERS = {"că", "ca", "that", "что", "що", "як", "как", "whether", "dacă"}
_RANK_MODIFIERS = {"junior", "senior", "staff", "master", "lance", "first", "second", "младший", "старший",
                   "молодший", "головний", "гвардии", "гвардії", "ucrainean", "rus"}  # fmt: skip
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


@dataclass(frozen=True)
class ExtractOptions:
    """Switches for measuring what each part contributes (bench/ingest/evaluate.py)."""

    use_natasha: bool = True
    use_morph: bool = True
    use_gazetteer: bool = True
    use_window: bool = True


@dataclass
class Tok:
    text: str
    start: int  # offsets inside the sentence
    stop: int


@dataclass
class Cue:
    kind: str  # status, role name, "speech", "source", "military"
    start: int  # token indices, end exclusive
    end: int
    text: str
    negated: bool = False
    owner: int | None = None  # index of the occurrence that took it


@dataclass
class Sent:
    index: int
    text: str
    toks: list[Tok]
    lang: str = "en"
    list_item: bool = False
    title: bool = False
    status_cues: list[Cue] = field(default_factory=list)
    role_cues: list[Cue] = field(default_factory=list)
    speech: list[Cue] = field(default_factory=list)
    sources: list[Cue] = field(default_factory=list)
    military: bool = False
    dates: list[DateMention] = field(default_factory=list)


@dataclass
class Occ:
    sent: int
    start: int
    end: int
    written: str
    tokens: list[str]  # as written, possessive marks removed
    lemmas: list[str]  # nominative where known
    keys: list[frozenset[str]]  # per token, folded forms it may stand for
    role: str | None = None
    speaker_at: int | None = None  # token index of a speech verb this person is the subject of
    source: bool = False
    possessive: bool = False
    strong: bool = True
    statuses: list[tuple[str, int]] = field(default_factory=list)  # (status, distance in tokens)
    age: int | None = None
    birth_year: int | None = None
    rank: str | None = None
    unit: str | None = None
    home: str | None = None
    place: str | None = None
    date: DateMention | None = None
    soldier: bool = False
    entity: int | None = None
    subject: bool = False  # a journalist reported on as the subject ("a fost rănit")
    donors: dict[str, set[int]] = field(default_factory=dict)  # status -> other sentences that gave it


# --- sentences ----------------------------------------------------------------------------------------


def split_sentences(text: str) -> list[tuple[str, bool]]:
    """Sentences with a flag for list items; every line break ends a sentence (lists, captions)."""
    from razdel import sentenize

    out: list[tuple[str, bool]] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        item = bool(_LIST_ITEM.match(line))
        parts: list[str] = []
        for s in sentenize(line):
            text = s.text.strip()
            if not text:
                continue
            last = parts[-1].rsplit(None, 1)[-1].lower() if parts else ""
            if parts and last.endswith(".") and (last.lstrip("•*-–—(").rstrip(".") in _ABBREVIATIONS):
                parts[-1] = f"{parts[-1]} {text}"
            else:
                parts.append(text)
        out.extend((text, item) for text in parts)
    return out


def tokenize(text: str) -> list[Tok]:
    from razdel import tokenize as rtok

    return [Tok(t.text, t.start, t.stop) for t in rtok(text)]


def _tok_span(toks: list[Tok], start: int, stop: int) -> tuple[int, int] | None:
    idx = [i for i, t in enumerate(toks) if t.start < stop and start < t.stop]
    return (idx[0], idx[-1] + 1) if idx else None


def _find(pattern: str, sent: Sent, flags: int = re.IGNORECASE) -> list[tuple[re.Match[str], int, int]]:
    out = []
    for m in lexicon.compiled(pattern, flags).finditer(sent.text):
        span = _tok_span(sent.toks, m.start(), m.end())
        if span:
            out.append((m, span[0], span[1]))
    return out


def _prepare(text: str, lang: str, title: str | None, ref: dt.date | None) -> list[Sent]:
    sents: list[Sent] = []
    for i, (raw, item) in enumerate(split_sentences(text)):
        s = Sent(
            i, raw, tokenize(raw), lang, list_item=item, title=(i == 0 and title is not None and raw in title)
        )
        # "Treatment of Prisoners of War" in an institution's name says nothing about anyone.
        taken = [m.span() for m in lexicon.compiled(lexicon.NEUTRAL_PATTERNS[lang]).finditer(raw)]
        for status, pattern in lexicon.STATUS_PATTERNS[lang]:
            for m, a, b in _find(pattern, s):
                if any(m.start() < e and st < m.end() for st, e in taken):
                    continue
                taken.append((m.start(), m.end()))
                before = {t.text.lower() for t in s.toks[max(0, a - 3) : a]}
                negated = bool(before & lexicon.NEGATIONS) and status != "missing"
                s.status_cues.append(Cue(status, a, b, m.group(0), negated))
        for role, pattern in lexicon.ROLE_PATTERNS[lang]:
            s.role_cues.extend(Cue(role, a, b, m.group(0)) for m, a, b in _find(pattern, s))
        s.speech = [Cue("speech", a, b, m.group(0)) for m, a, b in _find(lexicon.SPEECH_PATTERNS[lang], s)]
        s.sources = [Cue("source", a, b, m.group(0)) for m, a, b in _find(lexicon.SOURCE_BEFORE[lang], s)]
        s.military = bool(_find(lexicon.MILITARY_PATTERNS[lang], s))
        s.dates = find_dates(raw, lang, ref)
        sents.append(s)
    return sents


# --- person spans ---------------------------------------------------------------------------------------


def _is_cap(tok: str) -> bool:
    return len(tok) > 1 and tok[0].isupper() and any(ch.isalpha() for ch in tok) and tok[0].isalpha()


def _role_or_rank_word(word: str, lang: str) -> bool:
    w = word.lower()
    pats = [p for _, p in lexicon.ROLE_PATTERNS[lang]] + [
        lexicon.RANK_PATTERNS[lang],
        lexicon.MILITARY_PATTERNS[lang],
    ]
    return any(lexicon.compiled(p).fullmatch(w) for p in pats) or w in ("гвардии", "гвардії")


def _possessive_after(sent: Sent, end: int) -> bool:
    nxt = sent.toks[end : end + 2]
    return len(nxt) == 2 and nxt[0].text in ("’", "'") and nxt[1].text.lower() == "s"


def _latin_spans(sent: Sent, lang: str, opts: ExtractOptions) -> list[tuple[int, int, bool]]:
    """(start, end, strong): strong spans may start a person; weak (single-word) ones only refer back."""
    toks = sent.toks
    out: list[tuple[int, int, bool]] = []
    i = 0
    while i < len(toks):
        if not _is_cap(toks[i].text):
            i += 1
            continue
        j = i
        while j < len(toks) and _is_cap(toks[j].text) and j - i < 5:
            j += 1
        folded = [gazetteer.fold(toks[k].text) for k in range(i, j)]
        if any(f in lexicon.LATIN_PLACE_NOUNS for f in folded):
            i = j  # "Taras Shevchenko Boulevard", "Ordinul Ștefan cel Mare": a place or an award
            continue
        # Role, rank and stop words split a run: "Conservative MP Tom Hughes", "Republicii Moldova
        # Sergiu Lungu", "Georgian Legion" (nothing left).
        a = i
        for k in range(i, j + 1):
            if k < j and not (folded[k - i] in lexicon.LATIN_STOP or _role_or_rank_word(toks[k].text, lang)):
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


def _cyr_spans(
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

    def trim(a: int, b: int) -> tuple[int, int]:
        while a < b and (
            toks[a].text.lower() in _STOP_CYR
            or _role_or_rank_word(toks[a].text, lang)
            or (opts.use_morph and not nameish(toks[a].text))
        ):
            a += 1
        while b > a and (
            toks[b - 1].text.lower() in _STOP_CYR
            or (opts.use_morph and not nameish(toks[b - 1].text) and not after_first_name(b - 1, a))
        ):
            b -= 1
        return a, b

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
        if not _is_cap(toks[i].text):
            i += 1
            continue
        j = i
        while j < len(toks) and _is_cap(toks[j].text) and j - i < 4:
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


# --- tokens: keys and lemmas ----------------------------------------------------------------------------


@lru_cache(maxsize=100_000)
def _keys(word: str, lang: str, use_morph: bool) -> frozenset[str]:
    keys = {gazetteer.fold(word)}
    if use_morph and lang in ("ru", "uk"):
        from kinlink.ingest import morph

        for p in morph._parses(word, lang)[:6]:
            keys.add(gazetteer.fold(p.normal_form))
            if lang == "ru":
                inflected = p.inflect({"nomn", "sing"})
                if inflected is not None:
                    keys.add(gazetteer.fold(inflected.word))
    return frozenset(keys)


def _make_occ(sent: Sent, a: int, b: int, lang: str, opts: ExtractOptions) -> Occ:
    words = [sent.toks[k].text for k in range(a, b)]
    if lang in ("ru", "uk") and opts.use_morph:
        from kinlink.ingest import morph

        lemmas = morph.lemmatize_name(words, lang)
    else:
        lemmas = list(words)
    written = sent.text[sent.toks[a].start : sent.toks[b - 1].stop]
    return Occ(
        sent=sent.index,
        start=a,
        end=b,
        written=written,
        tokens=words,
        lemmas=lemmas,
        keys=[_keys(w, lang, opts.use_morph) for w in words],
        possessive=_possessive_after(sent, b) or (a > 0 and sent.toks[a - 1].text.lower() in ("lui", "of")),
    )


# --- attributes -----------------------------------------------------------------------------------------


def _nominative_phrase(text: str, lang: str, use_morph: bool, rank: bool = False) -> str:
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


def _attach_attributes(
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

    for m, a, b in _find(lexicon.RANK_PATTERNS[lang], sent):
        o = nearest(a, b, max_gap=12, prefer_after=True)
        if o is not None and o.rank is None:
            o.rank = lexicon.rank_name(
                _nominative_phrase(m.group(0).strip(), lang, opts.use_morph, rank=True)
            )
    flags = 0 if lang in lexicon.UNIT_CASE_SENSITIVE else re.IGNORECASE
    for m, a, b in _find(lexicon.UNIT_PATTERNS[lang], sent, flags):
        o = nearest(a, b)
        if o is not None and o.unit is None:
            o.unit = _nominative_phrase(m.group(0).strip(), lang, opts.use_morph)
    birth_spans: list[tuple[int, int]] = []
    for pattern in lexicon.BIRTH_PATTERNS[lang]:
        for m, a, b in _find(pattern, sent):
            birth_spans.append((m.start(), m.end()))
            o = nearest(a, b)
            if o is not None and o.birth_year is None:
                o.birth_year = int(m.group(1))
    for pattern in lexicon.AGE_PATTERNS[lang]:
        for m, a, b in _find(pattern, sent):
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
            span = _tok_span(sent.toks, m.start(1), m.end(1))
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
                o.home = _nominative_phrase(m.group(1).strip(), lang, opts.use_morph)
    place = None
    for place_m in re.finditer(rf"(?<![\w-])(?:{lexicon.PLACE_PATTERNS[lang]})", sent.text):
        g = next(i for i in range(1, (place_m.lastindex or 1) + 1) if place_m.group(i))
        if any(s <= place_m.start(g) < e for s, e in home_spans):
            continue
        span = _tok_span(sent.toks, place_m.start(g), place_m.end(g))
        if span and not any(o.strong and o.start < span[1] and span[0] < o.end for o in occs):
            words = place_m.group(g)
            nxt = sent.toks[span[1] : span[1] + 2]
            if (  # "near Chasiv Yar", "під Часовим Яром": a second capitalised word that is no name
                nxt
                and _is_cap(nxt[0].text)
                and not gazetteer.is_known_given_name(nxt[0].text)
                and not (len(nxt) > 1 and _is_cap(nxt[1].text))
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
        rank_free = [w for w in gap if w not in _CONJ and not _role_or_rank_word(w, lang)]
        if all(w in _PUNCT or w.isdigit() for w in rank_free):
            for attr in ("unit", "home"):
                if getattr(p, attr) is None and getattr(q, attr) is not None:
                    setattr(p, attr, getattr(q, attr))


def _pronoun_led(sent: Sent, occs: list[Occ]) -> bool:
    return (
        sent.index > 0
        and not any(o.strong for o in occs)
        and bool(sent.toks)
        and sent.toks[0].text.lower() in lexicon.PRONOUN_OPENERS
    )


_MALE_PRONOUNS = {"he", "his", "el", "он", "ему", "его", "він", "йому", "його"}
_FEMALE_PRONOUNS = {"she", "ea", "она", "ей", "вона", "їй"}


def _pronoun_fits(sent: Sent, o: Occ, lang: str) -> bool:
    """The pronoun can stand for this person: not a possessor ('мати Максима'), and of their sex."""
    if o.possessive or _genitive(o, lang):
        return False
    pronoun = sent.toks[0].text.lower()
    if lang in ("ru", "uk"):
        from kinlink.ingest import morph

        for w in o.tokens:
            named = [p for p in morph._parses(w, lang) if "Name" in p.tag.grammemes]
            if named:
                female = str(named[0].tag.gender) == "femn"
                return pronoun in (_FEMALE_PRONOUNS if female else _MALE_PRONOUNS)
    return True


def _pronoun_attributes(sent: Sent, prev: list[Occ], lang: str, opts: ExtractOptions) -> None:
    """'Йому було 32 роки.', 'He served in the 57th Brigade.' after a sentence about one person."""
    if len(prev) != 1:
        return
    o = prev[0]
    proxy = Occ(sent=sent.index, start=0, end=1, written="", tokens=[], lemmas=[], keys=[])
    _attach_attributes(sent, [proxy], lang, opts, None)
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


# --- roles and status ownership -------------------------------------------------------------------------


def _assign_roles(sent: Sent, occs: list[Occ], lang: str) -> None:
    for o in occs:
        for c in sent.role_cues:
            before = 0 <= o.start - c.end <= 5
            after = 0 <= c.start - o.end <= 3 and any(t.text == "," for t in sent.toks[o.end : c.start + 1])
            if not (before or after):
                continue
            between = [t.text.lower() for t in sent.toks[c.end : o.start]] if before else []
            if c.kind == "relative":
                # "mama lui Ion", "mother of Ivan", "мать Ивана": the person is the relative's relative.
                if before and (set(between) & {"lui", "of", "a", "al", "ale"} or _genitive(o, lang)):
                    continue
                if before and o.start - c.end > 2:
                    continue
            if any(p is not o and p.strong and c.end <= p.start < o.start for p in occs):
                continue  # another person stands between the role word and this one
            o.role = c.kind
            break
        if any(k & lexicon.PUBLIC_FIGURES for k in o.keys):
            o.role = o.role if o.role in BLOCKING_ROLES else "public figure"
        for c in sent.sources:
            if 0 <= o.start - c.end <= 1:
                o.source = True
        for c in sent.speech:
            others_between = any(p is not o and p.strong and o.end <= p.start < c.start for p in occs)
            if 0 <= c.start - o.end <= 15 and not others_between and not o.possessive:
                if lang in ("ru", "uk") and _genitive(o, lang):
                    continue
                o.speaker_at = c.start
                break
            gap = {t.text.lower() for t in sent.toks[c.end : o.start]}
            after = sent.toks[o.end].text if o.end < len(sent.toks) else "."
            if (
                0 <= o.start - c.end <= 2
                and not gap & _COMPLEMENTIZERS
                and c.text.lower() not in ("according to", "potrivit", "conform")
                and (
                    after in _PUNCT
                    or after.lower() in _CONJ
                    or after.lower() in ("on", "in", "at", "în", "la")
                )
            ):
                # "– написав Валерій Залужний.", "said Ivan Petrov, ..." ends the clause; in "said soldier
                # Callum Reid had been captured" the name begins what was said.
                o.speaker_at = c.start
                break


def _genitive(o: Occ, lang: str) -> bool:
    if lang not in ("ru", "uk"):
        return False
    from kinlink.ingest import morph

    for w in o.tokens:
        parses = morph._parses(w, lang)
        named = [p for p in parses if p.tag.grammemes & {"Name", "Surn"}]
        if named:
            return all(str(p.tag.case) in ("gent", "accs") for p in named[:2]) and not any(
                "nomn" in p.tag.grammemes for p in named
            )
    return False


def _blocked(o: Occ, cue: Cue, sent: Sent) -> bool:
    if o.source:
        return True
    if o.role in BLOCKING_ROLES and not (o.role == "journalist" and _subject_of(o, cue, sent)):
        return True
    if o.speaker_at is not None and cue.start >= o.speaker_at:
        return True  # what a speaker reports is about others
    if (
        o.role == "relative"
        and cue.end <= o.start
        and any(c.kind == "relative" and c.end <= cue.start and o.start - c.end <= 4 for c in sent.role_cues)
    ):
        # "Брат загиблого Іван Данилюк": the brother of the one killed ("Мати полоненого Максима":
        # the genitive name is the captive, and has no relative role)
        return True
    lo, hi = (cue.end, o.start) if cue.end <= o.start else (o.end, cue.start)
    # "captured soldier's mother Olga Petrova": a named relative between the cue and the person.
    return any(
        c.kind == "relative"
        and lo <= c.start < hi
        and any(_is_cap(t.text) for t in sent.toks[c.end : c.end + 2])
        for c in sent.role_cues
    )


_EN_RO_AUX = {"was", "were", "is", "are", "has", "have", "had", "been", "got", "a", "au", "fost", "este",
              "sunt", "s-a", "s-au"}  # fmt: skip


def _subject_of(o: Occ, cue: Cue, sent: Sent) -> bool:
    """The cue is said of this person ("Jurnalistul X, corespondent de război, a fost rănit"): it follows
    closely, with only a description and auxiliaries between, no speech and no clause of its own."""
    if cue.start < o.end or cue.start - o.end > 8:
        return False
    if any(o.end <= c.start < cue.start for c in sent.speech):
        return False
    gap = [t.text.lower() for t in sent.toks[o.end : cue.start]]
    if set(gap) & _COMPLEMENTIZERS:
        return False
    if sent.lang in ("en", "ro"):
        return len(gap) <= 1 or bool(set(gap) & _EN_RO_AUX)
    from kinlink.ingest import morph

    return not any((p := morph._parses(w, sent.lang)) and p[0].tag.POS == "VERB" for w in gap)


def _distance(o: Occ, cue: Cue) -> int:
    if cue.end <= o.start:
        return o.start - cue.end
    if cue.start >= o.end:
        return cue.start - o.end
    return 0


def _own_cues(sent: Sent, occs: list[Occ]) -> None:
    cues = [c for c in sent.status_cues if not c.negated]
    for ci, c in enumerate(cues):
        cands = [(i, o) for i, o in enumerate(occs) if not _blocked(o, c, sent)]
        if not cands:
            continue
        i, o = min(cands, key=lambda t: (_distance(t[1], c), t[1].start))
        c.owner = i
        o.statuses.append((c.kind, _distance(o, c)))
        o.subject = o.subject or o.role in BLOCKING_ROLES
        del ci
    # People without a cue of their own: a coordinated neighbour's status ("рядовые A и B получили
    # ранения", "рядовой A и ефрейтор B"), else the nearest cue they may take.
    ordered = sorted(occs, key=lambda o: o.start)
    for _ in range(2):
        for k, o in enumerate(ordered):
            if o.statuses or o.role in BLOCKING_ROLES or o.source:
                continue
            for n in (ordered[k + 1] if k + 1 < len(ordered) else None, ordered[k - 1] if k > 0 else None):
                if n is not None and n.statuses and _coordinated(sent, o, n):
                    best = max(n.statuses, key=lambda t: (STATUS_PRIORITY[t[0]], -t[1]))
                    o.statuses.append(best)
                    break
    for o in occs:
        if o.statuses:
            continue
        free = [c for c in cues if c.owner is None and not _blocked(o, c, sent)]
        if free:
            c = min(free, key=lambda c: (_distance(o, c), -STATUS_PRIORITY[c.kind]))
            o.statuses.append((c.kind, _distance(o, c)))
            c.owner = c.owner if c.owner is not None else occs.index(o)


_AUX = {"was", "were", "is", "are", "has", "have", "had", "been", "a", "au", "fost", "este", "sunt", "who",
        "which", "care", "said", "a spus"}  # fmt: skip


_DESCRIBING = {"years", "year", "old", "aged", "de", "ani", "an", "the", "a", "both", "ambii", "amândoi",
               "his", "her", "their", "fellow"}  # fmt: skip


def _coordinated(sent: Sent, a: Occ, b: Occ) -> bool:
    """Two people listed together ("рядовые A и B", "матрос A та прикордонник B"): only conjunctions,
    punctuation and describing nouns between them, no verb, no cue of their own."""
    p, q = sorted((a, b), key=lambda o: o.start)
    gap = sent.toks[p.end : q.start]
    if len(gap) > 6 or not any(t.text.lower() in _CONJ for t in gap):
        return False
    if any(p.end <= c.start < q.start for c in [*sent.status_cues, *sent.speech]):
        return False
    for t in gap:
        w = t.text.lower()
        if w in _CONJ or w in _PUNCT or w.isdigit() or (w in _AUX and sent.lang in ("en", "ro")):
            if w in _AUX:
                return False
            continue
        if sent.lang in ("en", "ro"):
            # No part-of-speech tagger here: only describing words may stand between ("private A and
            # corporal B", "A, 25, and B"); "Tatiana își caută fiul, pe Alexandru" is no list.
            if not (_role_or_rank_word(t.text, sent.lang) or w in _DESCRIBING or w in _RANK_MODIFIERS):
                return False
            continue
        if sent.lang in ("ru", "uk"):
            from kinlink.ingest import morph

            parses = morph._parses(w, sent.lang)
            if parses and parses[0].tag.POS in ("VERB", "GRND", "PRTS", "INFN"):
                return False
    return True


# --- entities -------------------------------------------------------------------------------------------


@dataclass
class Entity:
    occs: list[Occ] = field(default_factory=list)

    @property
    def main(self) -> Occ:
        return max(self.occs, key=lambda o: (len(o.tokens), -o.sent))

    def keys(self) -> list[frozenset[str]]:
        return self.main.keys


def _same(o: Occ, e: Entity) -> bool:
    ek = [k for occ in e.occs for k in occ.keys]
    ok = all(any(k & x for x in ek) for k in o.keys)
    if not ok:
        return False
    if len(o.tokens) >= 2 and len(e.main.tokens) >= 2:
        return all(any(k & x for x in o.keys) for k in e.main.keys) or ok
    return True


def _heading_unit(
    heading: list[Sent], per_sent: dict[int, list[Occ]], lang: str, opts: ExtractOptions
) -> str | None:
    """The one unit a list's heading names, when the heading names no person."""
    if any(o.strong for h in heading for o in per_sent.get(h.index, [])):
        return None
    flags = 0 if lang in lexicon.UNIT_CASE_SENSITIVE else re.IGNORECASE
    units = {m.group(0).strip() for h in heading for m, _, _ in _find(lexicon.UNIT_PATTERNS[lang], h, flags)}
    if len(units) != 1:
        return None
    return _nominative_phrase(units.pop(), lang, opts.use_morph)


def _gender_of_parses(parses: list[object]) -> str | None:
    genders = {str(p.tag.gender) for p in parses if p.tag.gender}  # type: ignore[attr-defined]
    genders -= {"neut"}  # "старшему" is masculine or neuter: a person is not neuter
    return genders.pop() if len(genders) == 1 else None


def _context_gender(sent: Sent, o: Occ, lang: str) -> str | None:
    """Gender of the adjectives or participles agreeing with a lone surname ("старшему лейтенанту
    Ведерникову, погибшему"), where the surname alone could be his or his widow's."""
    from kinlink.ingest import morph

    cases = {str(p.tag.case) for p in morph._parses(o.tokens[0], lang) if p.tag.case}
    near = [t.text for t in sent.toks[max(0, o.start - 3) : o.start]][::-1]
    near += [t.text for t in sent.toks[o.end : o.end + 3] if t.text not in _PUNCT][:2]
    for w in near:
        agreeing = [
            p
            for p in morph._parses(w.lower(), lang)
            if p.tag.POS in ("ADJF", "PRTF") and str(p.tag.case) in cases and p.tag.number == "sing"
        ]
        gender = _gender_of_parses(agreeing)
        if gender:
            return gender
    return None


def _entity_gender(e: Entity, lang: str) -> str | None:
    from kinlink.ingest import morph

    for lemma in e.main.lemmas:
        named = [
            p for p in morph._parses(lemma, lang) if "Name" in p.tag.grammemes and "nomn" in p.tag.grammemes
        ]
        if named:
            return _gender_of_parses(named)
    return None


def _build_entities(
    strong: list[Occ], weak: list[Occ], sents: list[Sent] | None = None, lang: str = "en"
) -> list[Entity]:
    entities: list[Entity] = []
    for o in sorted(strong, key=lambda o: (o.sent, o.start)):
        target = next((e for e in entities if _same(o, e)), None)
        if target is None:
            target = Entity()
            entities.append(target)
        target.occs.append(o)
    for o in weak:
        matches = [e for e in entities if _same(o, e)]
        if len(matches) > 1 and sents is not None and lang in ("ru", "uk"):
            gender = _context_gender(sents[o.sent], o, lang)
            if gender:
                matches = [e for e in matches if _entity_gender(e, lang) == gender] or matches
        if len(matches) == 1:
            matches[0].occs.append(o)
        elif not matches and _weak_can_stand(o):
            entities.append(Entity([o]))
    return entities


def _weak_can_stand(o: Occ) -> bool:
    """A lone surname is a person only with something that says so: a rank, a role, an age."""
    return bool(o.rank or o.role or o.age or o.birth_year) and _looks_like_surname(o.tokens[0])


def _looks_like_surname(word: str) -> bool:
    f = gazetteer.fold(word)
    return bool(_SURNAME_SHAPE.search(f) or _CYR_SURNAME_SHAPE.search(word.lower()))


# --- the whole document ---------------------------------------------------------------------------------


def extract(
    doc: SourceDocument, lang: str, opts: ExtractOptions | None = None, text: str | None = None
) -> ExtractionResult:
    """Sightings and mentions in one document of a known language (ro/ru/uk/en)."""
    opts = opts or ExtractOptions()
    text = doc.text if text is None else text
    if lang == "ro":  # cedilla forms are common in Romanian web text
        text = text.replace("ş", "ș").replace("ţ", "ț").replace("Ş", "Ș").replace("Ţ", "Ț")
    sents = _prepare(text, lang, doc.title or text.split("\n", 1)[0], doc.date)
    has_cue = any(s.status_cues for s in sents)

    spans_by_sent: dict[int, list[tuple[int, int, bool]]] = {}
    for s in sents:
        if lang in ("ru", "uk"):
            spans_by_sent[s.index] = _cyr_spans(s, lang, opts, [])
        else:
            spans_by_sent[s.index] = _latin_spans(s, lang, opts)
    if lang in ("ru", "uk") and opts.use_natasha and has_cue:
        from kinlink.ingest import morph

        # natasha is the safety net where the dictionaries found no name: sentences near a status cue,
        # with two capitalised words in a row, and no person found by the rules. It costs most of the
        # run time when it runs on every sentence, and added nothing the rules missed on our labels.
        cued = [s.index for s in sents if s.status_cues]
        near = {k for i in cued for k in range(i - WINDOW, i + WINDOW + 1)}
        todo = [
            s
            for s in sents
            if s.index in near
            and not any(strong for _, _, strong in spans_by_sent[s.index])
            and any(_ner_worthy(a.text, b.text, lang, opts) for a, b in itertools.pairwise(s.toks))
        ]
        for s, found in zip(todo, morph.natasha_person_spans([s.text for s in todo]), strict=True):
            ner = [sp for a, b in found if (sp := _tok_span(s.toks, a, b))]
            spans_by_sent[s.index] = _cyr_spans(s, lang, opts, ner)

    strong: list[Occ] = []
    weak: list[Occ] = []
    per_sent: dict[int, list[Occ]] = {}
    named_after = lexicon.compiled_tail(lexicon.NAMED_AFTER[lang])
    for s in sents:
        occs = []
        for a, b, is_strong in spans_by_sent[s.index]:
            if named_after.search(s.text[: s.toks[a].start]):
                continue  # "улица Александра Невского", "лікарня імені Мечникова": not a person here
            o = _make_occ(s, a, b, lang, opts)
            o.strong = is_strong
            (strong if is_strong else weak).append(o)
            occs.append(o)
        _assign_roles(s, occs, lang)
        _attach_attributes(s, occs, lang, opts, doc.date)
        per_sent[s.index] = occs
        if _pronoun_led(s, occs):
            _pronoun_attributes(s, [o for o in per_sent[s.index - 1] if o.strong], lang, opts)

    for s in sents:
        if s.list_item:  # "The 47th Brigade published the names of three soldiers missing: • Sgt. A"
            for o in per_sent[s.index]:
                if o.strong and o.unit is None:
                    o.unit = _heading_unit(_list_heading(sents, s.index), per_sent, lang, opts)
    entities = _build_entities(strong, weak, sents, lang)
    for e in entities:  # an official stays one where no role word stands beside his name
        blocking = next((o.role for o in e.occs if o.role in BLOCKING_ROLES), None)
        for o in e.occs:
            if blocking and o.role is None:
                o.role = blocking
    in_entity = {id(o) for e in entities for o in e.occs}
    opener = lexicon.compiled(lexicon.ANAPHORIC_OPENERS[lang])
    for s in sents:
        occs = [o for o in per_sent[s.index] if id(o) in in_entity]
        _own_cues(s, occs)
        prev_people = [o for o in per_sent.get(s.index - 1, []) if o.strong and id(o) in in_entity]
        if (
            _pronoun_led(s, per_sent[s.index])
            and len(prev_people) == 1
            and _pronoun_fits(s, prev_people[0], lang)
        ):
            # "Він зник безвісти..." right after a sentence about one person: the cue is theirs.
            o = prev_people[0]
            for c in s.status_cues:
                if c.owner is None and not c.negated and o.role not in BLOCKING_ROLES and not o.source:
                    o.statuses.append((c.kind, 1))
                    o.donors.setdefault(c.kind, set()).add(s.index)
                    c.owner = -1
        head = s.text.lstrip("—–-• ")[:40]
        if s.index > 0 and occs and opener.match(head):
            # "Серед них — матрос X": X is one of those the previous sentence reported on.
            prev = sents[s.index - 1]
            for c in prev.status_cues:
                if c.owner is None and not c.negated:
                    for o in occs:
                        if o.role not in BLOCKING_ROLES and not o.source:
                            o.statuses.append((c.kind, 0))
                            o.donors.setdefault(c.kind, set()).add(prev.index)
    result = ExtractionResult(path=doc.path, language=lang, document=doc)
    for e in entities:
        _finish(e, sents, lang, opts, doc, result)
    return result


def _ner_worthy(a: str, b: str, lang: str, opts: ExtractOptions) -> bool:
    """Two capitalised words in a row, one of them unknown to the dictionary: a name the rules missed?"""
    if not (_is_cap(a) and _is_cap(b)) or a.isupper() or b.isupper():
        return False
    if not opts.use_morph:
        return True
    from kinlink.ingest import morph

    return any(morph.name_info(w, lang).best in ("unknown", "Name", "Surn", "Patr") for w in (a, b))


def _list_heading(sents: list[Sent], item: int) -> list[Sent]:
    """The sentences before a list, back to the first with a status cue (at most three):
    "Сьогодні звільнено 90 українців. Серед них:" or "Пропала связь с бойцами. Последний выход — 2 октября."
    """
    k = item - 1
    while k >= 0 and sents[k].list_item:
        k -= 1
    out: list[Sent] = []
    while k >= 0 and len(out) < 3:
        out.append(sents[k])
        if any(not c.negated and c.owner is None for c in sents[k].status_cues):
            break
        k -= 1
    return out


def _window_status(e: Entity, sents: list[Sent]) -> tuple[str, list[int]] | None:
    """A free status cue near a soldier-like person with none of their own: (status, donor sentences).

    The nearest sentences win, then the stronger status; every sentence giving that best cue is kept
    as evidence (a caption's "Пленный" line and its "Взят в плен вчера" line).
    """
    found: list[tuple[tuple[int, int], str, int]] = []
    for o in e.occs:
        if not o.soldier or o.role in BLOCKING_ROLES or o.source:
            continue
        donors: list[tuple[int, int, Sent]] = []  # (distance, 0 for the list heading, sentence)
        if sents[o.sent].list_item:  # a list inherits its heading's status
            donors += [(1, 0, h) for h in _list_heading(sents, o.sent)]
        for k in range(max(0, o.sent - WINDOW), min(len(sents), o.sent + WINDOW + 1)):
            if k != o.sent:
                donors.append((abs(k - o.sent), 1, sents[k]))
        for dist, heading, d in donors:
            for c in d.status_cues:
                if not c.negated and c.owner is None:
                    found.append(((dist, heading, -STATUS_PRIORITY[c.kind]), c.kind, d.index))
    if not found:
        return None
    best = min(f[0] for f in found)
    kind = next(f[1] for f in found if f[0] == best)
    return kind, sorted({f[2] for f in found if f[0] == best})


def _finish(e: Entity, sents: list[Sent], lang: str, opts: ExtractOptions, doc: SourceDocument,
            result: ExtractionResult) -> None:  # fmt: skip
    main = e.main
    name = " ".join(_name_case(t) for t in main.lemmas)
    roles = [o.role for o in e.occs if o.role]
    blocking = next((r for r in roles if r in BLOCKING_ROLES), None)
    if blocking == "journalist" and any(o.subject for o in e.occs):
        blocking = None  # "Jurnalistul X ... a fost rănit": the journalist is the one reported on
    direct = [(st, d, o) for o in e.occs for st, d in o.statuses]
    status: str | None = None
    evidence_sents: list[int] = []
    if blocking is None and direct:
        status, _, occ = max(direct, key=lambda t: (STATUS_PRIORITY[t[0]], -t[1]))
        evidence_sents = sorted({occ.sent, *occ.donors.get(status, ())})
    elif blocking is None and opts.use_window:
        found = _window_status(e, sents)
        if found:
            status, donors = found
            occ = next(o for o in e.occs if o.soldier)
            evidence_sents = sorted({occ.sent, *donors})
    if status is None:
        role = blocking or (roles[0] if roles else None)
        if role is None:
            role = "speaker" if any(o.speaker_at is not None or o.source for o in e.occs) else "other"
        first = min(e.occs, key=lambda o: o.sent)
        result.mentions.append(Mention(name, role, main.written, sents[first.sent].text))
        return

    def first(attr: str, only_evidence: bool = False) -> object:
        occs = sorted(e.occs, key=lambda o: o.sent)
        if only_evidence:  # where and when: from the sentences that report the event
            occs = [o for o in occs if o.sent in evidence_sents]
        return next((getattr(o, attr) for o in occs if getattr(o, attr)), None)

    age = first("age")
    birth_year = first("birth_year")
    date: DateMention | None = first("date", only_evidence=True)  # type: ignore[assignment]
    if date is None:  # "Взят в плен вчера": a date right beside the status word that was used
        date = next(
            (
                d
                for k in evidence_sents
                for c in sents[k].status_cues
                if c.kind == status
                for d in sents[k].dates
                if abs(d.start - sents[k].toks[c.start].start) <= 40
            ),
            None,
        )
    evidence = " … ".join(sents[k].text for k in evidence_sents)
    via = [kind for kind, pat in lexicon.MEDIA_PATTERNS if re.search(pat, evidence, re.IGNORECASE)]
    via += [m for m in doc.media if m not in via]
    if doc.kind == "telegram" and "telegram" not in via:
        via.append("telegram")
    result.sightings.append(
        Sighting(
            name=name,
            name_as_written=main.written,
            status=status,
            evidence=evidence,
            age=age,  # type: ignore[arg-type]
            birth_year=birth_year,  # type: ignore[arg-type]
            birth_year_range=_birth_range(age, birth_year, doc.date),  # type: ignore[arg-type]
            rank=first("rank"),  # type: ignore[arg-type]
            unit=first("unit"),  # type: ignore[arg-type]
            home=first("home"),  # type: ignore[arg-type]
            place=first("place", only_evidence=True),  # type: ignore[arg-type]
            date=date.date if date else None,
            date_text=date.text if date else None,
            reported_via=via,
        )
    )


def _name_case(token: str) -> str:
    """'КАРПОВ' -> 'Карпов', 'O'BRIEN' -> 'O'Brien'; an initial ('A.') and mixed case stay as written."""
    if len(token) < 2 or not token.isupper() or len(token.rstrip(".")) == 1:
        return token
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), token)


def _birth_range(age: int | None, birth_year: int | None, ref: dt.date | None) -> tuple[int, int] | None:
    if birth_year:
        return (birth_year, birth_year)
    if age is not None and ref is not None:
        # 28 on the document date: born in the year 28 years before, or the one before that.
        return (ref.year - age - 1, ref.year - age)
    return None
