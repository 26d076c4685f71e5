"""API tokens for staff clients: random, shown once, only their SHA-256 kept (a copy of the database lets
nobody in), revoked by their owner or with the user's role."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.store.account_models import ApiToken, User
from kinlink.store.audit import record as audit
from kinlink.store.driver import DriverRead
from kinlink.store.models import utcnow


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


TOKEN_PREFIX = "kl_"


def create_token(
    session: Session, actor: str, user_id: int, name: str, *, by_user_id: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for the user; the token itself is returned once and never stored.

    Only its own user mints a token (`by_user_id` is who asks): a token made by an admin for someone else
    would let the admin act as them while the audit blames them. An admin may still list and revoke other
    users' tokens. `by_user_id=None` is the machine's operator at the command line bootstrapping a user's
    first credential, explicit there and audited as the operator's act for that user."""
    if session.get(User, user_id) is None:
        raise refuse("not_found", "user_id", "no user %(id)s", id=user_id)
    if by_user_id is not None and by_user_id != user_id:
        raise refuse("forbidden", "user_id", "an API token can only be created by its own user")
    name = (name or "").strip()[:100] or "token"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=sha256(token), user_id=user_id, name=name)
    session.add(row)
    session.flush()
    audit(
        session,
        actor,
        "create",
        "api_token",
        row.id,
        {"user_id": user_id, "name": name, "by": "operator" if by_user_id is None else "owner"},
    )
    return row, token


def revoke_token(session: Session, actor: str, token_id: int, user_id: int | None = None) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise refuse("not_found", "token_id", "no token %(id)s", id=token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        audit(session, actor, "update", "api_token", row.id, {"revoked": True})


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


# Built once, as every API call and every signed-in page runs them: building and caching a statement costs
# more than the indexed read it makes.
_TOKEN_USER = DriverRead(  # on SQLite by the driver (issue 19)
    select(User.id, User.username, User.role, ApiToken.id)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None), User.active.is_(True)
    )
)


def user_for_token(conn: Connection, token: str) -> tuple[int, str, str, int] | None:
    """The (id, username, role, token id) of the active user holding this unrevoked API token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    # One indexed read, token and user together.
    row = _TOKEN_USER.first(conn, {"token_hash": sha256(token)})
    return None if row is None else (row[0], row[1], row[2], row[3])
