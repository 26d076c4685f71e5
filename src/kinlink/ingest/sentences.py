"""Sentences and tokens, with the cues found in them by pattern.

Every later step works on token positions inside one sentence, so the text is cut once, here. A line
break always ends a sentence (lists and captions put one person on a line); an abbreviation in a name or
rank ("Sgt. Ivan Petrov") does not. The cues of each sentence (statuses, roles, speech verbs, sources,
military nouns, dates) are found before anyone is named, so that every step sees the same ones.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from kinlink.ingest import lexicon
from kinlink.ingest.dates import DateMention, find_dates

CONJ = {"and", "și", "si", "и", "і", "та", "й", "or", "sau", "или", "або", ",", ";", "&"}
PUNCT = set(",.;:!?()[]«»„“”\"'’–—-/")
# "1.", "2)", a keycap digit ("1️⃣"), a dash or a bullet-like emoji opens a list item.
_LIST_ITEM = re.compile(
    r"^\s*(?:\d{1,3}[.)]|\d{1,2}\ufe0f?\u20e3|[-•*—–▪▫◾◽●■➖➡►▶👉📌🔹🔸🔺🔻✅✔☑❗🔟\ufe0f]+)\s+"
)
# razdel ends a sentence after these; in names and ranks they are abbreviations ("Sgt. Ivan Petrov").
_ABBREVIATIONS = {"sgt", "pvt", "cpl", "lt", "capt", "maj", "col", "gen", "jr", "sr", "dr", "mr", "mrs", "ms",
                  "st", "gov", "sen", "rep", "adm", "brig", "cmdr", "lt.col", "no", "nr"}  # fmt: skip


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


def split_sentences(text: str) -> list[tuple[str, bool]]:
    """Sentences with a flag for list items; every line break ends a sentence (lists, captions)."""
    out: list[tuple[str, bool]] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        item = bool(_LIST_ITEM.match(line))
        segments = _semicolon_items(line)
        for k, seg in enumerate(segments):
            parts = _sentenize(seg)
            if len(segments) == 1:
                out.extend((p, item) for p in parts)
                continue
            if k == 0:  # the heading (to its colon) and the first item, or a first item with the status
                *lead, first = parts
                out.extend((p, item) for p in lead)
                head, colon, rest = first.rpartition(":")
                if colon and head.strip() and rest.strip():
                    out += [(f"{head.strip()}:", item), (rest.strip(), True)]
                else:
                    out.append((first, item))
            else:  # an item; sentences after the last item are prose again
                out.append((parts[0], True))
                out.extend((p, item) for p in parts[1:])
    return out


def _semicolon_items(line: str) -> list[str]:
    """An enumeration run into one line ("Звільнені: A, 34 роки; B, 52 роки; C." or "The freed men
    include A, 22; B, 35; and C") split at its semicolons: in all four languages' punctuation a semicolon
    separates items that hold commas of their own, so each item is a list item of its own, and an age or
    a rank goes to the person of its own item. Prose (long clauses between semicolons) stays one line."""
    segments = [seg.strip() for seg in line.split(";")]
    segments = [seg for seg in segments if seg.strip(" .")]
    if len(segments) < 2:
        return [line]
    # Each item is short up to its first full stop (the last one may go on with prose).
    if any(len(re.split(r"(?<=[.!?])\s", seg, maxsplit=1)[0].split()) > 20 for seg in segments[1:]):
        return [line]
    return [f"{seg};" if k < len(segments) - 1 else seg for k, seg in enumerate(segments)]


def _sentenize(line: str) -> list[str]:
    from razdel import sentenize

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
    return parts


def tokenize(text: str) -> list[Tok]:
    from razdel import tokenize as rtok

    return [Tok(t.text, t.start, t.stop) for t in rtok(text)]


def tok_span(toks: list[Tok], start: int, stop: int) -> tuple[int, int] | None:
    idx = [i for i, t in enumerate(toks) if t.start < stop and start < t.stop]
    return (idx[0], idx[-1] + 1) if idx else None


def find(pattern: str, sent: Sent, flags: int = re.IGNORECASE) -> list[tuple[re.Match[str], int, int]]:
    out = []
    for m in lexicon.compiled(pattern, flags).finditer(sent.text):
        span = tok_span(sent.toks, m.start(), m.end())
        if span:
            out.append((m, span[0], span[1]))
    return out


def prepare(text: str, lang: str, title: str | None, ref: dt.date | None) -> list[Sent]:
    sents: list[Sent] = []
    for i, (raw, item) in enumerate(split_sentences(text)):
        s = Sent(
            i, raw, tokenize(raw), lang, list_item=item, title=(i == 0 and title is not None and raw in title)
        )
        # "Treatment of Prisoners of War" in an institution's name says nothing about anyone.
        taken = [m.span() for m in lexicon.compiled(lexicon.NEUTRAL_PATTERNS[lang]).finditer(raw)]
        for status, pattern in lexicon.STATUS_PATTERNS[lang]:
            for m, a, b in find(pattern, s):
                if any(m.start() < e and st < m.end() for st, e in taken):
                    continue
                taken.append((m.start(), m.end()))
                before = {t.text.lower() for t in s.toks[max(0, a - 3) : a]}
                negated = bool(before & lexicon.NEGATIONS) and status != "missing"
                s.status_cues.append(Cue(status, a, b, m.group(0), negated))
        for role, pattern in lexicon.ROLE_PATTERNS[lang]:
            s.role_cues.extend(Cue(role, a, b, m.group(0)) for m, a, b in find(pattern, s))
        s.speech = [Cue("speech", a, b, m.group(0)) for m, a, b in find(lexicon.SPEECH_PATTERNS[lang], s)]
        s.sources = [Cue("source", a, b, m.group(0)) for m, a, b in find(lexicon.SOURCE_BEFORE[lang], s)]
        s.military = bool(find(lexicon.MILITARY_PATTERNS[lang], s))
        s.dates = find_dates(raw, lang, ref)
        sents.append(s)
    return sents
