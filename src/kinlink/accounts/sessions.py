"""Browser sessions: a staff member signed in, or a family that opened its request. Kept on the server
(only the token's SHA-256), so that signing out or disabling a user ends them at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, delete, select
from sqlalchemy.orm import Session

from kinlink.accounts.throttle import RateLimiter
from kinlink.accounts.tokens import sha256
from kinlink.accounts.users import authenticate
from kinlink.errors import Refused
from kinlink.store.account_models import User, WebSession
from kinlink.store.db import unit_of_work
from kinlink.store.driver import DriverRead
from kinlink.store.models import utcnow


def aware(at: datetime) -> datetime:
    # SQLite returns naive datetimes; they are stored as UTC.
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SessionInfo:
    kind: str  # staff | family
    user_id: int | None
    username: str | None
    role: str | None
    request_id: int | None


def open_session(
    session: Session, kind: str, minutes: int, *, user_id: int | None = None, request_id: int | None = None
) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # Expired sessions are swept as new ones are made, so the table stays small without a job.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.add(
        WebSession(
            token_hash=sha256(token),
            kind=kind,
            user_id=user_id,
            request_id=request_id,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    session.flush()
    return token


_SESSION_READ = (
    select(
        WebSession.kind,
        WebSession.expires_at,
        WebSession.request_id,
        User.id,
        User.username,
        User.role,
        User.active,
    )
    .outerjoin(User, User.id == WebSession.user_id)
    .where(WebSession.token_hash == bindparam("token_hash"))
)
_SESSION = DriverRead(_SESSION_READ)  # on SQLite by the driver: every signed-in page reads it (issue 19)


def read_session(conn: Connection, token: str) -> SessionInfo | None:
    # One indexed read (session and its user together): this runs on every page a signed-in user opens.
    row = _SESSION.first(conn, {"token_hash": sha256(token)})
    if row is None or aware(row.expires_at) < utcnow():
        return None
    if row.kind == "staff":
        if row.id is None or not row.active:
            return None
        return SessionInfo("staff", row.id, row.username, row.role, None)
    return SessionInfo("family", None, None, None, row.request_id)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == sha256(token)))


@dataclass(frozen=True)
class SignedIn:
    token: str  # the session cookie's value, never stored
    role: str


def sign_in(
    engine: Engine, limiter: RateLimiter, address: str, username: str, password: str, minutes: int
) -> SignedIn | None:
    """A staff member's sign-in: a new session, or None for a wrong name or password. Failures are limited
    per address (counted until the password proves right, so that concurrent guesses cannot slip past)."""
    hits = limiter.take_one("login-fail", address, limiter.quotas.login_failures_per_ip)
    try:
        with unit_of_work(engine) as s:
            user = authenticate(s, username, password)
            signed = (
                None
                if user is None
                else SignedIn(open_session(s, "staff", minutes, user_id=user.id), user.role)
            )
    except Refused:  # busy: no attempt was made
        limiter.release(hits)
        raise
    if signed is not None:
        limiter.release(hits)  # after the commit: one connection at a time
    return signed
