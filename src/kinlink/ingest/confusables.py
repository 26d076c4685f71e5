"""Repair words that mix Latin or Greek look-alike letters into Cyrillic (and the reverse).

Channels and scraped pages often contain "Пленный Ивaнов" with a Latin "a": it defeats dictionaries,
NER and name matching. A word is repaired towards the script most of its unambiguous letters use; a word
made only of look-alikes (e.g. "ТОР") follows the document's dominant script.
"""

from __future__ import annotations

import re

# Latin/Greek letter -> the Cyrillic letter it imitates.
_TO_CYRILLIC: dict[str, str] = {
    # Latin
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М", "O": "О",
    "P": "Р", "T": "Т", "X": "Х", "Y": "У", "a": "а", "c": "с", "e": "е", "i": "і", "o": "о",
    "p": "р", "x": "х", "y": "у", "ï": "ї", "ë": "ё",
    # Greek
    "Α": "А", "Β": "В", "Ε": "Е", "Η": "Н", "Ι": "І", "Κ": "К", "Μ": "М", "Ο": "О", "Ρ": "Р",
    "Τ": "Т", "Χ": "Х", "Υ": "У", "α": "а", "ο": "о", "ρ": "р", "χ": "х", "κ": "к", "ι": "і",
}  # fmt: skip

# Cyrillic letter -> the Latin letter it imitates (for Latin words polluted with Cyrillic).
_TO_LATIN: dict[str, str] = {
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Т": "T", "Х": "X", "У": "Y", "а": "a", "с": "c", "е": "e", "і": "i", "о": "o",
    "р": "p", "х": "x", "у": "y",
}  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff" or "\u0500" <= ch <= "\u052f"


def _is_latin(ch: str) -> bool:
    return (ch.isascii() and ch.isalpha()) or "\u00c0" <= ch <= "\u024f"


def _is_greek(ch: str) -> bool:
    return "\u0370" <= ch <= "\u03ff"


def dominant_script(text: str) -> str:
    """'cyrillic' or 'latin' by letter count (ties and empty text: 'latin')."""
    cyr = sum(1 for ch in text if _is_cyrillic(ch))
    lat = sum(1 for ch in text if _is_latin(ch))
    return "cyrillic" if cyr > lat else "latin"


def _repair_word(word: str, default: str) -> str:
    """Convert a mixed-script word to the script of its unambiguous letters (ties: the document's)."""
    cyr_strong = sum(1 for ch in word if _is_cyrillic(ch) and ch not in _TO_LATIN)
    lat_strong = sum(1 for ch in word if (_is_latin(ch) or _is_greek(ch)) and ch not in _TO_CYRILLIC)
    if cyr_strong > lat_strong or (cyr_strong == lat_strong and default == "cyrillic"):
        return "".join(_TO_CYRILLIC.get(ch, ch) for ch in word)
    return "".join(_TO_LATIN.get(ch, ch) for ch in word)


def repair_confusables(text: str) -> tuple[str, int]:
    """Return the repaired text and how many words were changed."""
    default = dominant_script(text)
    changed = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal changed
        word = m.group(0)
        mixed = any(_is_cyrillic(ch) for ch in word) and any(_is_latin(ch) or _is_greek(ch) for ch in word)
        if not mixed:
            return word
        new = _repair_word(word, default)
        if new != word:
            changed += 1
        return new

    return _WORD.sub(fix, text), changed
