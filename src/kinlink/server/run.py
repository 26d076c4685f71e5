"""Running the app under uvicorn, with access logs that hold no personal data."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from typing import Any

import uvicorn
from sqlalchemy import Engine

from kinlink.environment import usable_cores
from kinlink.http.settings import Settings
from kinlink.server.app import create_app
from kinlink.server.worker_gc import tune_gc
from kinlink.store.db import ENV_VAR, make_engine


class ScrubAccessLog(logging.Filter):
    """Access log lines without the client's address or the query string (a search may hold a name)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True


def log_config() -> dict[str, Any]:
    cfg = dict(uvicorn.config.LOGGING_CONFIG)
    cfg = {**cfg, "filters": {"scrub": {"()": ScrubAccessLog}}}
    handlers = {k: dict(v) for k, v in cfg["handlers"].items()}
    handlers["access"]["filters"] = ["scrub"]
    cfg["handlers"] = handlers
    return cfg


def _options(host: str, port: int, forwarded_allow_ips: str | None, log_level: str) -> dict[str, Any]:
    return dict(
        host=host,
        port=port,
        log_config=log_config(),
        log_level=log_level,
        # Behind a TLS proxy: trust its X-Forwarded-* only from the addresses given.
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        # Longer than a reader's pause between pages, so that an idle kept-alive connection is not closed
        # just as the client sends on it.
        timeout_keep_alive=30,
    )


def make_config(
    engine: Engine,
    host: str,
    port: int,
    settings: Settings | None = None,
    forwarded_allow_ips: str | None = None,
    log_level: str = "info",
) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(engine, settings), **_options(host, port, forwarded_allow_ips, log_level)
    )


def default_workers() -> int:
    """One worker process per core this process may run on."""
    return usable_cores()


WORKER_HEALTHCHECK_SECONDS = 120


def app_from_environment() -> Any:
    """The application of one worker process of `serve`: database and settings from the environment."""
    from kinlink.store.db import make_engine

    app = create_app(make_engine(), Settings())
    tune_gc()
    return app


def serve(
    database_url: str,
    host: str,
    port: int,
    workers: int = 1,
    forwarded_allow_ips: str | None = None,
    log_level: str = "info",
) -> None:
    """Run the application until stopped, in `workers` processes sharing the listening socket.

    What the processes must agree on lives in the database (sessions, rate limits) or comes from the
    environment they inherit: the database URL and the secret key, made up here when none is set (forms
    then stop working when the server restarts, as with one process).
    """
    if workers <= 1:
        config = make_config(
            make_engine(database_url), host, port, Settings(), forwarded_allow_ips, log_level
        )
        tune_gc()
        uvicorn.Server(config).run()
        return
    os.environ[ENV_VAR] = database_url
    os.environ.setdefault("KINLINK_SECRET_KEY", secrets.token_hex(32))
    uvicorn.run(
        "kinlink.server.run:app_from_environment",
        factory=True,
        workers=workers,
        # uvicorn's supervisor kills a worker that does not answer its ping within this many seconds, and a
        # worker answers only once spawned and its modules imported: on a busy machine that took over 10 s,
        # and with the default of 5 every worker was killed and replaced, over and over, and none served.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **_options(host, port, forwarded_allow_ips, log_level),
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class BackgroundServer:
    """A real uvicorn server in a thread (tests and the benchmark)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_level: str = "warning",
    ) -> None:
        self.host, self.port = host, port or free_port(host)
        self.config = make_config(engine, self.host, self.port, settings, log_level=log_level)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def app(self) -> Any:
        return self.config.app

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
