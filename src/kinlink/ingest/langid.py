"""Language identification for ro/ru/uk/en with py3langid's model (shipped inside the package).

The statistical model alone confuses Russian and Ukrainian on short Telegram captions, so letters that
only one of the two uses (і ї є ґ / ы э ё) and frequent function words add evidence. A text whose best
language is none of the four (German, Polish, Bulgarian...) is reported as unknown: rules for other
languages would produce garbage sightings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SUPPORTED = ("ro", "ru", "uk", "en")

_UK_LETTERS = set("іїєґІЇЄҐ")
_RU_LETTERS = set("ыэёЫЭЁ")
_FOREIGN_CYRILLIC = set("ўЎђЂјЈљЉњЊћЋџЏѓЃќЌѕЅ")  # Belarusian, Serbian, Macedonian
_RO_LETTERS = set("ăâîșțşţĂÂÎȘȚŞŢ")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

_STOPWORDS = {
    "uk": {"і", "та", "що", "як", "від", "його", "її", "був", "була", "було", "року", "під", "це", "на",
           "також", "який", "яка", "які", "він", "вона", "вони", "не", "до", "з", "із", "зі", "у"},
    "ru": {"и", "что", "как", "от", "его", "её", "ее", "был", "была", "было", "года", "под", "это",
           "также", "который", "которая", "он", "она", "они", "не", "до", "из", "в", "с", "со"},
    "en": {"the", "and", "of", "to", "in", "was", "were", "is", "are", "a", "an", "his", "her", "he",
           "she", "that", "with", "by", "from", "on", "for", "has", "had", "been", "said"},
    "ro": {"și", "şi", "de", "la", "în", "din", "cu", "pe", "că", "a", "au", "fost", "este", "un", "o",
           "care", "nu", "sa", "său", "lui", "ale", "al", "cel", "după", "pentru"},
}  # fmt: skip


# Stems of the words our reports are about, which differ between the two languages.
_UK_STEMS = ("полон", "загин", "загибл", "безвіст", "зник", "поранен", "військов", "року")
_RU_STEMS = ("плен", "погиб", "безвест", "пропал", "ранен", "военн", "года")
# "1999 г.р." / "1999 р.н.": the word pattern splits them at the dots, so they are counted on the text.
_UK_BIRTH = re.compile(r"(?<!\w)р\.\s?н\.")
_RU_BIRTH = re.compile(r"(?<!\w)г\.\s?р\.")
# Words Bulgarian uses and Russian and Ukrainian do not: with none of them, a short Cyrillic post full of
# our report words is Russian or Ukrainian even when the model leans to Bulgarian.
_BG_WORDS = {"беше", "бяха", "са", "съм", "със", "във", "към", "които", "което", "която", "този", "тази",
             "това", "тези", "бил", "била", "били", "край", "днес", "сутринта", "между", "обаче"}  # fmt: skip


@dataclass(frozen=True)
class LanguageGuess:
    language: str | None  # one of SUPPORTED, or None when unknown
    confidence: float
    detail: str  # why: the model's own top guess when it is not supported, or the cue used


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _restricted_probs(text: str) -> dict[str, float]:
    ident = _identifier()
    ranked = dict(ident.rank(text))
    probs = {lang: ranked.get(lang, 0.0) for lang in SUPPORTED}
    total = sum(probs.values()) or 1.0
    return {lang: p / total for lang, p in probs.items()}


def identify_language(text: str) -> LanguageGuess:
    words = _WORD.findall(text)
    letters = sum(len(w) for w in words)
    if letters < 8:
        return LanguageGuess(None, 0.0, "too little text to identify the language")
    cyr = sum(1 for ch in text if "\u0400" <= ch <= "\u04ff")
    top, top_p = _identifier().classify(text)
    lowered = [w.lower() for w in words]
    if cyr > letters * 0.5:
        if any(ch in _FOREIGN_CYRILLIC for ch in text) and top not in SUPPORTED:
            return LanguageGuess(None, float(top_p), f"language identified as '{top}', not ro/ru/uk/en")
        uk = sum(1 for ch in text if ch in _UK_LETTERS) + sum(1 for w in lowered if w in _STOPWORDS["uk"])
        ru = sum(1 for ch in text if ch in _RU_LETTERS) + sum(1 for w in lowered if w in _STOPWORDS["ru"])
        has_uk = any(ch in _UK_LETTERS for ch in text)
        has_ru = any(ch in _RU_LETTERS for ch in text)
        uk_stems = sum(1 for w in lowered if w.startswith(_UK_STEMS)) + len(_UK_BIRTH.findall(text))
        ru_stems = sum(1 for w in lowered if w.startswith(_RU_STEMS)) + len(_RU_BIRTH.findall(text))
        uk += 2 * uk_stems
        ru += 2 * ru_stems
        ranked = dict(_identifier().rank(text))
        ours = uk_stems + ru_stems > 0 and not any(w in _BG_WORDS for w in lowered)
        if (
            not has_uk
            and not has_ru
            and not ours
            and top not in ("ru", "uk")
            and top_p > ranked.get("ru", 0.0) + ranked.get("uk", 0.0)
        ):
            return LanguageGuess(None, float(top_p), f"language identified as '{top}', not ro/ru/uk/en")
        probs = _restricted_probs(text)
        # Letters only one of the two languages has are decisive; the model and stopwords break ties.
        score_uk = probs["uk"] * 2 + uk * 0.5 + (3 if has_uk and not has_ru else 0)
        score_ru = probs["ru"] * 2 + ru * 0.5 + (3 if has_ru and not has_uk else 0)
        lang = "uk" if score_uk > score_ru else "ru"
        conf = max(score_uk, score_ru) / ((score_uk + score_ru) or 1.0)
        return LanguageGuess(lang, round(conf, 3), "cyrillic letters, words and model")
    if top in ("ro", "en") and top_p > 0.5:
        return LanguageGuess(top, float(top_p), "model")
    ro_letters = sum(1 for ch in text if ch in _RO_LETTERS)
    ro_words = sum(1 for w in lowered if w in _STOPWORDS["ro"])
    en_words = sum(1 for w in lowered if w in _STOPWORDS["en"])
    if ro_letters >= 2 and ro_words >= en_words:
        return LanguageGuess("ro", 0.6, "romanian letters and words")
    if en_words >= max(2, len(words) * 0.12):
        return LanguageGuess("en", 0.6, "english function words")
    if top in SUPPORTED:
        return LanguageGuess(top, float(top_p), "model (low confidence)")
    return LanguageGuess(None, float(top_p), f"language identified as '{top}', not ro/ru/uk/en")
