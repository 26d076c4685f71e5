"""Who is asking, and may they: sessions, API tokens, roles, CSRF and rate limits.

Every route declares its roles with `page_roles(...)` (browser, cookie session) or `api_roles(...)`
(REST, bearer token). The API never reads cookies, so it needs no CSRF check; every page form does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine, delete, func, insert, select

from kinlink.registry.fields import control_character
from kinlink.store.web_models import RateLimitHit
from kinlink.web import accounts

SESSION_COOKIE = "kl_session"
CSRF_COOKIE = "kl_csrf"
LANG_COOKIE = "kl_lang"

ANON = "anonymous"
FAMILY = "family"
REGISTRAR = "registrar"
CASEWORKER = "caseworker"
ADMIN = "admin"
STAFF = (REGISTRAR, CASEWORKER, ADMIN)
EVERYONE = (ANON, FAMILY, *STAFF)


@dataclass(frozen=True)
class Principal:
    role: str  # anonymous | family | registrar | caseworker | admin
    user_id: int | None = None
    username: str | None = None
    request_id: int | None = None  # for a family: the request its code and secret opened

    @property
    def actor(self) -> str:
        """The name written to the audit log."""
        if self.username:
            return f"web:{self.username}"
        if self.request_id is not None:
            return f"family:request-{self.request_id}"
        return "web:anonymous"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


ANONYMOUS = Principal(ANON)


class NotSignedIn(Exception):
    """A page needs a staff sign-in: the browser is sent to the sign-in page."""


class Forbidden(HTTPException):
    def __init__(self, detail: str = "not allowed for your role") -> None:
        super().__init__(403, detail)


# --- finding the principal -----------------------------------------------------------------------------


def page_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = ANONYMOUS
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        # A plain connection, not an ORM session: this runs before every signed-in page.
        with request.app.state.engine.connect() as conn:
            info = accounts.read_session(conn, token)
        if info is not None and info.kind == "staff":
            principal = Principal(info.role or ANON, info.user_id, info.username)
        elif info is not None:
            principal = Principal(FAMILY, request_id=info.request_id)
    request.state.principal = principal
    return principal


def api_principal(request: Request) -> Principal:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if not token or scheme.lower() != "bearer":
        return ANONYMOUS
    with request.app.state.engine.connect() as conn:
        user = accounts.user_for_token(conn, token.strip())
    if user is None:
        raise HTTPException(
            401,
            "the API token is not valid (revoked, or its user disabled)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user_id, username, role = user
    return Principal(role, user_id, username)


def _check(principal: Principal, roles: tuple[str, ...], api: bool) -> Principal:
    if principal.role in roles:
        return principal
    if principal.role == ANON:
        if api:
            raise HTTPException(
                401,
                "sign in: send an API token as 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise NotSignedIn()
    raise Forbidden()


def page_roles(*roles: str) -> Any:
    """Dependency for a page route: the principal if its role is one of `roles`."""

    def dep(request: Request) -> Principal:
        return _check(page_principal(request), roles, api=False)

    dep.roles = roles  # type: ignore[attr-defined]
    return Depends(dep)


def api_roles(*roles: str) -> Any:
    def dep(request: Request) -> Principal:
        return _check(api_principal(request), roles, api=True)

    dep.roles = roles  # type: ignore[attr-defined]
    return Depends(dep)


# --- CSRF ----------------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The token forms carry: an HMAC of the browser's random CSRF cookie (set by middleware)."""
    seed = getattr(request.state, "csrf_seed", None) or request.cookies.get(CSRF_COOKIE) or ""
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, seed.encode(), hashlib.sha256).hexdigest()


def new_csrf_seed() -> str:
    return secrets.token_urlsafe(24)


async def csrf_protect(request: Request) -> None:
    """Dependency of every page form: the posted token must match this browser's cookie; and, since every
    form passes here, no field may hold a control character."""
    form = await request.form()
    sent = form.get("csrf_token")
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise Forbidden("the form has expired or did not come from this site: reload the page and try again")
    _refuse_control_characters("body", [(k, v) for k, v in form.multi_items() if isinstance(v, str)])


CSRF = Depends(csrf_protect)


def _refuse_control_characters(where: str, items: list[tuple[str, str]]) -> None:
    errors = []
    for name, value in items:
        bad = control_character(value)
        if bad:
            errors.append(
                {
                    "loc": (where, name),
                    "msg": f"contains a control character ({bad}): remove it",
                    "type": "value_error",
                }
            )
    if errors:
        raise RequestValidationError(errors)


async def clean_url(request: Request) -> None:
    """Dependency of every route: no control character in the path or the query string. None belongs in a
    name, an id or a search, and PostgreSQL cannot even compare a text holding NUL.

    Async, as it does no I/O: FastAPI runs a plain function dependency in a worker thread, a hop that
    would cost every request more than the check itself."""
    _refuse_control_characters("path", [(k, str(v)) for k, v in request.path_params.items()])
    _refuse_control_characters("query", list(request.query_params.multi_items()))


CLEAN_URL = Depends(clean_url)


# --- rate limits ---------------------------------------------------------------------------------------


Limit = tuple[tuple[str, str], int]  # (what is limited, e.g. ("login-fail", address)), the most per window


class RateLimiter:
    """Sliding-window limits counted in the database, so that every worker process of the server (and
    every server on the same database) counts against the same limit.

    An attempt is counted before it is made and taken back when it turns out not to count (a right
    secret is not a failure): each count is committed before the limit is checked, so concurrent
    attempts, in any process, never let more than the limit through (a burst past the limit may be
    refused whole). What is limited (an address, a reference) is stored only as a keyed hash.
    """

    SWEEP_EVERY = 100  # attempts between sweeps of old hits

    def __init__(self, engine: Engine, secret: str) -> None:
        self.engine = engine
        self._secret = secret.encode()
        self._calls = 0
        self._lock = threading.Lock()

    def _bucket(self, key: tuple[str, str]) -> str:
        return hmac.new(self._secret, "\x1f".join(key).encode(), hashlib.sha256).hexdigest()

    def take(self, limits: Sequence[Limit], window: float) -> dict[tuple[str, str], int] | None:
        """Count one attempt under each limit; the hits (to `release`), or None, counting nothing, if any
        limit is then exceeded."""
        now = time.time()
        buckets = [self._bucket(key) for key, _ in limits]
        with self._lock:
            self._calls += 1
            sweep_all = self._calls % self.SWEEP_EVERY == 0
        with self.engine.begin() as conn:
            # Hits out of the window are dropped as new ones come; now and then every old one (addresses
            # not seen again). All limits share one window, so a day at least is safe to drop.
            conn.execute(
                delete(RateLimitHit).where(RateLimitHit.bucket.in_(buckets), RateLimitHit.at <= now - window)
            )
            if sweep_all:
                conn.execute(delete(RateLimitHit).where(RateLimitHit.at <= now - max(window, 86400)))
            ids = [
                conn.execute(
                    insert(RateLimitHit).values(bucket=b, at=now).returning(RateLimitHit.id)
                ).scalar_one()
                for b in buckets
            ]
        with self.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(RateLimitHit.bucket, func.count())
                    .where(RateLimitHit.bucket.in_(buckets), RateLimitHit.at > now - window)
                    .group_by(RateLimitHit.bucket)
                ).all()
            )
        hits = {key: hit_id for (key, _), hit_id in zip(limits, ids, strict=True)}
        if any(counts.get(b, 0) > most for b, (_, most) in zip(buckets, limits, strict=True)):
            self.release(hits)
            return None
        return hits

    def release(
        self, hits: dict[tuple[str, str], int], keys: Sequence[tuple[str, str]] | None = None
    ) -> None:
        """Take back the attempts counted under these keys (all of `hits` by default)."""
        ids = [hits[k] for k in (hits if keys is None else keys) if k in hits]
        if ids:
            with self.engine.begin() as conn:
                conn.execute(delete(RateLimitHit).where(RateLimitHit.id.in_(ids)))


class TooManyAttempts(HTTPException):
    def __init__(self) -> None:
        super().__init__(429, "too many attempts: wait and try again later", headers={"Retry-After": "600"})


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
