"""Staff accounts, API tokens and browser sessions.

Passwords are argon2id hashes; tokens and session ids are random and only their SHA-256 is stored, so a
copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, bindparam, delete, select
from sqlalchemy.orm import Session

from kinlink.registry.audit import record as audit
from kinlink.store.db import unit_of_work
from kinlink.store.models import utcnow
from kinlink.store.web_models import ROLES, ApiToken, User, WebSession

_HASHER = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of both answers alike.
_DUMMY_HASH = _HASHER.hash("not a password")
MIN_PASSWORD = 10


class AccountError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def aware(at: datetime) -> datetime:
    # SQLite returns naive datetimes; they are stored as UTC.
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# --- users ---------------------------------------------------------------------------------------------


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > 100 or not all(c.isalnum() or c in "._-@" for c in name):
        raise AccountError("a username is letters, digits and . _ - @ (up to 100)", "username")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters", "password")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", "role")


def create_user(
    session: Session, actor: str, username: str, password: str, role: str, display_name: str | None = None
) -> User:
    name = _check_username(username)
    _check_password(password)
    _check_role(role)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise AccountError(f"the username '{name}' is taken", "username")
    user = User(username=name, password_hash=_HASHER.hash(password), role=role, display_name=display_name)
    session.add(user)
    session.flush()
    audit(session, actor, "create", "user", user.id, {"username": name, "role": role})
    return user


def update_user(
    session: Session,
    actor: str,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    display_name: str | None = None,
) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(f"no user {user_id}")
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        _check_role(role)
        changes["role"] = [user.role, role]
        user.role = role
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
    if display_name is not None and display_name != user.display_name:
        changes["display_name"] = "changed"
        user.display_name = display_name
    if password:
        _check_password(password)
        user.password_hash = _HASHER.hash(password)
        changes["password"] = "changed"
    if changes:
        user.updated_at = utcnow()
        if "role" in changes or "active" in changes or "password" in changes:
            # A changed role, a disabled account or a new password ends the user's sessions and tokens.
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            if "role" in changes or "active" in changes:
                for tok in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
                    tok.revoked_at = tok.revoked_at or utcnow()
        session.flush()
        audit(session, actor, "update", "user", user.id, changes)
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = find_user(session, username)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


# --- API tokens ----------------------------------------------------------------------------------------

TOKEN_PREFIX = "kl_"


def create_token(session: Session, actor: str, user_id: int, name: str) -> tuple[ApiToken, str]:
    """A new token for the user; the token itself is returned once and never stored."""
    if session.get(User, user_id) is None:
        raise AccountError(f"no user {user_id}")
    name = (name or "").strip()[:100] or "token"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=sha256(token), user_id=user_id, name=name)
    session.add(row)
    session.flush()
    audit(session, actor, "create", "api_token", row.id, {"user_id": user_id, "name": name})
    return row, token


def revoke_token(session: Session, actor: str, token_id: int, user_id: int | None = None) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise AccountError(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        audit(session, actor, "update", "api_token", row.id, {"revoked": True})


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


# Built once, as every API call and every signed-in page runs them: building and caching a statement costs
# more than the indexed read it makes.
_TOKEN_USER = (
    select(User.id, User.username, User.role)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None), User.active.is_(True)
    )
)


def user_for_token(conn: Connection, token: str) -> tuple[int, str, str] | None:
    """The (id, username, role) of the active user holding this unrevoked API token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    # One indexed read, token and user together.
    row = conn.execute(_TOKEN_USER, {"token_hash": sha256(token)}).first()
    return None if row is None else (row[0], row[1], row[2])


# --- sessions ------------------------------------------------------------------------------------------


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


_SESSION = (
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


def read_session(conn: Connection, token: str) -> SessionInfo | None:
    # One indexed read (session and its user together): this runs on every page a signed-in user opens.
    row = conn.execute(_SESSION, {"token_hash": sha256(token)}).first()
    if row is None or aware(row.expires_at) < utcnow():
        return None
    if row.kind == "staff":
        if row.id is None or not row.active:
            return None
        return SessionInfo("staff", row.id, row.username, row.role, None)
    return SessionInfo("family", None, None, None, row.request_id)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == sha256(token)))


# --- demo ----------------------------------------------------------------------------------------------

DEMO_USERS = (
    ("registrar", "demo-registrar"),
    ("caseworker", "demo-caseworker"),
    ("admin", "demo-admin"),
)


def demo_accounts(engine: Engine) -> list[tuple[str, str, str]]:
    """One demo account per role: (role, username, password). Idempotent: existing accounts get their
    demo password and role back, so the printed credentials always work."""
    out = []
    with unit_of_work(engine) as session:
        for role, username in DEMO_USERS:
            password = f"{username}-pass"
            user = find_user(session, username)
            if user is None:
                create_user(session, "kinlink-demo", username, password, role, display_name=f"Demo {role}")
            elif user.role != role or not user.active or not authenticate(session, username, password):
                update_user(session, "kinlink-demo", user.id, role=role, active=True, password=password)
            out.append((role, username, password))
    return out
