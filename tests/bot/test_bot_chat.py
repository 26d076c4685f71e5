"""The chat's own behaviour through the emulator: the language switch, the per-chat limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from kinlink.accounts.throttle import Quotas, RateLimiter
from kinlink.bot import texts
from kinlink.bot.context import BotContext
from kinlink.bot.settings import BotSettings
from kinlink.tracing.mail import MailSettings
from tests.bot.harness import BotThread, Chat, emulator, new_token
from tests.support import MATCHING


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with emulator() as url:
        yield url


@pytest.fixture
def token(api: str, engine: Engine) -> Iterator[str]:
    token = new_token()
    settings = BotSettings(token=token, api_server=api, messages_per_chat=6)
    limiter = RateLimiter(engine, "test", Quotas())
    with BotThread(BotContext(engine, limiter, MATCHING, MailSettings(host=None), settings)):
        yield token


def test_the_chat_reads_in_the_clients_language_until_switched(api: str, token: str) -> None:
    chat = Chat(api, token, "ro")
    chat.say("/start")
    assert texts.gettext("ro")("/new: file a tracing request") in chat.reply()
    chat.say("/language Українська")
    assert chat.reply() == "Тепер я писатиму українською."
    chat.say("/status")
    assert chat.reply() == texts.gettext("uk")(
        "This chat follows no request. Send /new to file one, or /track with your reference and secret."
    )
    chat.close()


def test_a_chat_past_its_limit_is_told_to_wait_and_others_are_not(api: str, token: str) -> None:
    chat, other = Chat(api, token, "en"), Chat(api, token, "en")
    for _ in range(6):
        chat.say("/status")
        assert chat.reply().startswith("This chat follows no request.")
    chat.say("/status")
    assert chat.reply() == "Too many attempts. Please try again in 60 minutes."
    other.say("/status")
    assert other.reply().startswith("This chat follows no request.")
    chat.close()
    other.close()
