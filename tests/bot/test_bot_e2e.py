"""End to end through the Telegram Bot API emulator: the real `kinlink bot` process polls it, a family files
a request in Russian in the chat, a caseworker verifies them and confirms the match in the web application
(real server, real HTTP), the family is told in the chat and reads what the person consented to share; a
second user reads nothing of it. And `kinlink serve` takes the bot's updates by webhook only with
Telegram's secret header."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.bot import texts
from kinlink.bot.conversation import AGREE, SKIP_BUTTON
from kinlink.bot.settings import BotSettings
from kinlink.http.settings import Settings
from kinlink.server.run import BackgroundServer
from kinlink.server.telegram import SECRET_HEADER, WEBHOOK_PATH
from kinlink.store.casework_models import Message
from kinlink.store.chat_models import ChatLink
from kinlink.store.db import unit_of_work
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.mail import MailSettings
from tests.bot.harness import Chat, emulator, new_token
from tests.support import add_record
from tests.web.helpers import Client

RU = texts.gettext("ru")
REFERENCE = re.compile(r"TR-[A-Z0-9]{4}-[A-Z0-9]{4}")
SECRET = re.compile(r"(?:[A-Z0-9]{4}-){4}[A-Z0-9]{4}")


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with emulator() as url:
        yield url


@pytest.fixture
def bot_process(api: str, db_url: str) -> Iterator[str]:
    """The real `kinlink bot`, polling the emulator (waited for until it polls); its token."""
    token = new_token()
    env = {
        **os.environ,
        "KINLINK_BOT_TOKEN": token,
        "KINLINK_BOT_API_SERVER": api,
        "KINLINK_BOT_NOTICE_SECONDS": "0.3",
        "KINLINK_SMTP_HOST": "",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "kinlink", "--db", db_url, "bot"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []
    polling = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            if "Run polling" in line:
                polling.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # Starting takes a while on a busy machine (the matching model, the name tables).
        assert polling.wait(180) or proc.poll() is not None, "kinlink bot did not start"
        assert proc.poll() is None, "".join(log)
        yield token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    # Nothing a family wrote reaches the bot's log.
    err = "".join(log)
    assert "Run polling" in err
    for private in ("Петренко", "Марія", "ждём"):
        assert private not in err


def _answer(chat: Chat, text: str) -> str:
    chat.say(text)
    return chat.reply()


def test_a_family_files_in_russian_is_told_in_the_chat_and_a_stranger_reads_nothing(
    engine: Engine, api: str, bot_process: str, server: BackgroundServer, staff
) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as s:
        add_record(
            s,
            "test",
            {
                "full_name": "Петренко Иван Сергеевич",
                "birth_date": "1990-03-04",
                "sex": "m",
                "status": "captured",
                "location": "Таганрог, СИЗО-2",
                "consent_inform_family": True,
                "consent_share_location": True,
            },
        )
    family = Chat(api, bot_process, "ru")
    stranger = Chat(api, bot_process, "en")
    family.say("/start")
    assert RU("/new: file a tracing request") in family.reply()
    family.say("/new")
    _intro, first = family.replies(2)
    assert RU("Full name") in first
    assert RU("Other spellings of the name") in _answer(family, "Петренко Иван Сергеевич")
    assert RU("Sex") in _answer(family, "-")
    assert RU("Date of birth") in _answer(family, RU("male"))
    # The web form's check of a date, in the family's language, and the question asked again.
    family.say("199x")
    problem, again = family.replies(2)
    assert problem.startswith("⚠ " + RU("Date of birth")) and RU("Date of birth") in again
    assert RU("Place of birth") in _answer(family, "1990")
    for answer in ("-", "-", "-", "-", "-", "2022-04", "-"):  # place, rank, unit, number, where, when, more
        reply = _answer(family, answer)
    assert RU("Your name") in reply
    assert RU("Your relationship to the person") in _answer(family, "Петренко Марія")
    assert RU("Your email address or phone number") in _answer(family, "мать")
    summary = _answer(family, RU(SKIP_BUTTON))
    assert "Петренко Иван Сергеевич" in summary and RU("Please check your request:") in summary
    filed = _answer(family, RU(AGREE))
    reference = REFERENCE.search(filed).group(0)  # type: ignore[union-attr]
    assert SECRET.search(filed) and RU("Your request has been filed.") in filed

    # Before the enquirer is verified: being handled, and nothing of the candidate matching found.
    status = _answer(family, "/status")
    assert RU("Your request is being handled. We will tell you when there is news.") in status
    assert "Таганрог" not in status and "СИЗО" not in status

    with Session(engine) as s:
        req = s.scalar(select(TracingRequest).where(TracingRequest.reference == reference))
        assert (
            req is not None and req.enquirer_language == "ru" and req.full_name == "Петренко Иван Сергеевич"
        )
        cand = s.scalar(select(MatchCandidate).where(MatchCandidate.request_id == req.id))
        assert cand is not None
        rid, cid, version = req.id, cand.id, cand.version
        assert [link.chat_id for link in s.scalars(select(ChatLink))] == [family.id]

    # The caseworker, in the web application: verifies the enquirer, confirms the match.
    web = Client(server.url)
    web.sign_in(*staff["caseworker"])
    r = web.form(f"/cases/{rid}/verification", {"method": "call_back", "relationship": "мать"})
    assert r.status_code == 303, r.text
    r = web.form(
        f"/candidates/{cid}/decision",
        {"decision": "confirmed", "reason": "дата рождения", "version": version, "step": "confirm"},
    )
    assert r.status_code == 303, r.text

    news = family.reply()
    assert news == RU(texts.NEWS, reference=reference)
    status = _answer(family, "/status")
    assert RU("The person you are looking for has been found. They are alive and held.") in status
    assert "Таганрог, СИЗО-2" in status  # consented: the location
    assert RU("Health") not in status  # not consented

    # A stranger's chat follows nothing, and the reference without its secret opens nothing.
    assert _answer(stranger, "/status") == texts.gettext("en")(
        "This chat follows no request. Send /new to file one, or /track with your reference and secret."
    )
    wrong = _answer(stranger, f"/track {reference} AAAA-BBBB-CCCC-DDDD-EEEE")
    assert wrong == "The reference or the secret is wrong."
    assert "Таганрог" not in _answer(stranger, "/status")

    # Photos and files are refused; a message goes to review; /forget lets go of the chat.
    family.send_photo()
    assert family.reply() == RU(
        "Photos and files are not accepted here. If a caseworker needs a document, they will tell you "
        "how to give it to them safely."
    )
    asked = _answer(family, "/message")
    assert asked == RU("Write your message. A caseworker reads it before it is delivered.")
    assert _answer(family, "Мы ждём тебя дома") == RU("Your message has been sent for review.")
    # The caseworker approves it and hands it over: the chat is told.
    with Session(engine) as s:
        msg = s.scalar(select(Message).where(Message.request_id == rid))
        assert msg is not None and msg.state == "submitted"
        mid, mversion = msg.id, msg.version
    r = web.form(f"/messages/{mid}/review", {"action": "approve", "note": "", "version": mversion})
    assert r.status_code == 303, r.text
    assert web.form(f"/messages/{mid}/delivered").status_code == 303
    web.close()
    assert family.reply() == RU(texts.NOTICES["message_delivered"], reference=reference)
    family.say("/forget")
    family.reply()
    with Session(engine) as s:
        assert s.scalars(select(ChatLink)).all() == []
    assert "Таганрог" not in _answer(family, "/status")
    family.close()
    stranger.close()


def test_serve_takes_the_bots_updates_by_webhook_only_with_telegrams_secret(engine: Engine, api: str) -> None:
    token = new_token()
    bot = BotSettings(
        token=token, api_server=api, webhook_url="http://127.0.0.1:1", webhook_secret="s3cret-token"
    )
    settings = Settings(secret_key="test", mail=MailSettings(host=None), bot=bot)
    chat = Chat(api, token, "uk")
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat.id, "type": "private"},
            "from": {"id": chat.id, "is_bot": False, "first_name": "Test", "language_code": "uk"},
            "text": "/start",
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    }
    with BackgroundServer(engine, settings) as srv, httpx.Client(base_url=srv.url) as http:
        assert http.post(WEBHOOK_PATH, json=update).status_code == 403
        wrong = {SECRET_HEADER: "guess"}
        assert http.post(WEBHOOK_PATH, json=update, headers=wrong).status_code == 403
        assert chat.http.post("/getUpdates", json={"token": token, "chatId": chat.id}).json()["result"] == []
        right = {SECRET_HEADER: "s3cret-token"}
        assert http.post(WEBHOOK_PATH, json=update, headers=right).status_code == 200
        assert texts.gettext("uk")("/new: file a tracing request") in chat.reply()
    chat.close()
