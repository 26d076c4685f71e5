"""Who is asking, and may they: sessions, API tokens, roles, CSRF and rate limits.

Every route declares its roles with `page_roles(...)` (browser, cookie session) or `api_roles(...)`
(REST, bearer token). The API never reads cookies, so it needs no CSRF check; every page form does.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Depends, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection

from kinlink.accounts.sessions import read_session
from kinlink.accounts.tokens import user_for_token
from kinlink.actor import Actor
from kinlink.person.text import describe
from kinlink.store.db import read_only_connection

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
    token_id: int | None = None  # the API token it came with, named in every audit entry

    @property
    def actor(self) -> str:
        """The name written to the audit log."""
        if self.username:
            credential = None if self.token_id is None else f"token:{self.token_id}"
            return Actor(f"web:{self.username}", credential)
        if self.request_id is not None:
            return f"family:request-{self.request_id}"
        return "web:anonymous"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


ANONYMOUS = Principal(ANON)


class NotSignedIn(Exception):
    """A page needs a sign-in: the browser is sent to the staff sign-in page (and back afterwards), or a
    family to the page where it opens its request with the reference and the secret."""

    def __init__(self, family: bool = False) -> None:
        super().__init__("not signed in")
        self.family = family


class Forbidden(HTTPException):
    def __init__(self, detail: str = "not allowed for your role") -> None:
        super().__init__(403, detail)


# --- finding the principal -----------------------------------------------------------------------------


T = TypeVar("T")


def _read_on(
    request: Request, conn: Connection | None, read: Callable[[Connection, str], T], token: str
) -> T:
    """`read(conn, token)` on the route's connection when given, else on a plain read-only connection (not an
    ORM session: this runs before every signed-in page and API call)."""
    if conn is not None:
        return read(conn, token)
    with read_only_connection(request.app.state.engine) as plain:
        return read(plain, token)


def page_principal(request: Request, conn: Connection | None = None) -> Principal:
    """Who is asking, from the browser's session: read on `conn` when given (the route's own connection,
    one pool checkout a request instead of two), else on a plain read-only connection."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = ANONYMOUS
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        info = _read_on(request, conn, read_session, token)
        if info is not None and info.kind == "staff":
            principal = Principal(info.role or ANON, info.user_id, info.username)
        elif info is not None:
            principal = Principal(FAMILY, request_id=info.request_id)
    request.state.principal = principal
    return principal


def _bearer_token(request: Request) -> str | None:
    """The token of an 'Authorization: Bearer <token>' header; None when none was sent."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if token and scheme.lower() == "bearer" else None


def api_principal(request: Request, conn: Connection | None = None) -> Principal:
    """Who is asking, from the request's API token: read on `conn` when given (as `page_principal`)."""
    token = _bearer_token(request)
    if token is None:
        return ANONYMOUS
    user = _read_on(request, conn, user_for_token, token.strip())
    if user is None:
        raise HTTPException(
            401,
            "the API token is not valid (revoked, or its user disabled)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user_id, username, role, token_id = user
    return Principal(role, user_id, username, token_id=token_id)


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
        raise NotSignedIn(family=FAMILY in roles and not any(r in STAFF for r in roles))
    raise Forbidden()


def page_roles(*roles: str) -> Any:
    """Dependency for a page route: the principal if its role is one of `roles`."""

    def dep(request: Request) -> Principal:
        return _check(page_principal(request), roles, api=False)

    dep.roles = roles  # type: ignore[attr-defined]
    return Depends(dep)


class RoleCheck:
    """A route's role check, made by calling it (`who = check()`) first thing in the route's own worker
    thread: a sync dependency is a hop to the threadpool and back of its own, which costs a page families
    reload or a search more CPU than the session's read (issue 19). A visitor who sent no session or token
    is answered in the event loop, as the plain dependency answers them (no read is needed). Should the
    route's parameters fail validation, the error handler makes the check first (`pending_check`), so that
    a failed check is still the answer, as when the dependency made it."""

    __slots__ = ("_api", "_request", "_roles", "done")

    def __init__(self, request: Request, roles: tuple[str, ...], api: bool) -> None:
        self._request, self._roles, self._api = request, roles, api
        self.done = False
        request.state.role_check = self

    def __call__(self, conn: Connection | None = None) -> Principal:
        """The principal if its role is one of the route's. Given the route's connection (a unit's, or the
        plain one a family's status page reads on, opened first thing), the session or token is read on it:
        one pool checkout and check-in a request fewer.
        The connection must be one that only reads until the check passes: a failed check writes nothing."""
        self.done = True
        # Made, the check is no longer pending: out of the request's state (whose dict the scope holds), so
        # that the two are no cycle. A request's objects (its scope, the server's cycle, the middlewares'
        # closures) are then freed by reference counting once it is answered, not left to the cyclic
        # collector, whose full collections stop a worker for up to a second at 1M records (docs/web-cpu.md).
        state = self._request.state
        if getattr(state, "role_check", None) is self:
            del state.role_check
        find = api_principal if self._api else page_principal
        return _check(find(self._request, conn), self._roles, api=self._api)


def pending_check(request: Request) -> RoleCheck | None:
    """The role check of the request's route when the route did not make it (its parameters failed)."""
    check = getattr(request.state, "role_check", None)
    return check if check is not None and not check.done else None


def page_roles_in_route(*roles: str) -> Any:
    """`page_roles` for a sync route that calls the `RoleCheck` it is given before anything else; with the
    URL's check (`checks_url`)."""

    async def dep(request: Request) -> RoleCheck:
        await clean_url(request)
        if not request.cookies.get(SESSION_COOKIE):
            _check(ANONYMOUS, roles, api=False)  # no session: answered here, as page_roles answers it
        return RoleCheck(request, roles, api=False)

    dep.roles = roles  # type: ignore[attr-defined]
    dep.checks_url = True  # type: ignore[attr-defined]
    return Depends(dep)


# Declared on every API route that needs a token, so that the OpenAPI spec says which do; the token itself
# is read and checked by `api_principal` (auto_error off: a missing token is answered as this API does).
API_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="apiToken",
    description="A staff member's API token (kl_...), as 'Authorization: Bearer <token>'.",
)


def api_roles(*roles: str) -> Any:
    if ANON in roles:

        def dep(request: Request) -> Principal:
            return _check(api_principal(request), roles, api=True)

    else:

        def dep(  # type: ignore[misc]
            request: Request, _: HTTPAuthorizationCredentials | None = Security(API_TOKEN)
        ) -> Principal:
            return _check(api_principal(request), roles, api=True)

    dep.roles = roles  # type: ignore[attr-defined]
    return Depends(dep)


def api_roles_in_route(*roles: str) -> Any:
    """`api_roles` (of staff roles) for a sync route that calls the `RoleCheck` it is given before anything
    else; with the URL's check (`checks_url`)."""
    assert ANON not in roles

    async def dep(
        request: Request, _: HTTPAuthorizationCredentials | None = Security(API_TOKEN)
    ) -> RoleCheck:
        await clean_url(request)
        if _bearer_token(request) is None:
            _check(ANONYMOUS, roles, api=True)  # no token: answered here, as api_roles answers it
        return RoleCheck(request, roles, api=True)

    dep.roles = roles  # type: ignore[attr-defined]
    dep.checks_url = True  # type: ignore[attr-defined]
    return Depends(dep)


# --- CSRF ----------------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The token forms carry: an HMAC of the browser's random CSRF cookie (set by middleware)."""
    seed = getattr(request.state, "csrf_seed", None) or request.cookies.get(CSRF_COOKIE) or ""
    key = request.app.state.settings.secret_key.encode()
    return hmac.digest(key, seed.encode(), "sha256").hex()  # hmac.new(...).hexdigest() in one C call


def new_csrf_seed() -> str:
    return secrets.token_urlsafe(24)


async def csrf_protect(request: Request) -> None:
    """Dependency of every page form: the posted token must match this browser's cookie; and, since every
    form passes here, no field may hold a control character, a lone surrogate or a bidi override."""
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
        reason = describe(value)
        if reason:
            errors.append(
                {
                    "loc": (where, name),
                    "msg": reason,
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
# The hottest routes (a family's status page, the staff search) are each on a router of their own without
# CLEAN_URL, their role dependency (`page_roles_in_route`, `api_roles_in_route`) making the same check first
# thing: each dependency FastAPI solves costs a request ~75,000 instructions of its machinery, ~4 % of a
# status check (issue 19). Every route makes the check one way or the other (tests/web/test_roles.py).


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
