"""Script detection and text clean-up for person names."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from kinlink.names.caching import WORD_CACHE

CYRILLIC = "Cyrillic"
LATIN = "Latin"
MIXED = "Mixed"
OTHER = "Other"

# Latin letters that look like Cyrillic ones: a Cyrillic word with one of these typed in is
# a typing/OCR slip, not a change of script.
_LATIN_TO_CYRILLIC_HOMOGLYPHS = str.maketrans("aceopxyiABCEHKMOPTXYI", "асеорхуіАВСЕНКМОРТХУІ")
_CYRILLIC_TO_LATIN_HOMOGLYPHS = str.maketrans("асеорхуіАВСЕНКМОРТХУІ", "aceopxyiABCEHKMOPTXYI")

# Every letter _char_script calls Latin (and a few non-letters, which only send a token the slow way).
_LATIN_LETTER = re.compile(r"[A-Za-z\u00aa\u00b5\u00ba\u00c0-\u024f\u1e00-\u1eff]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_ANY_APOSTROPHE = re.compile("[’ʼ`´ʹ′‘]")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "ʹ": "'", "′": "'", "‘": "'"})


@lru_cache(maxsize=8192)  # per character: names draw on a few hundred
def _char_script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    o = ord(ch)
    if 0x0400 <= o <= 0x052F or 0x1C80 <= o <= 0x1C8F or 0xA640 <= o <= 0xA69F:
        return CYRILLIC
    if o < 0x250 or 0x1E00 <= o <= 0x1EFF:
        return LATIN
    return OTHER


def _letters(ranges: tuple[tuple[int, int], ...]) -> str:
    """A regex class of the letters (isalpha) in these code point ranges."""
    chars = "".join(chr(o) for lo, hi in ranges for o in range(lo, hi + 1) if chr(o).isalpha())
    return re.escape(chars)


_CYRILLIC_LETTERS = _letters(((0x0400, 0x052F), (0x1C80, 0x1C8F), (0xA640, 0xA69F)))
_LATIN_LETTERS = _letters(((0, 0x24F), (0x1E00, 0x1EFF)))
# What _char_script says, a regex scan a script instead of a Python step a character: word characters
# outside both sets are digits, "_" or letters of another script (told apart by isalpha).
_HAS_CYRILLIC = re.compile(f"[{_CYRILLIC_LETTERS}]")
_HAS_LATIN = re.compile(f"[{_LATIN_LETTERS}]")
_OTHER_WORD = re.compile(f"[^\\W{_CYRILLIC_LETTERS}{_LATIN_LETTERS}]")


@lru_cache(maxsize=65536)
def detect_script(text: str) -> str:
    """ "Cyrillic", "Latin", "Mixed" (both appear) or "Other" (neither, or another script)."""
    if text.isascii():  # the usual Latin case
        return LATIN if _ASCII_LETTER.search(text) else OTHER
    cyrillic = _HAS_CYRILLIC.search(text) is not None
    latin = _HAS_LATIN.search(text) is not None
    if cyrillic and latin:
        return MIXED
    if cyrillic != latin and not any(c.isalpha() for c in _OTHER_WORD.findall(text)):
        return CYRILLIC if cyrillic else LATIN
    return OTHER


# detect_script's three facts, one bit each, or-ed over a text's words: Cyrillic (1), Latin (2) and letters
# of another script (4) seen; SCRIPT_OF_FLAGS[facts] is its answer for the whole text.
SCRIPT_OF_FLAGS = (OTHER, CYRILLIC, LATIN, MIXED, OTHER, OTHER, OTHER, MIXED)


def script_flags(word: str) -> int:
    """detect_script's facts of one word (see SCRIPT_OF_FLAGS): a name's words repeat, its text seldom
    does, so its script is told from facts cached a word (issue 19)."""
    if word.isascii():
        return 2 if _ASCII_LETTER.search(word) else 0
    return (
        (1 if _HAS_CYRILLIC.search(word) else 0)
        | (2 if _HAS_LATIN.search(word) else 0)
        | (4 if any(c.isalpha() for c in _OTHER_WORD.findall(word)) else 0)
    )


def clean_text(text: str) -> str:
    """NFC, one kind of apostrophe, single spaces."""
    text = unicodedata.normalize("NFC", text)
    if _ANY_APOSTROPHE.search(text):  # rare: translate walks the text a dict look-up a character
        text = text.translate(_APOSTROPHES)
    # split() and \s agree on what is a space; split and join cost a third of the regex's substitution.
    return " ".join(text.split())


@lru_cache(maxsize=WORD_CACHE)  # pure, and called for every token the matcher compares
def fix_homoglyphs(token: str) -> str:
    """Turn a token that mixes scripts into the script most of its letters are in (and make
    every apostrophe one kind: Ukrainian В'ячеслав is typed with ', ’ or ʼ)."""
    if _ANY_APOSTROPHE.search(token):  # rare: translate walks a token a dict look-up a character
        token = token.translate(_APOSTROPHES)
    if token.isascii() or not _LATIN_LETTER.search(token):
        return token  # one script only (the usual case): nothing to turn
    cyr = sum(1 for c in token if _char_script(c) == CYRILLIC)
    lat = sum(1 for c in token if _char_script(c) == LATIN)
    if cyr and lat:
        if cyr >= lat:
            return token.translate(_LATIN_TO_CYRILLIC_HOMOGLYPHS)
        return token.translate(_CYRILLIC_TO_LATIN_HOMOGLYPHS)
    return token


def token_script(token: str) -> str:
    return detect_script(fix_homoglyphs(token))


def fold_accents(text: str) -> str:
    """Drop combining marks (for display keys, not for reading: ș and č carry meaning)."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
