"""Issue 19: a server process's request threads and kept connections by database. On PostgreSQL a request's
thread waits out its round trips, so a process runs more of them (8) than on SQLite (4), and keeps at least
as many connections open, so that no request opens and closes a connection of its own."""

from __future__ import annotations

import anyio.to_thread
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kinlink.http.settings import Settings
from kinlink.server.app import create_app


def _threads(engine: Engine, settings: Settings) -> int:
    with TestClient(create_app(engine, settings)) as client:  # the lifespan sets the threads
        return int(client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens))


def test_request_threads_by_database_unless_set(engine: Engine) -> None:
    by_database = {"sqlite": 4, "postgresql": 8}[engine.dialect.name]
    assert _threads(engine, Settings(secret_key="t")) == by_database
    assert _threads(engine, Settings(secret_key="t", request_threads=3)) == 3
    if engine.dialect.name == "postgresql":
        assert engine.pool.size() >= by_database  # type: ignore[attr-defined]
