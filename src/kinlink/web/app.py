"""The FastAPI application: pages for families and staff, and the REST API under /api/v1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kinlink.matching.model import load_model
from kinlink.web.render import redirect, render
from kinlink.web.security import CSRF_COOKIE, NotSignedIn, RateLimiter, new_csrf_seed
from kinlink.web.settings import Settings

API_PREFIX = "/api/v1"
CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; object-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def is_secure(scope: Scope, settings: Settings) -> bool:
    return settings.secure_cookies or scope.get("scheme") == "https"


_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CSP.encode()),
    (b"cache-control", b"no-store"),
)
_SECURE_HEADERS = (*_HEADERS, (b"strict-transport-security", b"max-age=31536000"))


class SecurityHeaders:
    """Every response: no caching (pages carry personal data), no framing, no sniffing, a strict CSP;
    and every browser gets the random cookie its CSRF tokens are derived from."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seed = None
        cookie_header = dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1")
        if not scope["path"].startswith(API_PREFIX) and f"{CSRF_COOKIE}=" not in cookie_header:
            seed = new_csrf_seed()
            scope.setdefault("state", {})["csrf_seed"] = seed
        secure = is_secure(scope, self.settings)

        extra = _SECURE_HEADERS if secure else _HEADERS
        cookie = None
        if seed is not None:
            attrs = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
            cookie = (b"set-cookie", f"{CSRF_COOKIE}={seed}{attrs}".encode())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [h for h in extra if h[0] not in names]
                if cookie is not None:
                    headers.append(cookie)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Room for the other fields of a form and the multipart framing around an upload of the largest size.
FORM_OVERHEAD = 256 * 1024


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, field: str) -> None:
        super().__init__(413, f"the upload is larger than {limit // (1024 * 1024)} MB, the limit")
        self.field = field


class BodyLimit:
    """Refuses a request body over the limit with a 413 before reading it when its Content-Length says so,
    and otherwise as soon as the bytes received pass the limit (a chunked or lying upload): a body is never
    held in memory or spooled to disk whole before its size is known to be acceptable.

    The refusal is raised from `receive`, inside whatever reads the body (form parsing, `request.body()`), so
    the usual handlers answer it: JSON for the API, an error page for the site.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self.limit
        field = "file" if headers.get(b"content-type", b"").startswith(b"multipart/") else "body"
        received = 0

        async def limited() -> Message:
            nonlocal received
            if too_large:
                raise BodyTooLarge(self.upload_limit, field)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.upload_limit, field)
            return message

        await self.app(scope, limited, send)


class ApiError(Exception):
    """An API error: a clear message and the field at fault (JSON)."""

    def __init__(
        self, status: int, message: str, field: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.errors = errors or ([{"field": field, "message": message}] if field else [])


def api_error_body(
    message: str, field: str | None = None, errors: list[dict[str, Any]] | None = None
) -> dict:
    return {"error": {"message": message, "field": field, "errors": errors or []}}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path == "/openapi.json"


# The threads of a process that run requests' (blocking) database work are the settings'
# `request_threads`, fewer than the engine's pool holds (SQLAlchemy's default, 5 and 10 more on demand),
# so that under a burst requests wait their turn in the event loop instead of failing after waiting 30 s
# for a connection inside a thread.


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.settings.request_threads
    yield


def create_app(engine: Engine, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="kinlink",
        version="1",
        summary="Family tracing for people captured, missing or killed in armed conflict",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.limiter = RateLimiter(engine, settings.secret_key)
    app.state.model = load_model()

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return redirect("/login")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return JSONResponse(api_error_body(exc.message, exc.field, exc.errors), status_code=exc.status)

    # Starlette's own class: its router (404, 405) and its form parser (400) raise it, not FastAPI's subclass.
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return JSONResponse(
                api_error_body(str(exc.detail), getattr(exc, "field", None)),
                status_code=exc.status_code,
                headers=exc.headers,
            )
        return render(
            request, "error.html", status_code=exc.status_code, status=exc.status_code, detail=str(exc.detail)
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> Response:
        # A concurrent writer changed the row between our read and our write (the version check of the
        # ORM caught it): a conflict the client can resolve by reloading, not a server error.
        message = "someone else changed this meanwhile: reload it and try again"
        if _is_api(request):
            return JSONResponse(api_error_body(message, "version"), status_code=409)
        return render(request, "error.html", status_code=409, status=409, detail=message)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> Response:
        # SQLite has one writer at a time: a write that waited longer than its busy timeout (a big import
        # holds the lock for its whole transaction) is refused, its transaction rolled back. Say so, and
        # when to try again, rather than answer a bare 500.
        if "database is locked" not in str(exc.orig):
            raise exc
        message = "the database is busy with another write (an import, a batch match): try again shortly"
        headers = {"Retry-After": "10"}
        if _is_api(request):
            return JSONResponse(api_error_body(message), status_code=503, headers=headers)
        page = render(request, "error.html", status_code=503, status=503, detail=message)
        page.headers.update(headers)
        return page

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header", "cookie")]
            errors.append({"field": ".".join(loc) or None, "message": e.get("msg", "invalid")})
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        if _is_api(request):
            return JSONResponse(api_error_body(message, first["field"], errors), status_code=422)
        return render(request, "error.html", status_code=422, status=422, detail=message)

    from kinlink.api import routes as api_routes
    from kinlink.web.pages import family, public, staff

    # The routes themselves, not the routers: recent FastAPI keeps an included router as one nested entry
    # of app.routes, and app.routes must list every route (the role-walk test enumerates it).
    for router in (public.router, family.router, staff.router, api_routes.router):
        app.router.routes.extend(router.routes)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_upload_bytes + FORM_OVERHEAD,
        upload_limit=settings.max_upload_bytes,
    )
    app.add_middleware(SecurityHeaders, settings=settings)
    return app
