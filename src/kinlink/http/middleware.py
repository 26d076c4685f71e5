"""Middleware every response passes through: security headers, the CSRF seed cookie, the body size limit."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kinlink.http.errors import API_PREFIX
from kinlink.http.security import CSRF_COOKIE, new_csrf_seed
from kinlink.http.settings import Settings

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
