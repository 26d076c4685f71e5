"""Staff passwords stay argon2, but only a few checks run at once: a crowd signing in cannot take every
request thread; a sign-in that gets no turn is told to retry (503, Retry-After) and costs no attempt."""

from __future__ import annotations

import threading
from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from kinlink.accounts import users
from kinlink.accounts.sessions import sign_in
from kinlink.accounts.throttle import RateLimiter
from kinlink.errors import Refused
from kinlink.store.db import unit_of_work


def test_password_checks_are_bounded_and_the_rest_told_to_retry(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unit_of_work(engine) as s:
        users.create_user(s, "test", "maria", "a long enough password", "caseworker")
    monkeypatch.setattr(users, "_PASSWORD_CHECKS", threading.BoundedSemaphore(2))
    monkeypatch.setattr(users, "_TURN_WAIT_SECONDS", 0.2)
    limiter = RateLimiter(engine, "k")
    running, peak, lock = [0], [0], threading.Lock()

    class CountingHasher(PasswordHasher):  # argon2's own hasher, counting the checks in flight
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            try:
                return super().verify(hash, password)
            finally:
                with lock:
                    running[0] -= 1

    monkeypatch.setattr(users, "_HASHER", CountingHasher())
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def attempt() -> None:
        start.wait()
        try:
            signed = sign_in(engine, limiter, "192.0.2.1", "maria", "a long enough password", 10)
            outcomes.append("in" if signed else "wrong")
        except Refused as e:
            assert e.kind == "busy" and e.retry_after
            outcomes.append("busy")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] <= 2
    assert "in" in outcomes and "wrong" not in outcomes and len(outcomes) == 8
    # With every turn taken, a sign-in waits its bounded time and is refused as busy.
    users._PASSWORD_CHECKS.acquire()
    users._PASSWORD_CHECKS.acquire()
    try:
        with pytest.raises(Refused) as busy:
            sign_in(engine, limiter, "192.0.2.1", "maria", "a long enough password", 10)
        assert busy.value.kind == "busy"
    finally:
        users._PASSWORD_CHECKS.release()
        users._PASSWORD_CHECKS.release()
