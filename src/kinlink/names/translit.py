"""Readings of a name token into one phonemic key space shared by Cyrillic and Latin.

A Cyrillic token has one reading. A Latin token is read once per romanisation or press
convention that could have produced it (German "ch" is х, English "ch" is ч, French "ch" is
ш), so a token yields a small set of keys, each tagged with the conventions that gave it.

The phonemic alphabet is lowercase ASCII plus: C = ч, S = ш, Z = ж, Q = щ, x = х, c = ц
(and H, X: a bare Latin h read as г or х, which keys write as g and x; a bare h after a
consonant is the sign of a convention that does not know the digraph, "kh" read as к+х).
Keys then go through `normalise_key`, which removes the differences that romanisations and
the Russian/Ukrainian/Belarusian orthographies disagree on but that rarely tell two names
apart (и/ы/і/й/y/j, е/є/э/ё, iotated vowels, doubled consonants, Russian г = Ukrainian г).

A bare Latin "h" is read as г by the conventions that write х otherwise (English "kh",
German/Polish/Czech "ch", French "kh") since there it can only be Ukrainian г (Oleh,
Hryhoriy), and as х by those that write х as "h" (Romanian, ISO 9, GOST 7.79 B).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import lru_cache
from operator import add, attrgetter, itemgetter

from kinlink.messages import message_id
from kinlink.names.caching import WORD_CACHE
from kinlink.names.convention import COMMON_RULES, Convention
from kinlink.names.frozen import quick_init
from kinlink.names.script import CYRILLIC, LATIN, fix_homoglyphs, token_script

# --- Cyrillic -----------------------------------------------------------------------------

_CYRILLIC_PHONEMES: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "io", "є": "ie",
    "ж": "Z", "з": "z", "и": "i", "і": "i", "ї": "ii", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ў": "v", "ф": "f",
    "х": "x", "ц": "c", "ч": "C", "ш": "S", "щ": "Q", "ъ": "", "ы": "i", "ь": "", "э": "e",
    "ю": "iu", "я": "ia", "'": "", "-": "",
}  # fmt: skip
_CYRILLIC_TABLE = str.maketrans(_CYRILLIC_PHONEMES)


def read_cyrillic(token: str) -> str:
    return token.lower().translate(_CYRILLIC_TABLE)


# Lower-case Russian, Ukrainian and Belarusian letters, and the apostrophe and hyphen a word may hold.
_CYRILLIC_WORD_CHARS = "".join(_CYRILLIC_PHONEMES)


def _script_of(tok: str) -> str:
    """`token_script` of a word: one made of Cyrillic letters (with ' or -) only is Cyrillic without
    the general scan of every script (str.strip tests every character against the set in C)."""
    if not tok.strip(_CYRILLIC_WORD_CHARS) and tok.strip("'-"):
        return CYRILLIC
    return token_script(tok)


# --- Latin conventions ----------------------------------------------------------------------

_V = "aeiouyäöüéèêëïîâàáíóúăąęů"  # vowels, for context rules


def _conv(code: str, label: str, *rules: tuple[str, str], only_if: str = "") -> Convention:
    return Convention(code, label, (*rules, *COMMON_RULES), only_if)


CONVENTIONS: tuple[Convention, ...] = (
    _conv(
        # GOST R 52535.1 (Russian passports 2006-2013) writes ц as "tc".
        "en", "English/passport",
        ("shch", "Q"), ("tch", "C"), ("kh", "x"), ("zh", "Z"), ("ch", "C"), ("sh", "S"),
        ("ts", "c"), ("tz", "c"), ("tc", "c"), ("x", "ks"), ("c", "k"), ("j", "i"), ("h", "H"),
        ("ë", "io"),  # BGN/PCGN: Жжёнов is Zhzhënov
    ),
    _conv(
        "de", "German",
        ("schtsch", "Q"), ("tsch", "C"), ("dsch", "dZ"), ("sch", "S"), ("ch", "x"), ("sh", "S"),
        ("zh", "Z"), ("ts", "c"), ("tz", "c"), ("z", "c"), ("ß", "s"), ("ä", "e"), ("ö", "io"),
        ("ü", "iu"), ("x", "ks"), ("c", "k"), ("j", "i"), ("h", "H"),
    ),
    # German renders ж as "sch" and з as "s" too (Schukow, Sinowjew): a voiced reading.
    _conv(
        "de-v", "German",
        ("schtsch", "Q"), ("tsch", "C"), ("dsch", "dZ"), ("sch", "Z"), ("ch", "x"), ("ss", "s"),
        ("ß", "s"), (f"s(?=[{_V}])", "z"), ("ts", "c"), ("tz", "c"), ("z", "c"), ("ä", "e"),
        ("ö", "io"), ("ü", "iu"), ("x", "ks"), ("c", "k"), ("j", "i"), ("h", "H"),
    ),
    _conv(
        "fr", "French",
        ("chtch", "Q"), ("tch", "C"), ("dj", "dZ"), ("ch", "S"), ("kh", "x"), ("j", "Z"),
        ("ou", "u"), ("où", "u"), ("ts", "c"), ("tz", "c"), ("ss", "s"),
        (f"(?<=[{_V}])s(?=[{_V}])", "z"), ("gu(?=[eiéèyï])", "g"), ("g(?=[eiéèy])", "Z"),
        ("ç", "s"), ("c(?=[eiyéè])", "s"), ("c", "k"), ("x", "ks"), ("ï", "i"), ("ë", "io"),
        ("[éèê]", "e"), ("h", "H"), ("ine$", "in"), ("off$", "ov"), ("eff$", "ev"),
    ),
    # French passports and consular documents (MVD order 310): no gu/ss spelling tricks, so
    # Boutiagine is Бутягин, not Бутяжин.
    _conv(
        "fr-p", "French passport",
        ("chtch", "Q"), ("tch", "C"), ("ch", "S"), ("kh", "x"), ("j", "Z"), ("ou", "u"),
        ("ts", "c"), ("ss", "s"), ("c", "k"), ("x", "ks"), ("ï", "i"), ("ë", "io"),
        ("[éèê]", "e"), ("h", "H"), ("ine$", "in"),
    ),
    _conv(
        "pl", "Polish",
        ("szcz", "Q"), ("sz", "S"), ("cz", "C"), ("rz", "Z"), ("ż", "Z"), ("dż", "dZ"),
        ("ź", "z"), ("ch", "x"), ("ć", "c"), ("ś", "s"), ("ł", "l"), ("ó", "u"), ("ą", "on"),
        ("ę", "en"), ("ń", "n"), ("c", "c"), ("x", "ks"), ("j", "i"), ("h", "H"),
    ),
    _conv(
        "cs", "Czech/Slovak",
        ("šč", "Q"), ("č", "C"), ("š", "S"), ("ž", "Z"), ("ch", "x"), ("ř", "r"), ("ě", "ie"),
        ("ů", "u"), ("c", "c"), ("x", "ks"), ("j", "i"), ("h", "H"),
    ),
    _conv(
        "sci", "scholarly/ISO 9/GOST 7.79",
        ("šč", "Q"), ("ŝ", "Q"), ("č", "C"), ("š", "S"), ("ž", "Z"), ("ch", "x"), ("â", "ia"),
        ("û", "iu"), ("ê", "e"), ("ë", "io"), ("ì", "i"), ("ǐ", "i"), ("ʺ", ""), ("c", "c"),
        ("x", "x"), ("j", "i"), ("[p]h", "pX"), ("h", "X"),
    ),
    # The plain ASCII scheme of the popular Python `transliterate` package and of many web
    # forms: щ "sch", х "h", ц "ts", й/ю/я with j.
    _conv(
        "ascii", "simple ASCII (щ = sch)",
        ("sch", "Q"), ("zh", "Z"), ("ch", "C"), ("sh", "S"), ("ts", "c"), ("x", "ks"), ("c", "k"),
        ("j", "i"), ("[p]h", "pX"), ("h", "X"),
    ),
    # GOST 7.79-2000 system B (Russian URLs and documents): ц "cz", щ "shh", х "x" or "h".
    _conv(
        "gost-b", "GOST 7.79 system B",
        ("shh", "Q"), ("cz", "c"), ("ch", "C"), ("sh", "S"), ("zh", "Z"), ("x", "x"),
        ("[p]h", "pX"), ("h", "X"), ("c", "c"), ("j", "i"),
    ),
    _conv(
        "ro", "Romanian",
        ("[șş]", "S"), ("[țţ]", "c"), ("ă", "a"), ("[âî]", "i"), ("ci(?=[aouăâî])", "C"),
        ("ci$", "C"), ("c(?=[eiéí])", "C"), ("ch(?=[ei])", "k"), ("gh(?=[ei])", "g"),
        ("gi(?=[aouă])", "dZ"), ("g(?=[ei])", "dZ"), ("ch", "x"), ("ea", "ia"),
        ("c", "k"), ("j", "Z"), ("[p]h", "pX"), ("h", "X"), ("x", "ks"),
    ),
    # Romanian writes ч before a consonant "ci", the i sounded or not (Kucima for Кучма,
    # Ilinicina for Ильинична); the plain reading above keeps the i (Cicikov, Чичиков).
    # "[c]i" and "[p]h" are written as context rules: they choose a reading but are no
    # evidence for the convention (see _evidence_weight).
    _conv(
        "ro-c", "Romanian",
        ("[șş]", "S"), ("[țţ]", "c"), ("ă", "a"), ("[âî]", "i"), ("ci(?=[aouăâî])", "C"),
        ("ci$", "C"), (f"[c]i(?=[^{_V}c])", "C"), ("c(?=[eiéí])", "C"), ("ch(?=[ei])", "k"),
        ("gh(?=[ei])", "g"), ("gi(?=[aouă])", "dZ"), ("g(?=[ei])", "dZ"), ("ch", "x"),
        ("ea", "ia"), ("c", "k"), ("j", "Z"), ("[p]h", "pX"), ("h", "X"), ("x", "ks"),
        only_if=f"ci[^{_V}c]",
    ),
    _conv(
        "es", "Spanish",
        ("shch", "Q"), ("ch", "C"), ("sh", "S"), ("zh", "Z"), ("ts", "c"), ("ll", "l"),
        ("ñ", "n"), ("c(?=[ei])", "s"), ("c", "k"), ("gu(?=[ei])", "g"),
        ("g(?=[ei])", "x"), ("j", "x"), ("h", "H"), ("x", "ks"),
    ),
    # Italian press writes х as "ch" (Michail, Charkiv) and к as "k".
    _conv(
        "it", "Italian",
        ("sci(?=[aou])", "S"), ("sc(?=[ei])", "S"), ("ci(?=[aou])", "C"), ("c(?=[ei])", "C"),
        ("ch", "x"), ("gh", "g"), ("gi(?=[aou])", "dZ"), ("g(?=[ei])", "dZ"), ("gn", "ni"), ("ts", "c"),
        ("zz", "c"), ("z", "c"), ("c", "k"), ("j", "i"), ("h", "H"), ("x", "ks"),
    ),
    # Italian writes щ as "sc" too (Ciascin is Чащин, Sciukin Щукин): the same rules with sc = щ.
    _conv(
        "it-q", "Italian",
        ("sci(?=[aou])", "Q"), ("sc(?=[ei])", "Q"), ("ci(?=[aou])", "C"), ("c(?=[ei])", "C"),
        ("ch", "x"), ("gh", "g"), ("gi(?=[aou])", "dZ"), ("g(?=[ei])", "dZ"), ("gn", "ni"), ("ts", "c"),
        ("zz", "c"), ("z", "c"), ("c", "k"), ("j", "i"), ("h", "H"), ("x", "ks"),
        only_if="sc",
    ),
    # Italian, like Romanian, may write ч before a consonant "ci" (Ilinicina).
    _conv(
        "it-c", "Italian",
        ("sci(?=[aou])", "S"), ("sc(?=[ei])", "S"), ("ci(?=[aou])", "C"), (f"[c]i(?=[^{_V}c])", "C"),
        ("c(?=[ei])", "C"), ("ch", "x"), ("gh", "g"), ("gi(?=[aou])", "dZ"), ("g(?=[ei])", "dZ"),
        ("gn", "ni"), ("ts", "c"), ("zz", "c"), ("z", "c"), ("c", "k"), ("j", "i"), ("h", "H"),
        ("x", "ks"),
        only_if=f"ci[^{_V}c]",
    ),
)  # fmt: skip

CONVENTION_LABELS: dict[str, str] = {c.code: c.label for c in CONVENTIONS}
_CONVENTION_ORDER: dict[str, int] = {c.code: i for i, c in enumerate(CONVENTIONS)}
CONVENTION_LABELS["cyr"] = message_id("Cyrillic")

# Letters that only some conventions use; a token with them is read by those conventions only.
_MARKERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("șşțţă", frozenset({"ro"})),
    ("łżźśćńąęó", frozenset({"pl"})),
    ("řěů", frozenset({"cs"})),
    ("ŝûʺ", frozenset({"sci"})),
    ("čšž", frozenset({"cs", "sci"})),
    ("âî", frozenset({"ro", "sci", "fr", "fr-p"})),
    ("äöüß", frozenset({"de", "de-v"})),
    ("çéèêï", frozenset({"fr", "fr-p", "sci"})),
    ("ë", frozenset({"en", "fr", "fr-p", "sci"})),  # BGN/PCGN writes ё as ë
    ("ñ", frozenset({"es"})),
)


_MARKER_SETS = tuple((frozenset(letters), codes) for letters, codes in _MARKERS)
_ANY_MARKER = frozenset().union(*(letters for letters, _ in _MARKER_SETS))
# Each convention with the regex a token must match for it to apply (None: every token).
_CONDITIONS = tuple((c, c._only_rx.search if c.only_if else None) for c in CONVENTIONS)  # type: ignore[attr-defined]


def conventions_for(token: str, letters: set[str] | None = None) -> tuple[Convention, ...]:
    """The conventions that may have written a token (whose set of letters may be given)."""
    allowed: set[str] | None = None
    if letters is None:
        letters = set(token)
    if not letters.isdisjoint(_ANY_MARKER):  # most tokens have no marker letter
        for marks, codes in _MARKER_SETS:
            if not letters.isdisjoint(marks):
                allowed = set(codes) if allowed is None else (allowed & codes) or (allowed | codes)
    return tuple(
        c
        for c, only in _CONDITIONS
        if (allowed is None or c.code in allowed) and (only is None or only(token))
    )


# --- normalisation --------------------------------------------------------------------------

_NON_PHONEME = re.compile(r"[^a-zCSZQx]")
# Doubled consonants and i collapse (Савва/Sava, Юрий/Yuri); doubled a/e/o/u do not: Корнеева
# and Корнева are two names, and no romanisation doubles them.
_RUNS = re.compile(r"([^aeou])\1+")
RUNS = _RUNS
_HUSHER_O = re.compile(r"([CSZ])o(va?)$")
# Replacements as C callables rather than r"\1" templates, which re expands in Python at every call.
FIRST_GROUP = itemgetter(1)


def _husher_e(m: re.Match[str]) -> str:
    return m[1] + "e" + m[2]


_FOLD = str.maketrans({"Q": "SC", "H": "g", "X": "x", "h": "g", "y": "i", "j": "i", "w": "v"})
# _FOLD and the ASCII that _NON_PHONEME drops, in one table: `loose_key` in one pass over a reading, the
# regex left for what is not ASCII (issue 19).
_LOOSE = {
    **{c: None for c in range(128) if _NON_PHONEME.fullmatch(chr(c))},
    **_FOLD,
}


def _fold_leftovers(s: str) -> str:
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def normalise_key(phonemes: str) -> str:
    """The comparison key of a phonemic reading (see module doc)."""
    return _normalised(loose_key(phonemes))


def _normalised(loose: str) -> str:
    """`normalise_key` of a reading whose `loose_key` is this: the letter-level folds are its first steps
    (a token's readings need both, worked out once)."""
    s = _RUNS.sub(FIRST_GROUP, loose)
    s = s.replace("ou", "u")
    # е/є/ё and their romanisations ye, ie, je, yo, io, jo: iotation is written so many ways
    # that it never tells names apart, and Russian text mostly writes ё as е (Соловьев,
    # Solovyov); Ukrainian writes Russian ё after ч/ш/ж as о (Горбачов). An i before e is dropped:
    # every "ie" holds one such i, and no two overlap (str.replace, not a regex scan; issue 19).
    s = s.replace("ie", "e").replace("io", "e")
    if s.endswith(("ov", "ova")):  # the only words _HUSHER_O can match
        s = _HUSHER_O.sub(_husher_e, s)
    # No run to collapse again: the steps after the first collapse only put u or e (never in a run)
    # beside a letter or turn an o into e (tests/names/test_normalised.py holds this to the regex steps).
    return s


def loose_key(phonemes: str) -> str:
    """A reading with only the letter-level folds of `normalise_key` (no iotation, ё, ou or
    doubled-letter rules).

    Typos are made on letters: "Saianko" for Saienko (Саєнко) is one letter off, but two in
    normalised keys, where є loses its i and я keeps it; "Мііна" for Мішіна likewise, where
    the ii would collapse. Fuzzy comparison uses both forms.
    """
    s = _fold_leftovers(phonemes).translate(_LOOSE)
    return s if s.isascii() else _NON_PHONEME.sub("", s)  # a letter no fold knows (ł) is dropped too


# Letter pairs a convention leaves behind when it is the wrong one for a spelling: "kh" read
# by a convention without that digraph gives к+х, "tsch" read as English gives ц+ч.
# H and X are a bare h (read as г or х), "~" a silent one.
# "ph" read as п+х is not one: the conventions that write х as h have no ph (Aphanova,
# Апханова, in Romanian). A final j read as ж (French, Romanian) is the й of a Czech-style
# -ij (Brjuxoveckij): no name ends in -иж.
_IMPLAUSIBLE = re.compile(r"[bcdfgkstvzCSZ][XH~]|p[H~]|cC|tC|tS|cS|sS|zS|zC|kz|kc|Cc|Sc|Zc|iZ$")


def implausibility(phonemes: str) -> int:
    return len(_IMPLAUSIBLE.findall(phonemes))


@quick_init
@dataclass(frozen=True)
class Readings:
    """All keys a token may stand for, each with the conventions that produce it."""

    token: str
    script: str
    keys: tuple[str, ...]
    conventions: tuple[tuple[str, ...], ...]  # parallel to keys
    # Keys of the readings that explain the spelling (nearly) best; what blocking uses.
    likely: tuple[str, ...]
    # The single most probable key: the best-fitting reading, and among equally fitting ones
    # the English/passport reading, since most Latin-script sources are English or ICAO
    # passports ("Jarov" is Яров before French Жаров, "Basaeva" Басаева before Базаева).
    primary: str = ""
    loose: tuple[str, ...] = ()  # `loose_key` of each reading, for fuzzy comparison

    def conventions_of(self, key: str) -> tuple[str, ...]:
        return self.conventions[self.keys.index(key)]


@lru_cache(maxsize=WORD_CACHE)
def readings(token: str) -> Readings:
    """Readings of one name token (a word; hyphens and apostrophes allowed)."""
    tok = fix_homoglyphs(token.strip('.,;:()[]"')).lower()
    core = cleaned_readings(tok)
    if core.token == token:
        return core
    # The same word written otherwise (capitals, a full stop, the lower case the parser asks for too):
    # read once, only the token it was asked for differs (issue 19).
    return Readings(token, *_readings_values(core))


@lru_cache(maxsize=WORD_CACHE)
def cleaned_readings(tok: str) -> Readings:
    """The readings of a token already stripped, its homoglyphs fixed and lower-cased."""
    token = tok
    script = _script_of(tok)
    if script == CYRILLIC:
        letters = loose_key(read_cyrillic(tok))
        key = _normalised(letters)
        return Readings(token, script, (key,), (("cyr",),), (key,), key, (letters,))
    if script != LATIN:
        letters = loose_key(_fold_leftovers(tok))
        key = _normalised(letters)
        return Readings(token, script, (key,), (("other",),), (key,), key, (letters,))
    # Most conventions read a word alike: each distinct reading, with the conventions that give it
    # and the best evidence any of them finds, is folded, normalised and judged once.
    by_reading: dict[str, tuple[list[int], list[str]]] = {}
    chars = set(tok)
    pairs = set(map(add, tok, tok[1:]))
    for conv in conventions_for(tok, chars):
        raw, hits = conv.read_known(tok, chars, pairs)
        seen = by_reading.get(raw)
        if seen is None:
            by_reading[raw] = ([hits], [conv.code])
        else:
            seen[1].append(conv.code)
            if hits > seen[0][0]:
                seen[0][0] = hits
    # Readings in the order of the first convention giving each: keys and loose forms are met in
    # the order a convention-by-convention walk would meet them.
    found: dict[str, list[str]] = {}
    fit: dict[str, int] = {}
    loose: dict[str, None] = {}
    for raw, ([hits], codes) in by_reading.items():
        letters = loose_key(raw)
        key = _normalised(letters)
        if key:
            f = hits - 2 * implausibility(raw)
            had = found.get(key)
            if had is None:
                found[key] = codes
                fit[key] = f
            else:  # two readings with one key: its conventions in convention order
                found[key] = sorted(had + codes, key=_CONVENTION_ORDER.__getitem__)
                fit[key] = max(f, fit[key])
            loose[letters] = None
    # The conventions whose digraphs explain the spelling best come first.
    ordered = sorted(found.items(), key=lambda kv: (-fit[kv[0]], -len(kv[1])))
    # Within one digraph of the best: a lone "dj" or "ch" is thin evidence for a convention.
    best = max(fit.values(), default=0)
    likely = tuple(k for k, _ in ordered if fit[k] >= best - 1)
    top = [k for k, convs in ordered if fit[k] == best]
    primary = next((k for k in top if "en" in found[k]), top[0] if top else "")
    return Readings(
        token,
        script,
        tuple(k for k, _ in ordered),
        tuple(tuple(v) for _, v in ordered),
        likely,
        primary,
        tuple(loose),
    )


_readings_values = attrgetter(*(f.name for f in fields(Readings) if f.name != "token"))


def keys_of(token: str) -> tuple[str, ...]:
    return readings(token).keys


# --- coarse skeleton for blocking -------------------------------------------------------------

_SKELETON_TABLE = str.maketrans(
    {
        "C": "S", "Z": "S", "c": "S", "s": "S", "z": "S", "g": "G", "x": "G", "k": "K", "v": "V", "f": "V",
        "b": "B", "p": "P", "d": "D", "t": "T", "l": "L", "m": "M", "n": "N", "r": "R",
        "a": "", "e": "", "i": "", "o": "", "u": "",
    }
)  # fmt: skip
# т+с is ц: conventions without a "ts"/"tz" digraph (Polish, Czech, Romanian) read
# Kudriavtsev's "ts" as two letters, and Cyrillic тс is the same sound (Братский, Bratskii).
# Only where the letters touch in the key: across a vowel they are two sounds (Дычиков is
# not Счиков), and дж needs no merging (every convention reads it d+ж).
_AFFRICATE = re.compile(r"t(?=[sz])")


def sound_class(phoneme: str) -> str:
    """The skeleton class of one phoneme ("" for a vowel)."""
    return phoneme.translate(_SKELETON_TABLE)


def skeleton(key: str) -> str:
    """Consonant-class skeleton of a key: vowels dropped; sibilants, г/х and f/v merged.

    Vowels carry the gender endings (-ов/-ова) and most convention differences, so two
    spellings of one family name almost always share a skeleton.
    """
    return _RUNS.sub(FIRST_GROUP, _AFFRICATE.sub("", key).translate(_SKELETON_TABLE))


def conventions_phrase(codes: Iterable[str]) -> str:
    labels: list[str] = []
    for c in codes:
        lab = CONVENTION_LABELS.get(c, c)
        if lab not in labels:
            labels.append(lab)
    return " or ".join(labels[:2])
