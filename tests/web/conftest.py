from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from kinlink.accounts.demo import demo_accounts
from kinlink.http.settings import Settings
from kinlink.server.run import BackgroundServer
from kinlink.tracing.mail import MailSettings
from tests.web.helpers import Client, Mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with Mailbox().running() as box:
        yield box


@pytest.fixture
def settings(mailbox: Mailbox) -> Settings:
    return Settings(
        secret_key="test-secret",
        mail=MailSettings(host="127.0.0.1", port=mailbox.port, base_url="http://kinlink.test"),
    )


@pytest.fixture
def server(engine: Engine, settings: Settings) -> Iterator[BackgroundServer]:
    with BackgroundServer(engine, settings) as srv:
        yield srv


@pytest.fixture
def staff(engine: Engine) -> dict[str, tuple[str, str]]:
    """role -> (username, password) of one account per role."""
    return {role: (user, pw) for role, user, pw in demo_accounts(engine)}


@pytest.fixture
def client_for(server: BackgroundServer, staff: dict[str, tuple[str, str]]):  # type: ignore[no-untyped-def]
    made: list[Client] = []

    def make(role: str | None = None, lang: str = "en") -> Client:
        c = Client(server.url, lang)
        made.append(c)
        if role is not None:
            c.sign_in(*staff[role])
        return c

    yield make
    for c in made:
        c.close()
