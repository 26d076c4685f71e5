"""Languages: Babel catalogs under translations/, chosen from the switch's cookie or Accept-Language.

Every door renders in these (the web pages, the emails; the domain's refusals are their English msgids).
The .po files are the source of the translations; after changing texts, from src/kinlink:
    pybabel extract -F i18n/babel.cfg -k problem:2 -k refuse:3 -k _refused:1 -k _bad:1 -k message_id \
        -k say:1 -k _conv:2 --no-location --sort-output -w 110 -o /tmp/messages.pot .
(`say` and `message_id` mark the messages of kinlink.messages, `_conv` the transliteration conventions'
names; the matching model's labels and level texts come from model.json through i18n/extract.py.)
    pybabel update -i /tmp/messages.pot -d i18n/translations --ignore-obsolete --no-fuzzy-matching -w 110
    (translate the new entries in ro, ru, uk and en), then: pybabel compile -d i18n/translations
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = {"en": "English", "ro": "Română", "ru": "Русский", "uk": "Українська"}
DEFAULT = "en"
TRANSLATIONS = Path(__file__).with_name("translations")


@cache
def translations(lang: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [lang], domain="messages")


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    """The language to use: the switch's choice, else the best of Accept-Language, else English."""
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    best: tuple[float, int, str] | None = None
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGUAGES and q > 0 and (best is None or (q, -n) > (best[0], best[1])):
            best = (q, -n, lang)
    return best[2] if best else DEFAULT


@cache
def gettext_for(lang: str) -> Callable[..., str]:
    """`_("text %(x)s", x=1)`: translated, then filled in."""
    # A page looks up a few dozen texts, the same at every reload (a status page 22): the catalog's answers
    # kept, at most as many as a catalog holds and more (gettext looks a missing text up twice, then in the
    # fallback), issue 19.
    lookup = lru_cache(maxsize=4096)(translations(lang).gettext)

    def _(message: str, **values: object) -> str:
        text = lookup(message)
        return text % values if values else text

    return _
