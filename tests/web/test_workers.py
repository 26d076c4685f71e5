"""Several server processes on one database: what one process counts or issues holds in all of them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine

from kinlink.accounts.throttle import Quotas, RateLimiter
from kinlink.http.settings import Settings
from kinlink.server.run import BackgroundServer, free_port
from kinlink.store.db import unit_of_work
from tests.support import file_request
from tests.web.helpers import Client, csrf_of

KINLINK = Path(sys.executable).with_name("kinlink")


def _request(engine: Engine) -> tuple[str, str]:
    with unit_of_work(engine) as s:
        req, secret = file_request(
            s,
            "test",
            {"full_name": "Коваль Ігор", "enquirer_name": "Коваль Ліда", "agree": "on"},
            match=False,
        )
        return req.reference, secret


def test_guesses_are_counted_across_server_processes(engine: Engine) -> None:
    """Two application instances (as two worker processes are: each has its own memory) on one database:
    guesses spread over both still meet the per-address limit."""
    reference, secret = _request(engine)
    settings = Settings(secret_key="shared", quotas=Quotas(family_failures_per_ip=4))
    with BackgroundServer(engine, settings) as a, BackgroundServer(engine, settings) as b:
        assert a.app.state.limiter is not b.app.state.limiter
        clients = [Client(a.url), Client(b.url)]
        try:
            for n in range(4):
                r = clients[n % 2].track(reference, "wrong-secret")
                assert r.status_code == 200 and "wrong" in r.text
            # Each process saw two failures, under its own limit of four: only a shared count refuses.
            assert clients[0].track(reference, "wrong-secret").status_code == 429
            assert clients[1].track(reference, "wrong-secret").status_code == 429
            # The right secret is never refused.
            assert clients[0].track(reference, secret).status_code == 303
        finally:
            for c in clients:
                c.close()


def test_concurrent_attempts_never_exceed_the_limit(engine: Engine) -> None:
    limiter = RateLimiter(engine, "k")
    key, limit = ("login-fail", "203.0.113.9"), 5
    passed: list[dict] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def attempt() -> None:
        start.wait()
        hits = limiter.take([(key, limit)], 3600)
        if hits is not None:
            with lock:
                passed.append(hits)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Never more than the limit; a burst past it may be refused whole (each attempt counted before
    # it is checked sees the others), which costs a guesser, not a family reloading its page.
    assert len(passed) <= limit
    # Another limiter (another process) sees the same count; taking back an attempt frees its place.
    other = RateLimiter(engine, "k")
    taken = [other.take([(key, limit)], 3600) for _ in range(limit - len(passed))]
    assert None not in taken
    assert other.take([(key, limit)], 3600) is None
    limiter.release((passed + taken)[0])  # type: ignore[operator]
    assert other.take([(key, limit)], 3600) is not None
    # Another address, or hits out of the window, do not count.
    assert other.take([(("login-fail", "203.0.113.10"), limit)], 3600) is not None
    assert other.take([(key, limit)], 0.000001) is not None


def _children(pid: int) -> list[str]:
    out = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        out.append(Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode())
    return out


@contextmanager
def _serve(db_url: str, command: list[str], env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    proc = subprocess.Popen(
        [str(KINLINK), "--db", db_url, *command, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_runs_worker_processes_that_agree(db_url: str, engine: Engine, staff) -> None:  # type: ignore[no-untyped-def]
    reference, secret = _request(engine)
    env = {k: v for k, v in os.environ.items() if k != "KINLINK_SECRET_KEY"}
    env["KINLINK_FAMILY_FAILURES_PER_IP"] = "3"
    with _serve(db_url, ["serve", "--workers", "2"], env) as (base, proc):
        deadline = time.monotonic() + 60
        while sum("spawn_main" in c for c in _children(proc.pid)) < 2:
            assert time.monotonic() < deadline, _children(proc.pid)
            time.sleep(0.2)
        # Let both workers finish starting, so that connections are spread over the two.
        while time.monotonic() < deadline:
            try:
                if all(httpx.get(base + "/healthz", timeout=1).status_code == 200 for _ in range(6)):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # A form from one connection posted on another, again and again: whichever worker made the CSRF
        # token, the one that checks it agrees (one secret key for all, made up by `serve`).
        for _ in range(12):
            with httpx.Client(base_url=base) as page:
                r = page.get("/login")
                cookies, token = dict(r.cookies), csrf_of(r.text)
            with httpx.Client(base_url=base, cookies=cookies) as post:
                r = post.post(
                    "/login",
                    data={
                        "csrf_token": token,
                        "username": staff["caseworker"][0],
                        "password": staff["caseworker"][1],
                    },
                )
                assert r.status_code == 303, r.text
        # Guesses on fresh connections: the limit holds, whichever worker takes each one.
        for _ in range(3):
            with Client(base) as c:
                assert c.track(reference, "wrong-secret").status_code == 200
        with Client(base) as c:
            assert c.track(reference, "wrong-secret").status_code == 429
            assert c.track(reference, secret).status_code == 303


def test_make_run_says_where_it_serves_on_one_line_and_no_stale_next_step(db_url: str) -> None:
    """`make run` is `kinlink demo --serve`: on an 80-column terminal it names the URL on one unbroken line
    and, while serving, does not tell the reader to start the server it is already running."""
    env = {**os.environ, "COLUMNS": "80"}
    with _serve(db_url, ["demo", "--serve"], env) as (base, proc):
        pass
    out = proc.communicate(timeout=30)[0]
    assert f"serving on {base}/" in out, out
    assert "In another terminal, while it serves" in out
    assert "Try next" not in out and "kinlink serve " not in out, out
    assert "demo-caseworker" in out  # the accounts to sign in with
