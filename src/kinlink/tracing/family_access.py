"""A family opens its request with the reference and the secret it was given, and reads what it may know:
the one check and the one view behind the family's pages, the API's status call and any other door.

Guesses are limited per client address and per reference (counted as failures until the secret proves
right, so that concurrent guesses cannot slip past); the secret is verified with no database connection
held, since its hash is deliberately slow to compute.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kinlink.accounts.throttle import RateLimiter, too_many
from kinlink.store.casework_models import Message
from kinlink.store.db import session_factory
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.disclosure import Outcome, disclose
from kinlink.tracing.messages import for_family
from kinlink.tracing.requests import find_request, verify_secret

MAX_REFERENCE = 40


def open_request(
    engine: Engine, limiter: RateLimiter, address: str, reference: str, secret: str
) -> TracingRequest | None:
    """The request these credentials open, or None (the same answer for a wrong reference or secret).

    Refused (too_many) past the limits of the window."""
    quotas = limiter.quotas
    ref = reference.strip().upper()[:MAX_REFERENCE]
    failures = [("family-fail-ip", address), ("family-fail-ref", ref)]
    hits = limiter.take(
        [
            (("family-check", address), quotas.family_checks_per_ip),
            (failures[0], quotas.family_failures_per_ip),
            (failures[1], quotas.family_failures_per_reference),
        ],
        quotas.window_seconds,
    )
    if hits is None:
        raise too_many()
    req = None
    if ref and secret:
        with session_factory(engine)() as s:
            found = find_request(s, ref)
        req = verify_secret(found, secret.strip())
    if req is not None:
        limiter.release(hits, failures)
    return req


@dataclass
class FamilyView:
    reference: str
    state: str
    outcome: Outcome  # what the family may know now (recorded as a disclosure when it is new)
    messages: list[Message]


def family_view(session: Session, request_id: int, channel: str) -> FamilyView | None:
    """What the family of an opened request reads: its state, what it may be told, and its messages."""
    req = session.get(TracingRequest, request_id)
    if req is None:
        return None
    outcome = disclose(session, req, channel)
    return FamilyView(req.reference, req.state, outcome, for_family(session, req.id))
