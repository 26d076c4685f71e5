"""Renderings of Cyrillic names as they appear in passports, libraries and the press.

Deliberately independent of kinlink.names: passport and library standards come from the
`iuliia`, `cyrtranslit` and `transliterate` packages; the national Ukrainian system and the
press conventions are hand-coded here, Cyrillic→Latin, from the published rules (Ukrainian
Cabinet of Ministers resolution 55 of 2010; Duden transcription for German; the usual French,
Polish (PWN), Romanian, Czech, Spanish and Italian press transcriptions of Russian and
Ukrainian names). kinlink.names reads Latin→phonemes with its own, separate rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import cyrtranslit
import iuliia
from transliterate import translit as _translit

VOWELS = set("аеёиоуыэюяіїєАЕЁИОУЫЭЮЯІЇЄ")
SOFT_IOTATED = {"е", "ё", "ю", "я", "є", "ї"}
HUSHERS = set("жчшщц")


def _strip_marks(s: str) -> str:
    # ALA-LC ties (i͡a) and stray combining marks are dropped the way a typist would.
    s = s.replace("\u0361", "").replace("\u0311", "").replace("ё", "ë").replace("Ё", "Ë")
    return unicodedata.normalize("NFC", s)


def _word_map(
    word: str, table: dict[str, str], ctx: Callable[[str, int, str], str | None] | None = None
) -> str:
    out: list[str] = []
    low = word.lower()
    for i, ch in enumerate(low):
        rep = ctx(low, i, ch) if ctx else None
        if rep is None:
            rep = table.get(ch, ch)
        if word[i].isupper() and rep:
            rep = rep[0].upper() + rep[1:]
        out.append(rep)
    return "".join(out)


def _initial_or_after_vowel(w: str, i: int) -> bool:
    return i == 0 or w[i - 1] in VOWELS or w[i - 1] in "ьъ'’"


# --- Ukrainian national system (2010) ------------------------------------------------------

_UA2010 = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
    # Russian letters in a Russian name written by a Ukrainian passport office:
    "ы": "y", "э": "e", "ё": "io", "ъ": "",
}  # fmt: skip


def _ua2010_ctx(w: str, i: int, ch: str) -> str | None:
    if i == 0 and ch in "єїйюя":
        return {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}[ch]
    if ch == "г" and i > 0 and w[i - 1] == "з":
        return "gh"
    return None


def ua2010(word: str) -> str:
    return _word_map(word, _UA2010, _ua2010_ctx)


# --- press conventions --------------------------------------------------------------------

_GERMAN = {
    "а": "a", "б": "b", "в": "w", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "jo", "є": "je",
    "ж": "sch", "з": "s", "и": "i", "і": "i", "ї": "ji", "й": "j", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "ch",
    "ц": "z", "ч": "tsch", "ш": "sch", "щ": "schtsch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "ju", "я": "ja", "'": "", "’": "", "ʼ": "",
}  # fmt: skip


def _german_ctx(lang: str) -> Callable[[str, int, str], str | None]:
    def ctx(w: str, i: int, ch: str) -> str | None:
        nxt = w[i + 1] if i + 1 < len(w) else "#"
        prev = w[i - 1] if i else ""
        if ch == "г" and lang == "uk":
            return "h"
        if ch == "и" and lang == "uk":
            return "y"
        if ch == "е" and lang == "ru" and _initial_or_after_vowel(w, i):
            return "je"
        if ch == "ё" and prev in HUSHERS:
            return "o"
        if ch == "с" and prev in VOWELS and nxt in VOWELS:
            return "ss"
        if ch == "й" and i == len(w) - 1 and prev in "иы":
            return ""  # Dmitrij -> Dmitri is also common; keep the -ij form via "и"
        if ch == "ь" and nxt in "еёюяи":
            return "j"
        return None

    return ctx


_FRENCH = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "io", "є": "ie",
    "ж": "j", "з": "z", "и": "i", "і": "i", "ї": "ï", "й": "ï", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "ou", "ф": "f", "х": "kh",
    "ц": "ts", "ч": "tch", "ш": "ch", "щ": "chtch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "iou", "я": "ia", "'": "", "’": "", "ʼ": "",
}  # fmt: skip


def _french_ctx(lang: str) -> Callable[[str, int, str], str | None]:
    def ctx(w: str, i: int, ch: str) -> str | None:
        nxt = w[i + 1] if i + 1 < len(w) else "#"
        prev = w[i - 1] if i else ""
        if ch == "г":
            if lang == "uk":
                return "h"
            return "gu" if nxt in "еиіэєы" else "g"
        if ch == "и" and lang == "uk":
            return "y"
        if ch == "с" and prev in VOWELS and nxt in VOWELS:
            return "ss"
        if ch == "ё" and prev in HUSHERS:
            return "e"
        if ch == "й" and prev in "иы" and i == len(w) - 1:
            return ""
        if ch == "й" and prev not in VOWELS:
            return "i"
        if ch == "е" and _initial_or_after_vowel(w, i) and lang == "ru":
            return "ie"
        return None

    return ctx


def french(word: str, lang: str) -> str:
    out = _word_map(word, _FRENCH, _french_ctx(lang))
    # Poutine, Raspoutine, Lénine: a final -ин takes a mute e.
    if lang == "ru" and out.lower().endswith("in") and word.lower().endswith("ин"):
        out += "e"
    return out


_POLISH = {
    "а": "a", "б": "b", "в": "w", "г": "g", "ґ": "g", "д": "d", "е": "ie", "ё": "io", "є": "je",
    "ж": "ż", "з": "z", "и": "i", "і": "i", "ї": "ji", "й": "j", "к": "k", "л": "ł", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "ch",
    "ц": "c", "ч": "cz", "ш": "sz", "щ": "szcz", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia", "'": "", "’": "", "ʼ": "",
}  # fmt: skip


def _polish_ctx(lang: str) -> Callable[[str, int, str], str | None]:
    def ctx(w: str, i: int, ch: str) -> str | None:
        nxt = w[i + 1] if i + 1 < len(w) else "#"
        prev = w[i - 1] if i else ""
        if ch == "г" and lang == "uk":
            return "h"
        if ch == "и" and lang == "uk":
            return "y"
        if ch == "л":
            return "l" if nxt in "иіеёюяьєї" else "ł"
        if ch in "еёюя" and (_initial_or_after_vowel(w, i) or prev in "ьъ"):
            return {"е": "je", "ё": "jo", "ю": "ju", "я": "ja"}[ch]
        if ch == "е" and (prev in HUSHERS or prev == "л" or lang == "uk"):
            return "e"
        if ch == "ё" and prev in HUSHERS:
            return "o"
        if ch == "и" and prev in HUSHERS:
            return "y"
        if ch == "й" and prev in "иы" and i == len(w) - 1 and lang == "ru":
            return ""
        return None

    return ctx


_ROMANIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "io", "є": "ie",
    "ж": "j", "з": "z", "и": "i", "і": "i", "ї": "ii", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h",
    "ц": "ț", "ч": "ci", "ш": "ș", "щ": "șci", "ъ": "", "ы": "î", "ь": "", "э": "e", "ю": "iu",
    "я": "ia", "'": "", "’": "", "ʼ": "",
}  # fmt: skip


def _romanian_ctx(lang: str) -> Callable[[str, int, str], str | None]:
    def ctx(w: str, i: int, ch: str) -> str | None:
        nxt = w[i + 1] if i + 1 < len(w) else "#"
        if ch == "г":
            if lang == "uk":
                return "h"
            return "gh" if nxt in "еиіэє" else "g"
        if ch == "ё" and w[i - 1 : i] in ("ч", "ш", "щ", "ж"):
            return "o"
        if ch == "ч":
            return "c" if nxt in "еиіэє" else "ci"
        if ch == "щ":
            return "șc" if nxt in "еиіэє" else "șci"
        if ch == "к" and nxt in "еиі":
            return "k"
        if ch == "й" and i == len(w) - 1:
            return "i"
        return None

    return ctx


_CZECH = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "jo", "є": "je",
    "ж": "ž", "з": "z", "и": "i", "і": "i", "ї": "ji", "й": "j", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "ch",
    "ц": "c", "ч": "č", "ш": "š", "щ": "šč", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "ju",
    "я": "ja", "'": "", "’": "", "ʼ": "",
}  # fmt: skip


def _czech_ctx(lang: str) -> Callable[[str, int, str], str | None]:
    def ctx(w: str, i: int, ch: str) -> str | None:
        prev = w[i - 1] if i else ""
        if ch == "г" and lang == "uk":
            return "h"
        if ch == "и" and lang == "uk":
            return "y"
        if ch == "е" and _initial_or_after_vowel(w, i) and lang == "ru":
            return "je"
        if ch == "ё" and prev in HUSHERS:
            return "o"
        return None

    return ctx


_SPANISH = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "io", "є": "ie",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "j",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
}  # fmt: skip


def _spanish_ctx(lang: str) -> Callable[[str, int, str], str | None]:
    def ctx(w: str, i: int, ch: str) -> str | None:
        nxt = w[i + 1] if i + 1 < len(w) else "#"
        prev = w[i - 1] if i else ""
        if ch == "г":
            if lang == "uk":
                return "h"
            return "gu" if nxt in "еиіэє" else "g"
        if ch == "ё" and prev in HUSHERS:
            return "o"
        if ch == "й" and i == len(w) - 1 and prev in "иы":
            return ""
        return None

    return ctx


_ITALIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "io", "є": "ie",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "j", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "ch",
    "ц": "z", "ч": "c", "ш": "sc", "щ": "sc", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "ju",
    "я": "ja", "'": "", "’": "", "ʼ": "",
}  # fmt: skip


def _italian_ctx(lang: str) -> Callable[[str, int, str], str | None]:
    def ctx(w: str, i: int, ch: str) -> str | None:
        nxt = w[i + 1] if i + 1 < len(w) else "#"
        prev = w[i - 1] if i else ""
        if ch == "г":
            if lang == "uk":
                return "h"
            return "gh" if nxt in "еиіэє" else "g"
        if ch in "чшщ":
            base = {"ч": "c", "ш": "sc", "щ": "sc"}[ch]
            if nxt == "#":
                # A final ч is a bare c in the Italian press (Vladimir Vladimirovic Putin,
                # Dmitrij Sciostakovic); "-ovici" is Romanian.
                return base if ch == "ч" else base + "i"
            return base if nxt in "еиіэє" else base + "i"
        if ch == "ё" and prev in HUSHERS:
            return "o"
        if ch == "й" and i == len(w) - 1 and prev in "иы":
            return ""
        return None

    return ctx


def _press(table: dict[str, str], ctx_factory: Callable[[str], Callable[[str, int, str], str | None]]):
    def render(word: str, lang: str) -> str:
        return _word_map(word, table, ctx_factory(lang))

    return render


german = _press(_GERMAN, _german_ctx)
polish = _press(_POLISH, _polish_ctx)
romanian = _press(_ROMANIAN, _romanian_ctx)
czech = _press(_CZECH, _czech_ctx)
spanish = _press(_SPANISH, _spanish_ctx)
italian = _press(_ITALIAN, _italian_ctx)


# --- the catalogue --------------------------------------------------------------------------


# name -> (function(word, lang) -> Latin word, languages it applies to)
def _iuliia(schema: iuliia.Schema) -> Callable[[str, str], str]:
    return lambda w, lang: _strip_marks(schema.translate(w))


def _cyrtranslit(w: str, lang: str) -> str:
    out = cyrtranslit.to_latin(w, "ua" if lang == "uk" else "ru")
    return out[:1] + out[1:].lower() if w[:1].isupper() else out


def _transliterate(w: str, lang: str) -> str:
    return _strip_marks(_translit(w, "uk" if lang == "uk" else "ru", reversed=True))


SCHEMES: dict[str, tuple[Callable[[str, str], str], frozenset[str]]] = {
    "ICAO 9303 (iuliia)": (_iuliia(iuliia.ICAO_DOC_9303), frozenset({"ru"})),
    "BGN/PCGN (iuliia)": (_iuliia(iuliia.BGN_PCGN), frozenset({"ru"})),
    "GOST 7.79/ISO 9 (iuliia)": (_iuliia(iuliia.GOST_779), frozenset({"ru"})),
    "scholarly (iuliia)": (_iuliia(iuliia.SCIENTIFIC), frozenset({"ru"})),
    "Wikipedia (iuliia)": (_iuliia(iuliia.WIKIPEDIA), frozenset({"ru"})),
    "ALA-LC (iuliia)": (_iuliia(iuliia.ALA_LC), frozenset({"ru"})),
    "MVD 310 French (iuliia)": (_iuliia(iuliia.MVD_310_FR), frozenset({"ru"})),
    "cyrtranslit (GOST 7.79 B / ua)": (_cyrtranslit, frozenset({"ru", "uk"})),
    "transliterate": (_transliterate, frozenset({"ru", "uk"})),
    "Ukrainian 2010": (lambda w, lang: ua2010(w), frozenset({"uk"})),
    "press German": (german, frozenset({"ru", "uk"})),
    "press French": (french, frozenset({"ru", "uk"})),
    "press Polish": (polish, frozenset({"ru", "uk"})),
    "press Romanian": (romanian, frozenset({"ru", "uk"})),
    "press Czech": (czech, frozenset({"ru", "uk"})),
    "press Spanish": (spanish, frozenset({"ru", "uk"})),
    "press Italian": (italian, frozenset({"ru", "uk"})),
}


def render(scheme: str, words: list[str], lang: str) -> list[str]:
    fn, _ = SCHEMES[scheme]
    return [fn(w, lang) for w in words]


def ascii_fold(s: str) -> str:
    """What an English-keyboard typist makes of diacritics (Kalașnikov -> Kalasnikov)."""
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)).replace(
        "ł", "l"
    )
