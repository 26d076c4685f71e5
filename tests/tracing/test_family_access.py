"""A family opens its request with its reference and secret: a right secret is always accepted, wrong
guesses are throttled per address and over all addresses, never per reference; secrets are keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from kinlink.accounts.throttle import Quotas, RateLimiter
from kinlink.errors import Refused
from kinlink.keys import server_key
from kinlink.store.casework_models import Disclosure
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.family_access import family_view, open_request, opened_view
from kinlink.tracing.requests import Enquirer, SoughtPerson, create_request, secret_digest, set_state
from kinlink.tracing.verification import record_verification, withdraw_verification

GUESSER, FAMILY = "198.51.100.7", "203.0.113.20"


def _request(engine: Engine) -> tuple[int, str, str]:
    with unit_of_work(engine) as s:
        req, secret = create_request(s, "test", SoughtPerson("Пактышев Леонид"), Enquirer("Пактышева Анна"))
        return req.id, req.reference, secret


def test_a_guesser_who_knows_the_reference_cannot_lock_the_family_out(engine: Engine) -> None:
    rid, reference, secret = _request(engine)
    limiter = RateLimiter(engine, "k", Quotas(family_failures_per_ip=5, family_failures_global=1000))
    spellings = [reference, f" {reference.lower()} ", reference.lower()]
    for n in range(5):
        assert open_request(engine, limiter, GUESSER, spellings[n % 3], "wrong-secret") is None
    for _ in range(3):  # again and again: the guesser is refused, and told how long to wait
        with pytest.raises(Refused) as refused:
            open_request(engine, limiter, GUESSER, reference, "wrong-secret")
        assert refused.value.kind == "too_many"
        assert 0 < (refused.value.retry_after or 0) <= limiter.quotas.window_seconds
    # The family, from its own address, with the right secret: let in, every time.
    for _ in range(3):
        req = open_request(engine, limiter, FAMILY, f" {reference.lower()} ", secret)
        assert req is not None and req.id == rid
    # Even from the guesser's address (a shared connection) the right secret is accepted.
    assert open_request(engine, limiter, GUESSER, reference, secret) is not None
    # The family's own mistakes are its own address's, not the reference's.
    assert open_request(engine, limiter, FAMILY, reference, "typo") is None


def test_wrong_guesses_over_all_addresses_are_limited_too(engine: Engine) -> None:
    _, reference, secret = _request(engine)
    limiter = RateLimiter(engine, "k", Quotas(family_failures_per_ip=100, family_failures_global=6))
    for n in range(6):
        assert open_request(engine, limiter, f"192.0.2.{n}", reference, "wrong") is None
    with pytest.raises(Refused) as refused:
        open_request(engine, limiter, "192.0.2.99", "TR-2222-3333", "wrong")
    assert refused.value.kind == "too_many" and refused.value.retry_after
    assert open_request(engine, limiter, "192.0.2.100", reference, secret) is not None


def test_the_wait_is_until_the_oldest_counted_guess_leaves_the_window(engine: Engine) -> None:
    limiter = RateLimiter(engine, "k", Quotas(family_failures_per_ip=2, window_seconds=600))
    open_request(engine, limiter, GUESSER, "TR-2222-3333", "a")
    time.sleep(1.1)
    open_request(engine, limiter, GUESSER, "TR-2222-3333", "b")
    with pytest.raises(Refused) as refused:
        open_request(engine, limiter, GUESSER, "TR-2222-3333", "c")
    assert 590 <= (refused.value.retry_after or 0) <= 600


def test_a_secret_is_kept_as_a_keyed_hash(engine: Engine) -> None:
    rid, _, secret = _request(engine)
    with unit_of_work(engine) as s:
        stored = s.get(TracingRequest, rid).secret_hash  # type: ignore[union-attr]
    assert secret not in stored and not stored.startswith("$argon2")
    keyed = hmac.new(server_key("family-secret"), secret.encode(), hashlib.sha256).hexdigest()
    assert stored == "hmac-sha256$" + keyed
    # Without the server key (a copy of the database alone) the hash cannot be reproduced.
    assert stored != "hmac-sha256$" + hmac.new(b"another key", secret.encode(), hashlib.sha256).hexdigest()
    assert stored != "hmac-sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def test_a_secret_stored_before_keying_still_opens_and_is_keyed_then(engine: Engine) -> None:
    rid, reference, secret = _request(engine)
    with unit_of_work(engine) as s:
        s.get(TracingRequest, rid).secret_hash = PasswordHasher().hash(secret)  # type: ignore[union-attr]
    limiter = RateLimiter(engine, "k")
    assert open_request(engine, limiter, FAMILY, reference, "wrong") is None
    assert open_request(engine, limiter, FAMILY, reference, secret) is not None
    with unit_of_work(engine) as s:
        assert s.get(TracingRequest, rid).secret_hash == secret_digest(secret)  # type: ignore[union-attr]
        entries = select(AuditEntry).where(AuditEntry.entity_id == str(rid)).order_by(AuditEntry.id.desc())
        assert s.scalars(entries).first().changes == {"secret": "keyed"}  # type: ignore[union-attr]
    assert open_request(engine, limiter, FAMILY, reference, secret) is not None


def test_a_secret_is_grouped_without_look_alikes_and_read_as_typed(engine: Engine) -> None:
    """The secret is five groups of four characters from an alphabet without 0/O, 1/I/L, read aloud or typed
    in any case, with spaces or without dashes; a secret of the earlier form (base64, case-sensitive)
    still opens its request as it was given."""
    rid, reference, secret = _request(engine)
    assert re.fullmatch(r"(?:[2-9A-HJKMNP-Z]{4}-){4}[2-9A-HJKMNP-Z]{4}", secret), secret
    limiter = RateLimiter(engine, "k")
    for typed in (secret, secret.lower(), secret.replace("-", " "), secret.replace("-", ""), f" {secret} "):
        assert open_request(engine, limiter, FAMILY, reference, typed) is not None, typed
    wrong = secret[:-1] + ("3" if secret.endswith("2") else "2")
    assert open_request(engine, limiter, FAMILY, reference, wrong) is None
    old = "zwJbsZvl05XUR_sa"  # a secret of the earlier form, as the CLI printed it
    with unit_of_work(engine) as s:
        s.get(TracingRequest, rid).secret_hash = secret_digest(old)  # type: ignore[union-attr]
    assert open_request(engine, limiter, FAMILY, reference, old) is not None
    assert open_request(engine, limiter, FAMILY, reference, old.upper()) is None


def test_a_view_that_tells_nothing_to_record_is_read_without_an_orm_session(engine: Engine) -> None:
    """The page families reload (`opened_view`) reads a view that records nothing on a plain connection, the
    same view as `family_view`'s; one that may be recorded as a disclosure (a verified enquirer's confirmed
    match) is read in a unit of work as before, its disclosure recorded once."""
    from tests.web.test_verified_enquirers import _confirmed

    views = {}
    with unit_of_work(engine) as s:
        for name in ("unverified", "verified", "closed", "withdrawn"):
            req, _ = create_request(s, "test", SoughtPerson("Пактышев Леонид"), Enquirer("Пактышева Анна"))
            views[name] = req.id
            if name != "unverified":
                record_verification(s, "caseworker", req.id, "call_back", "мати")
            if name == "closed":
                set_state(s, "test", req, "closed")
            if name == "withdrawn":
                withdraw_verification(s, "caseworker", req.id, "recorded for the wrong enquirer")
    found = _confirmed(engine)[0]
    with unit_of_work(engine) as s:
        record_verification(s, "caseworker", found, "call_back", "мати")
    views["found"] = found
    units: list[object] = []

    def unit_begun(session: Session, transaction: object) -> None:
        units.append(session)

    stages = {}
    event.listen(Session, "after_transaction_create", unit_begun)
    try:
        for name, rid in views.items():
            units.clear()
            seen = opened_view(engine, lambda conn, rid=rid: rid, "web")
            stages[name] = (seen.outcome.stage, seen.verified, bool(units))  # type: ignore[union-attr]
            with unit_of_work(engine) as s:
                assert seen == family_view(s, rid, "web")
        assert opened_view(engine, lambda conn: views["found"] + 1000, "web") is None
    finally:
        event.remove(Session, "after_transaction_create", unit_begun)
    assert stages == {
        "unverified": ("in_progress", False, False),
        "verified": ("in_progress", True, False),
        "closed": ("closed", True, False),
        "withdrawn": ("in_progress", False, False),
        "found": ("found", True, True),
    }
    with unit_of_work(engine) as s:  # the found family's disclosure recorded once, by the page's read
        told = s.scalar(select(func.count()).select_from(Disclosure).where(Disclosure.request_id == found))
    assert told == 1
