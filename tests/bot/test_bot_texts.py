"""Every text the bot says is in the catalogs, translated into Romanian, Russian and Ukrainian; a chat's
language is the Telegram client's unless switched."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from kinlink.bot import texts
from kinlink.i18n import TRANSLATIONS

BOT = Path(texts.__file__).parent
KEYWORDS = {"_": None, "message_id": None}


def _ids() -> set[str]:
    out = set()
    for source in BOT.glob("*.py"):
        for _line, message, _comments, _context in extract_from_file("python", str(source), KEYWORDS):
            out.add(message if isinstance(message, str) else message[0])
    return out


@pytest.mark.parametrize("lang", ["ro", "ru", "uk"])
def test_every_text_of_the_bot_is_translated(lang: str) -> None:
    ids = _ids()
    assert len(ids) > 50
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    missing = sorted(i for i in ids if not (catalog.get(i) and catalog.get(i).string))
    assert missing == []


def test_a_chat_reads_in_its_clients_language() -> None:
    assert [texts.language_of(c) for c in ("ru", "uk", "ro", "en-US", "de", None)] == [
        "ru",
        "uk",
        "ro",
        "en",
        "en",
        "en",
    ]
    assert texts.gettext("uk")("Your request has been filed.") == "Ваш запит подано."
