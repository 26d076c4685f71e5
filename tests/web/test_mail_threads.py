"""Mail is sent after the response in threads of its own: a mail server that hangs does not stop the site."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import Engine, select

from kinlink.http.settings import Settings
from kinlink.server.run import BackgroundServer
from kinlink.store.casework_models import Notification
from kinlink.store.db import unit_of_work
from kinlink.tracing.mail import MailSettings
from tests.web.helpers import Client
from tests.web.test_family_flow import REQUEST, file_request


class SilentMailServer:
    """Accepts connections and never greets: every SMTP client waits out its timeout, until `release`."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
                self.accepted.append(conn)
            except TimeoutError:
                continue

    def release(self) -> None:
        """Stop listening and drop every connection: the waiting clients fail at once."""
        self._stop.set()
        self._thread.join()
        self.listener.close()
        for conn in self.accepted:
            conn.close()

    @contextmanager
    def running(self) -> Iterator[SilentMailServer]:
        self._thread.start()
        try:
            yield self
        finally:
            if not self._stop.is_set():
                self.release()


def test_a_hanging_mail_server_does_not_hold_the_threads_that_answer_requests(engine: Engine) -> None:
    with SilentMailServer().running() as mail:
        accepted = mail.accepted
        settings = Settings(
            secret_key="test-secret", mail=MailSettings(host="127.0.0.1", port=mail.port), request_threads=2
        )
        with BackgroundServer(engine, settings) as srv:
            family = Client(srv.url)
            t = time.monotonic()
            try:
                for _ in range(3):  # each queues a confirmation email, sent after its response
                    file_request(family, REQUEST)
                deadline = time.monotonic() + 10
                while len(accepted) < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert len(accepted) >= 2  # the mail threads are both stuck in the greeting now
                # Each form and page needs a request thread: with the mail sent in those, both would be
                # held for the mail timeout (20 s), and the third form would wait for one.
                for path in ("/healthz", "/track", "/request"):
                    assert httpx.get(srv.url + path, timeout=30).status_code == 200
                assert time.monotonic() - t < 10
            finally:
                family.close()
                mail.release()  # the stuck sends fail now, and the server can stop
    with unit_of_work(engine) as s:
        assert len(list(s.scalars(select(Notification.id)))) == 3
