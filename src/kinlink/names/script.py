"""Script detection and text clean-up for person names."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "ʹ": "'", "′": "'", "‘": "'"})


def _char_script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    o = ord(ch)
    if 0x0400 <= o <= 0x052F or 0x1C80 <= o <= 0x1C8F or 0xA640 <= o <= 0xA69F:
        return CYRILLIC
    if o < 0x250 or 0x1E00 <= o <= 0x1EFF:
        return LATIN
    return OTHER


@lru_cache(maxsize=65536)
def detect_script(text: str) -> str:
    """ "Cyrillic", "Latin", "Mixed" (both appear) or "Other" (neither, or another script)."""
    seen: set[str] = set()
    for ch in text:
        s = _char_script(ch)
        if s:
            seen.add(s)
    if CYRILLIC in seen and LATIN in seen:
        return MIXED
    if seen == {CYRILLIC}:
        return CYRILLIC
    if seen == {LATIN}:
        return LATIN
    return OTHER


def clean_text(text: str) -> str:
    """NFC, one kind of apostrophe, single spaces."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=200_000)  # pure, and called for every token the matcher compares
def fix_homoglyphs(token: str) -> str:
    """Turn a token that mixes scripts into the script most of its letters are in (and make
    every apostrophe one kind: Ukrainian В'ячеслав is typed with ', ’ or ʼ)."""
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
