"""How close two spellings of a name part are: the same name read through transliteration, and the best
fuzzy similarity over every reading of each spelling (the measures `compare` turns into levels)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import OSA

from kinlink.messages import Message, message_id, say
from kinlink.names.caching import WORD_CACHE
from kinlink.names.script import CYRILLIC, LATIN, fix_homoglyphs
from kinlink.names.translit import CONVENTION_LABELS, readings, sound_class


@lru_cache(maxsize=WORD_CACHE)
def norm_token(tok: str) -> str:
    return fix_homoglyphs(tok).casefold().replace("ё", "е").strip(".")


def _lang_of(tok: str) -> str:
    low = tok.lower()
    if any(c in low for c in "ґєії"):
        return "uk"
    if "ў" in low:
        return "be"
    return "ru"


# "Олексій is the Ukrainian spelling of Алексей": one message a language (see compare._FORM_OF).
_SPELLING_OF = {
    "uk": message_id("%(form)s is the Ukrainian spelling of %(name)s"),
    "be": message_id("%(form)s is the Belarusian spelling of %(name)s"),
    "ru": message_id("%(form)s is the Russian spelling of %(name)s"),
}


SPELLING_OF = _SPELLING_OF


def _convention(code: str | None) -> Message:
    return Message(CONVENTION_LABELS.get(code or "", message_id("an unnamed convention")))


def translit_reason(a: str, b: str, key: str) -> Message:
    """Why two spellings are one name read through transliteration, naming the convention."""
    ra, rb = readings(a), readings(b)
    if ra.script == CYRILLIC and rb.script == CYRILLIC:
        la, lb = _lang_of(a), _lang_of(b)
        if la != lb:
            return say(_SPELLING_OF[lb], form=b, name=a)
        return say("%(a)s and %(b)s are spellings of one name", a=a, b=b)
    if ra.script == CYRILLIC or rb.script == CYRILLIC:
        cyr, lat, rl = (a, b, rb) if ra.script == CYRILLIC else (b, a, ra)
        return say(
            "%(latin)s is %(cyrillic)s transliterated (%(convention)s)",
            latin=lat,
            cyrillic=cyr,
            convention=_convention(next(iter(rl.conventions_of(key)), None)),
        )
    ca = _convention(next(iter(ra.conventions_of(key)), None))
    cb = _convention(next(iter(rb.conventions_of(key)), None))
    if ca == cb:
        return say("%(a)s and %(b)s read the same (%(convention)s transliteration)", a=a, b=b, convention=ca)
    return say(
        "%(a)s (%(convention_a)s) and %(b)s (%(convention_b)s) are transliterations of one name",
        a=a,
        b=b,
        convention_a=ca,
        convention_b=cb,
    )


def common_key(a: str, b: str) -> str | None:
    ra, rb = readings(a), readings(b)
    if ra.primary and ra.primary == rb.primary:
        return ra.primary
    keys_b = rb.keys
    for k in ra.keys:
        if k in keys_b:
            break
    else:  # no key in common (most pairs a search compares): nothing below would find one
        return None
    kb = set(rb.keys)
    for k in (*[k for k in ra.likely if k in rb.likely], *ra.keys):
        if k in kb:
            return k
    return None


def best_similarity(a: str, b: str, metric: Any = OSA) -> float:
    return best_fuzzy(a, b, metric)[0]


# Sibilants merged: what is left of ж, ч, ш, ц when a typist drops the diacritics of ž, č,
# š, ț (Zuckov for Žučkov, Жучков). Counted at 0.85, as one typo in seven letters: such a
# spelling has lost letters, and Sukin is as close to Жукин as to Сукин.
_SIBILANTS = str.maketrans("CSZcz", "sssss")
_COARSE_WEIGHT = 0.85
_EXTRA_FORMS_FROM = 0.6


_Form = tuple[tuple[tuple[str, str], ...], ...]  # per kind: (text, class of its first sound)


@lru_cache(maxsize=4096)  # per first letter (or ""): a few dozen
def _start_class(letter: str) -> str:
    return sound_class(letter) or letter


def _classed(texts: Sequence[str]) -> tuple[tuple[str, str], ...]:
    if len(texts) < 2:  # nothing to deduplicate (a Cyrillic word's one reading)
        return tuple([(t, _start_class(t[:1])) for t in texts])
    return tuple([(t, _start_class(t[:1])) for t in dict.fromkeys(texts)])


@lru_cache(maxsize=WORD_CACHE)
def _forms(token: str) -> tuple[_Form, str]:
    """A token's forms for fuzzy comparison: normalised keys, the letter-level keys that
    differ from them, the keys with sibilants merged, the spelling itself; and the script."""
    r = readings(token)
    keys = r.keys
    text = norm_token(token)
    return (
        _classed(keys),
        _classed([k for k in r.loose if k not in keys]),
        _classed([k.translate(_SIBILANTS) for k in keys]),
        ((text, _start_class(text[:1])),),
    ), r.script


def best_fuzzy(a: str, b: str, metric: Any = OSA) -> tuple[float, bool]:
    """The best similarity over both names' readings, and whether that best pair begins alike
    (a vowel, or one consonant class: Ж and Ш, read from one spelling by two conventions,
    begin alike). Readings are compared as normalised keys, letter by letter (see
    `loose_key`; two Cyrillic spellings also as written: КЛЕВ is one letter from КЛЮЕВ) and,
    with a Latin side, with sibilants merged."""
    (keys_a, loose_a, coarse_a, text_a), script_a = _forms(a)
    (keys_b, loose_b, coarse_b, text_b), script_b = _forms(b)
    sim = metric.normalized_similarity
    best, same_start = 0.0, False

    def scan(xs: tuple[tuple[str, str], ...], ys: tuple[tuple[str, str], ...], weight: float) -> None:
        nonlocal best, same_start
        for ka, ca in xs:
            for kb, cb in ys:
                s = weight * sim(ka, kb)
                if s > best:
                    best, same_start = s, ca == cb
                elif s == best and ca == cb:
                    same_start = True

    scan(keys_a, keys_b, 1.0)
    if best < _EXTRA_FORMS_FROM:
        # The other forms rescue near misses; names this far apart stay apart (and most
        # candidate pairs are that far apart, so this keeps comparison fast).
        return best, same_start
    scan(loose_a, keys_b + loose_b, 1.0)
    scan(keys_a, loose_b, 1.0)
    if script_a == CYRILLIC and script_b == CYRILLIC:
        scan(text_a, text_b, 1.0)
    elif LATIN in (script_a, script_b):
        scan(coarse_a, coarse_b, _COARSE_WEIGHT)
    return best, same_start
