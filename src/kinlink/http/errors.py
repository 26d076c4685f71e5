"""Errors as the two HTTP doors answer them: JSON for the API, a page for the site.

The domain's refusals (`kinlink.errors.Refused`) are answered here, by their kind, the same way for every
route: the API gives the English message with the field at fault, a page gives it in the reader's
language. Routes only catch a refusal when they answer it otherwise (a form shown again with its errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kinlink.errors import Refused, problem, refuse
from kinlink.http.security import pending_check

API_PREFIX = "/api/v1"
STATUS = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "too_many": 429,
    "busy": 503,
    "forbidden": 403,
}
# (request, status, what went wrong: a refusal, or a plain English text) -> the site's error page
PageRenderer = Callable[[Request, int, "Refused | str"], Response]


class ApiError(Exception):
    """An API error raised by a route itself: a clear message and the field at fault (JSON)."""

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


def refusal_body(refused: Refused) -> dict:
    errors = [{"field": p.field, "message": p.text()} for p in refused.problems]
    first = refused.problems[0] if refused.problems else None
    message = (f"{first.field}: {first.text()}" if first.field else first.text()) if first else refused.kind
    return api_error_body(message, refused.field, errors)


def refusal_headers(refused: Refused) -> dict[str, str]:
    return {"Retry-After": str(refused.retry_after)} if refused.retry_after else {}


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path == "/openapi.json"


_STALE = "someone else changed this meanwhile: reload it and try again"
_BUSY = "the database is busy with another write (an import, a batch match): try again shortly"


def _printable(text: str) -> str:
    """A text fit to answer with: a field named by the client (a JSON key) may hold a lone surrogate, which
    UTF-8 cannot encode; answering it as such would end in a 500 instead of the 422 it is."""
    return text.encode("utf-8", "replace").decode("utf-8")


def install(
    app: FastAPI,
    page: PageRenderer,
    not_signed_in: type[Exception],
    to_sign_in: Callable[[Request, Exception], Response],
) -> None:
    """The exception handlers of the application: `page` renders the site's error page."""

    def answer(request: Request, refused: Refused) -> Response:
        status = STATUS[refused.kind]
        if is_api(request):
            return JSONResponse(refusal_body(refused), status_code=status, headers=refusal_headers(refused))
        response = page(request, status, refused)
        response.headers.update(refusal_headers(refused))
        return response

    @app.exception_handler(not_signed_in)
    async def _not_signed_in(request: Request, exc: Exception) -> Response:
        return to_sign_in(request, exc)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return answer(request, exc)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return JSONResponse(api_error_body(exc.message, exc.field, exc.errors), status_code=exc.status)

    # Starlette's own class: its router (404, 405) and its form parser (400) raise it, not FastAPI's subclass.
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request):
            return JSONResponse(
                api_error_body(str(exc.detail), getattr(exc, "field", None)),
                status_code=exc.status_code,
                headers=exc.headers,
            )
        return page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> Response:
        # A concurrent writer changed the row between our read and our write (the version check of the
        # ORM caught it): a conflict the client can resolve by reloading, not a server error.
        return answer(request, refuse("conflict", "version", _STALE))

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> Response:
        # SQLite has one writer at a time: a write that waited longer than its busy timeout (a big import
        # holds the lock for its whole transaction) is refused, its transaction rolled back. Say so, and
        # when to try again, rather than answer a bare 500.
        if "database is locked" not in str(exc.orig):
            raise exc
        return answer(request, Refused("busy", [problem(None, _BUSY)], retry_after=10))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        check = pending_check(request)
        if check is not None:  # a role check left to the route, which never ran: it answers first
            try:
                await run_in_threadpool(check)
            except not_signed_in as e:
                return to_sign_in(request, e)
            except StarletteHTTPException as e:
                return await _http_error(request, e)
        errors = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header", "cookie")]
            field = _printable(".".join(loc)) or None
            errors.append({"field": field, "message": _printable(str(e.get("msg", "invalid")))})
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        if is_api(request):
            return JSONResponse(api_error_body(message, first["field"], errors), status_code=422)
        return page(request, 422, message)
