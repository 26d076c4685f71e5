"""A language's `_` (kinlink.i18n.gettext_for, its lookups kept) gives what its catalog gives, every time."""

from __future__ import annotations

from babel.messages.pofile import read_po

from kinlink.i18n import LANGUAGES, TRANSLATIONS, gettext_for, translations


def test_every_text_as_the_catalog_says_at_every_call() -> None:
    for lang in LANGUAGES:
        with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            ids = [m.id for m in read_po(f) if m.id and isinstance(m.id, str)]
        assert len(ids) > 500
        _ = gettext_for(lang)
        for _round in range(2):
            for text in [*ids, "not a message of the catalog", "%(n)s not either"]:
                assert _(text) == translations(lang).gettext(text), (lang, text)
        assert _("%(n)s not either", n=3) == "3 not either"
        assert gettext_for(lang) is _
    assert gettext_for("ru")("Account") != gettext_for("en")("Account")
