"""Helpers shared by the web and API tests: a real uvicorn server, a real SMTP server, signed-in clients."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from kinlink.server.run import free_port

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


class Client(httpx.Client):
    """A browser-like client: keeps cookies, finds the CSRF token of the page it last opened."""

    def __init__(self, base_url: str, lang: str = "en") -> None:
        super().__init__(
            base_url=base_url, headers={"accept-language": lang}, follow_redirects=False, timeout=30
        )
        self._csrf: str | None = None

    def csrf(self) -> str:
        if self._csrf is None:
            self._csrf = csrf_of(self.get("/login").text)
        return self._csrf

    def form(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.post(url, data={"csrf_token": self.csrf(), **(data or {})}, **kw)

    def sign_in(self, username: str, password: str) -> httpx.Response:
        r = self.form("/login", {"username": username, "password": password})
        assert r.status_code == 303, r.text
        return r

    def track(self, reference: str, secret: str) -> httpx.Response:
        return self.form("/track", {"reference": reference, "secret": secret})


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free loopback port; keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20) -> list[Message]:
        """The first `count` messages, waiting for them to arrive (sending happens after the response)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self._lock:
            raise AssertionError(f"expected {count} emails, got {len(self.messages)}")

    @contextmanager
    def running(self) -> Iterator[Mailbox]:
        self.controller.start()
        try:
            yield self
        finally:
            self.controller.stop()


def body_of(msg: Message) -> str:
    part = msg.get_body(("plain",)) if hasattr(msg, "get_body") else None  # type: ignore[attr-defined]
    payload = (part or msg).get_payload(decode=True)
    return payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)
