"""The Telegram Bot API emulator (telegram-test-api, from npm, run by node on loopback), a family's chat
driven through its client API, and the bot run in a thread of the test (the end-to-end test runs the real
`kinlink bot` process instead)."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from kinlink.bot.app import deliver_notices_forever, make_bot, make_dispatcher
from kinlink.bot.context import BotContext
from kinlink.server.run import free_port

HERE = Path(__file__).parent
_ids = itertools.count(1)


def node_ready() -> None:
    """The emulator is installed by `make tests/bot/node_modules` (.ci/run does it)."""
    if shutil.which("node") is None or not (HERE / "node_modules" / "telegram-test-api").is_dir():
        raise RuntimeError("the Bot API emulator is missing: run `make tests/bot/node_modules`")


@contextmanager
def emulator() -> Iterator[str]:
    """The emulator's address, while it runs."""
    node_ready()
    port = free_port()
    proc = subprocess.Popen(
        ["node", str(HERE / "emulator.js"), str(port)],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the Bot API emulator did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def new_token() -> str:
    """A token of Telegram's form, new for each bot (the emulator keeps updates per token)."""
    return f"{next(_ids)}{os.getpid()}:kinlink-test"


class Chat:
    """One Telegram user in a private chat with the bot, as the emulator's client API makes them."""

    def __init__(self, api: str, token: str, language: str = "ru") -> None:
        self.api, self.token = api, token
        self.id = 10_000 + next(_ids)
        self.language = language
        self.http = httpx.Client(base_url=api, timeout=10)
        self.inbox: list[dict[str, Any]] = []

    def _message(self, text: str | None, **extra: Any) -> dict[str, Any]:
        user = {"id": self.id, "is_bot": False, "first_name": "Test", "language_code": self.language}
        body: dict[str, Any] = {
            "botToken": self.token,
            "date": int(time.time()),
            "from": user,
            "chat": {"id": self.id, "type": "private", "first_name": "Test"},
            **extra,
        }
        if text is not None:
            body["text"] = text
        return body

    def say(self, text: str) -> None:
        if text.startswith("/"):
            command = text.split(" ", 1)[0]
            entities = [{"offset": 0, "length": len(command), "type": "bot_command"}]
            r = self.http.post("/sendCommand", json=self._message(text, entities=entities))
        else:
            r = self.http.post("/sendMessage", json=self._message(text))
        r.raise_for_status()

    def send_photo(self) -> None:
        photo = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}]
        self.http.post("/sendMessage", json=self._message(None, photo=photo)).raise_for_status()

    def replies(self, n: int = 1, timeout: float = 60) -> list[str]:
        """The bot's next n messages in this chat (waiting for them)."""
        deadline = time.monotonic() + timeout
        while len(self.inbox) < n:
            if time.monotonic() > deadline:
                got = [m["message"].get("text") for m in self.inbox]
                raise AssertionError(f"the bot sent {len(self.inbox)} of {n} messages: {got}")
            r = self.http.post("/getUpdates", json={"token": self.token, "chatId": self.id})
            self.inbox.extend(r.json()["result"])
            if len(self.inbox) < n:
                time.sleep(0.05)
        out, self.inbox = self.inbox[:n], self.inbox[n:]
        return [m["message"].get("text") or "" for m in out]

    def reply(self, timeout: float = 60) -> str:
        return self.replies(1, timeout)[0]

    def close(self) -> None:
        self.http.close()


class BotThread:
    """The bot polling the emulator from a thread of the test, over the test's database."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        bot = make_bot(self.ctx)
        self.dp = make_dispatcher(self.ctx)

        async def up() -> None:
            self.started.set()

        self.dp.startup.register(up)
        notices = asyncio.create_task(deliver_notices_forever(bot, self.ctx))
        try:
            await self.dp.start_polling(bot, handle_signals=False)
        finally:
            notices.cancel()

    def __enter__(self) -> BotThread:
        self.thread.start()
        if not self.started.wait(30):
            raise RuntimeError("the bot did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        # Not waited for: polling ends, then the thread's loop with it, before this coroutine resumes.
        asyncio.run_coroutine_threadsafe(self.dp.stop_polling(), self.loop)
        self.thread.join(timeout=15)
        if self.thread.is_alive():
            raise RuntimeError("the bot did not stop")


@contextmanager
def running_bot(api: str, engine: Any, app: Any) -> Iterator[str]:
    """The bot, polling the emulator from a thread, sharing a running web application's database, limits,
    matching and mail server (as `kinlink serve` shares them with its webhook); the bot's token."""
    from kinlink.bot.settings import BotSettings

    token = new_token()
    st = app.state
    ctx = BotContext(
        engine,
        st.limiter,
        st.matching,
        st.settings.mail,
        BotSettings(token=token, api_server=api, notice_interval=0.2),
    )
    with BotThread(ctx):
        yield token


REFERENCE = re.compile(r"TR-[A-Z0-9]{4}-[A-Z0-9]{4}")


def file_in_chat(chat: Chat, values: dict[str, Any]) -> tuple[str | None, str | None]:
    """A request filed by a conversation in English with these answers (the web form's field names and
    values): (its reference, None), or (None, the field the bot's refusal named)."""
    from kinlink.bot import texts
    from kinlink.bot.conversation import AGREE, DISAGREE

    by_label = {label: field for field, label in texts.LABELS.items()}

    def refused(reply: str) -> str:
        chat.reply()  # the question asked again, or the summary shown again
        chat.say("/cancel")
        chat.reply()
        return by_label[reply.removeprefix("⚠ ").split(":", 1)[0]]

    chat.say("/new")
    chat.replies(2)
    given: dict[str, Any] = {}
    for step in texts.STEPS:
        if step.when is not None and not step.when(given):
            continue
        value = values.get(step.field)
        shown = texts.SEX.get(value, value) if step.field == "sex" else value
        chat.say(shown or texts.SKIP)
        reply = chat.reply()
        if reply.startswith("⚠"):
            return None, refused(reply)
        given[step.field] = value
    chat.say(AGREE if values.get("agree") == "on" else DISAGREE)
    reply = chat.reply()
    if reply.startswith("⚠"):
        return None, refused(reply)
    found = REFERENCE.search(reply)
    assert found, reply
    return found.group(0), None
