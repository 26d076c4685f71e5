"""Staff accounts: registrars, caseworkers and admins, each with a role that every door checks.

Passwords are argon2id hashes, so a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kinlink.environment import env_int
from kinlink.errors import refuse
from kinlink.person.text import text_problem
from kinlink.store.account_models import ROLES, ApiToken, User, WebSession
from kinlink.store.audit import record as audit
from kinlink.store.models import utcnow

_HASHER = PasswordHasher()
# Each argon2 check takes 64 MiB and tens of milliseconds of a core, on one of the server's few request
# threads: left unbounded, a crowd signing in (or guessing) takes every thread and starves staff at work.
# At most this many run at once in a process; a sign-in that cannot get a turn soon is told to retry.
_PASSWORD_CHECKS = threading.BoundedSemaphore(env_int("KINLINK_PASSWORD_CHECKS_AT_ONCE", 2))
_TURN_WAIT_SECONDS = 3.0
# Verifying against this when the user does not exist keeps the timing of both answers alike.
_DUMMY_HASH = _HASHER.hash("not a password")
MIN_PASSWORD = 10


# --- users ---------------------------------------------------------------------------------------------


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > 100 or not all(c.isalnum() or c in "._-@" for c in name):
        raise refuse("invalid", "username", "a username is letters, digits and . _ - @ (up to 100)")
    return name


def _check_password(password: str) -> None:
    found = text_problem(password)
    if found:  # argon2 hashes bytes: a lone surrogate cannot even be encoded
        raise refuse("invalid", "password", found[0], **found[1])
    if len(password) < MIN_PASSWORD:
        raise refuse("invalid", "password", "a password needs at least %(n)s characters", n=MIN_PASSWORD)


def _check_display_name(display_name: str | None) -> None:
    found = text_problem(display_name, multiline=False)
    if found:
        raise refuse("invalid", "display_name", found[0], **found[1])


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise refuse("invalid", "role", "role must be one of %(roles)s", roles=", ".join(ROLES))


def create_user(
    session: Session, actor: str, username: str, password: str, role: str, display_name: str | None = None
) -> User:
    name = _check_username(username)
    _check_password(password)
    _check_display_name(display_name)
    _check_role(role)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise refuse("conflict", "username", "the username '%(name)s' is taken", name=name)
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
    by_user_id: int | None = None,
) -> User:
    """Change a user; `by_user_id` is the admin doing it, who may not lock themselves out."""
    user = session.get(User, user_id)
    if user is None:
        raise refuse("not_found", "user_id", "no user %(id)s", id=user_id)
    if user_id == by_user_id and (active is False or (role is not None and role != "admin")):
        raise refuse("invalid", "role", "you cannot disable yourself or drop your own admin role")
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        _check_role(role)
        changes["role"] = [user.role, role]
        user.role = role
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
    _check_display_name(display_name)
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
            # Every one of them: a password reset is how a leaked credential is answered, so a token kept
            # by whoever knew the old password must die with it.
            revoked = []
            for tok in session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            ):
                tok.revoked_at = utcnow()
                revoked.append(tok.id)
            if revoked:
                changes["tokens_revoked"] = revoked
        session.flush()
        audit(session, actor, "update", "user", user.id, changes)
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None. Refused (busy) when too many password checks
    are running to wait for a turn."""
    user = find_user(session, username)
    if not _PASSWORD_CHECKS.acquire(timeout=_TURN_WAIT_SECONDS):
        busy = refuse("busy", None, "too many people are signing in at once: try again in a few seconds")
        busy.retry_after = 5
        raise busy
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    finally:
        _PASSWORD_CHECKS.release()
    if user is None or not user.active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise refuse("not_found", "user_id", "no user %(id)s", id=user_id)
    return user
