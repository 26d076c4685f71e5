"""A family opens its request with the reference and the secret it was given, and reads what it may know:
the one check and the one view behind the family's pages, the API's status call and any other door.

A right secret is always accepted, from anywhere, however many wrong guesses came before: the secret
has 96 random bits, so guessing it is hopeless, and what must never happen is that a guesser who knows a
reference locks its family out. Only wrong guesses are counted, per client address and over all
addresses; past either limit a wrong guess is refused (too_many) with the time to wait. Verifying is a
keyed hash (microseconds), so it is done first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import Connection, Double, Engine, bindparam, cast, extract, func, literal, select
from sqlalchemy.orm import Session

from kinlink.accounts.throttle import RateLimiter, too_many
from kinlink.store.casework_models import EnquirerVerification, Message
from kinlink.store.db import read_only_connection, reading_unit, session_factory, unit_of_work
from kinlink.store.driver import DriverRead
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.disclosure import Outcome, disclose, latest_verification, outcome_unmatched
from kinlink.tracing.messages import for_family
from kinlink.tracing.notifications import email_in
from kinlink.tracing.requests import find_request, is_keyed, upgrade_secret, verify_secret

MAX_REFERENCE = 40
# "How long it usually takes" is said only from enough recent answers to be a figure about the service,
# never about a few families (and never from fewer than this many).
WAIT_SAMPLE_MIN = 20
WAIT_SAMPLE_MAX = 500
WAIT_WINDOW = timedelta(days=365)


def open_request(
    engine: Engine, limiter: RateLimiter, address: str, reference: str, secret: str
) -> TracingRequest | None:
    """The request these credentials open, or None (the same answer for a wrong reference or secret).

    A wrong guess past the limits of the window is refused (too_many, with retry_after)."""
    ref = reference.strip().upper()[:MAX_REFERENCE]
    secret = secret.strip()
    req = None
    if ref and secret:
        with session_factory(engine)() as s:
            req = verify_secret(find_request(s, ref), secret)
    if req is not None:
        if not is_keyed(req):
            with unit_of_work(engine) as s:
                upgrade_secret(s, req.id, secret)
        return req
    quotas = limiter.quotas
    limits = [
        (("family-fail-ip", address), quotas.family_failures_per_ip),
        (("family-fail", "all"), quotas.family_failures_global),
    ]
    if limiter.take(limits, quotas.window_seconds) is None:
        raise too_many(limiter.wait_seconds(limits, quotas.window_seconds) or 1)
    return None


@dataclass
class FamilyView:
    reference: str
    state: str
    outcome: Outcome  # what the family may know now (recorded as a disclosure when it is new)
    messages: list[Message]
    # Whether a caseworker has verified the enquirer: until then the outcome is "being handled", whatever
    # is known, and a door may say that a caseworker will be in touch to verify them.
    verified: bool = False
    sought: str = ""  # whom the family asked for, as they wrote it
    filed_at: datetime | None = None
    # How the family is told of news: "email" (to `told_at`, partly hidden) or "page" (no address given).
    told_by: str = "page"
    told_at: str | None = None
    # Half of the recent requests that found someone had their first confirmed answer within this many
    # days of being filed; None until there are enough of them to say (WAIT_SAMPLE_MIN).
    usual_wait_days: int | None = None


def masked_email(address: str) -> str:
    """An address shown back to its owner without giving it away to someone reading over a shoulder:
    'anna.p@example.org' -> 'a…p@example.org'."""
    local, _, domain = address.partition("@")
    shown = local[0] + "…" + local[-1] if len(local) > 2 else local[:1] + "…"
    return f"{shown}@{domain}"


# What the family's view reads of its request, with the request's latest verification (verification_of's
# row: the one that stands unless withdrawn), in one statement: a status check is a page families reload,
# and a row of the columns it shows costs less than an ORM load and a second query (issue 19).
_VIEW = (
    select(
        TracingRequest.id,
        TracingRequest.reference,
        TracingRequest.state,
        TracingRequest.matched_person_id,
        TracingRequest.full_name,
        TracingRequest.created_at,
        TracingRequest.enquirer_contact,
        EnquirerVerification.id.label("verification_id"),
        EnquirerVerification.method,
        EnquirerVerification.recorded_by,
        EnquirerVerification.recorded_at,
        EnquirerVerification.withdrawn_at,
    )
    .outerjoin(
        EnquirerVerification,
        EnquirerVerification.id == latest_verification(TracingRequest.id).correlate(TracingRequest),
    )
    .where(TracingRequest.id == bindparam("request_id"))
)


@dataclass(frozen=True, slots=True)
class _Standing:
    """The verification that stands, as a disclosure records it (disclosure.VerificationFacts)."""

    id: int
    method: str
    recorded_by: str
    recorded_at: datetime


def family_view(session: Session, request_id: int, channel: str) -> FamilyView | None:
    """What the family of an opened request reads: its state, what it may be told, and its messages."""
    read = _read_view(session.connection(), request_id, lambda: usual_wait_days(session))
    if read is None:
        return None
    req, standing, wait = read
    outcome = disclose(session, req, channel, standing)
    # Messages exist only while the found person consents to contact: once consent is withdrawn the family
    # sees what a match never consented to shows, and no word of the person's (nor a hint that there was
    # one) remains on its page.
    messages = for_family(session, req.id) if outcome.messages_allowed else []
    return _view(req, outcome, messages, wait)


def opened_view(engine: Engine, opened: Callable[[Connection], int], channel: str) -> FamilyView | None:
    """`family_view` of the request `opened(conn)` names (who is asking, read first on the view's own
    connection: one pool checkout), without an ORM Session when the view writes nothing and reads no
    record: the page families reload, whose Session was ~11 % of its CPU (issue 19). That is every request
    whose enquirer is not verified or that is not matched to a person, where what the family may know is
    "being handled" or "closed" (`disclosure.outcome_unmatched`), never a stage that is recorded as disclosed
    nor one that allows messages. Any other is read as `family_view` reads it, in a reading unit of its own
    (after this connection is given back: one connection a thread at a time), as it may record a disclosure.
    """
    with read_only_connection(engine) as conn:
        request_id = opened(conn)
        read = _read_view(conn, request_id, lambda: usual_wait_days_on(conn))
        if read is None:
            return None
        req, standing, wait = read
        told = outcome_unmatched(req, standing)
        if told is not None:  # told without a record read: nothing disclosed, no messages
            return _view(req, told, [], wait)
    with reading_unit(engine) as s:
        return family_view(s, request_id, channel)


def _read_view(
    conn: Connection, request_id: int, wait_days: Callable[[], int | None]
) -> tuple[Any, _Standing | None, int | None] | None:
    """The request's row of _VIEW (None when there is none), its standing verification and the usual wait
    (on PostgreSQL a column of the same read, else `wait_days()`, read after it)."""
    if conn.dialect.name == "postgresql":  # the usual wait read with the request: one round trip
        since = utcnow() - WAIT_WINDOW
        req = conn.execute(_VIEW_AND_WAIT, {"request_id": request_id, "since": since}).first()
        if req is None:
            return None
        wait = _usual_wait(req.wait_days or [])
    else:
        req = _VIEW_READ.first(conn, {"request_id": request_id})
        if req is None:
            return None
        wait = wait_days()
    standing = None
    if req.verification_id is not None and req.withdrawn_at is None:
        standing = _Standing(req.verification_id, req.method, req.recorded_by, req.recorded_at)
    return req, standing, wait


def _view(req: Any, outcome: Outcome, messages: list[Message], wait: int | None) -> FamilyView:
    email = email_in(req.enquirer_contact)
    return FamilyView(
        req.reference,
        req.state,
        outcome,
        messages,
        outcome.verified,
        sought=req.full_name,
        filed_at=req.created_at,
        told_by="email" if email else "page",
        told_at=masked_email(email) if email else None,
        usual_wait_days=wait,
    )


# Built once, run on the session's plain connection: every status check reads it, and building the
# statement (its cache key) and executing it through the ORM cost more than the indexed read (issue 19).
_RECENT_ANSWERS = (
    select(TracingRequest.id, TracingRequest.created_at, MatchCandidate.decided_at)
    .join(MatchCandidate, MatchCandidate.request_id == TracingRequest.id)
    .where(MatchCandidate.state == "confirmed", MatchCandidate.decided_at >= bindparam("since"))
    # Answers decided at the same instant are read latest request first: which of them the limit keeps
    # is then the same on every plan and store (the index holds (state, decided_at, request_id)).
    .order_by(MatchCandidate.decided_at.desc(), MatchCandidate.request_id.desc())
    .limit(WAIT_SAMPLE_MAX)
)


def usual_wait_days(session: Session) -> int | None:
    """The median number of days from filing to the first confirmed match, over the latest confirmed
    matches of requests (at most WAIT_SAMPLE_MAX, decided in the last year); None below WAIT_SAMPLE_MIN."""
    return usual_wait_days_on(session.connection())


def usual_wait_days_on(conn: Connection) -> int | None:
    """usual_wait_days, read on a connection."""
    return _usual_wait(_answer_days(conn, utcnow() - WAIT_WINDOW))


def first_answer_days(session: Session, since: datetime) -> list[float]:
    """Each request's days from filing to its first confirmed answer, among the latest WAIT_SAMPLE_MAX
    confirmed answers decided at or after `since`: what the usual wait is the median of."""
    return _answer_days(session.connection(), since)


def _answer_days(conn: Connection, since: datetime) -> list[float]:
    rows = _RECENT_READ.all(conn, {"since": since})
    first: dict[int, float] = {}
    for request_id, filed, decided in rows:
        days = max(0.0, (_utc(decided) - _utc(filed)).total_seconds() / 86400)
        first[request_id] = min(days, first.get(request_id, days))
    return list(first.values())


# On SQLite run by the driver, as a status check reads both (issue 19; kinlink.store.driver.DriverRead).
_VIEW_READ = DriverRead(_VIEW)
_RECENT_READ = DriverRead(_RECENT_ANSWERS)


def _usual_wait(first_days: list[float]) -> int | None:
    """The median of each request's days to its first confirmed answer, when there are enough of them."""
    if len(first_days) < WAIT_SAMPLE_MIN:
        return None
    return round(median(first_days))


# PostgreSQL: each request's days to its first answer among the same rows, as usual_wait_days computes them
# (the interval's exact seconds, correctly rounded to a double, then divided: the same doubles as Python's
# total_seconds() / 86400), gathered into one array: a column of the view's read, in its round trip.
_recent = _RECENT_ANSWERS.subquery("recent")
_seconds = cast(extract("epoch", _recent.c.decided_at - _recent.c.created_at), Double)
_days = func.greatest(literal(0.0, Double), _seconds / literal(86400.0, Double))
_first_days = select(func.min(_days).label("days")).group_by(_recent.c.id).subquery("first_days")
_VIEW_AND_WAIT = _VIEW.add_columns(
    select(func.array_agg(_first_days.c.days)).scalar_subquery().label("wait_days")
)


def _utc(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes for what was stored in UTC; PostgreSQL aware ones in its session's
    # time zone, and two datetimes of one zone subtract as wall clocks (an hour off across a clock change).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
