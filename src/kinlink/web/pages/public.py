"""Pages anyone may open: home, language switch, style sheet, staff sign-in and sign-out."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, Response

from kinlink.store.db import unit_of_work
from kinlink.web import accounts
from kinlink.web.app import is_secure
from kinlink.web.i18n import LANGUAGES
from kinlink.web.render import redirect, render, safe_next
from kinlink.web.security import (
    CLEAN_URL,
    CSRF,
    EVERYONE,
    LANG_COOKIE,
    SESSION_COOKIE,
    TooManyAttempts,
    client_ip,
    page_principal,
    page_roles,
)

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])
STYLE = Path(__file__).resolve().parents[1] / "templates" / "style.css"
HOME_OF_ROLE = {"registrar": "/records", "caseworker": "/queue", "admin": "/admin/users", "family": "/family"}


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request.scope, request.app.state.settings),
    )


@router.get("/", dependencies=[page_roles(*EVERYONE)])
def home(request: Request) -> Response:
    return render(request, "home.html")


@router.get("/healthz", dependencies=[page_roles(*EVERYONE)])
def healthz() -> Response:
    return PlainTextResponse("ok")


@router.get("/style.css", dependencies=[page_roles(*EVERYONE)])
def style() -> Response:
    resp = PlainTextResponse(STYLE.read_text(encoding="utf-8"), media_type="text/css")
    resp.headers["cache-control"] = "public, max-age=3600"
    return resp


@router.get("/lang/{code}", dependencies=[page_roles(*EVERYONE)])
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    resp = redirect(safe_next(next))
    if code in LANGUAGES:
        set_cookie(resp, request, LANG_COOKIE, code, 365 * 24 * 3600)
    return resp


@router.get("/login", dependencies=[page_roles(*EVERYONE)])
def login_form(request: Request) -> Response:
    return render(request, "login.html")


@router.post("/login", dependencies=[page_roles(*EVERYONE), CSRF])
def login(request: Request, username: str = Form(""), password: str = Form("")) -> Response:
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    # A failure until the password proves right (see RateLimiter).
    hits = limiter.take(
        [(("login-fail", client_ip(request)), settings.login_failures_per_ip)], settings.rate_window_seconds
    )
    if hits is None:
        raise TooManyAttempts()
    with unit_of_work(request.app.state.engine) as s:
        user = accounts.authenticate(s, username, password)
        if user is None:
            token = None
        else:
            token = accounts.open_session(s, "staff", settings.staff_session_minutes, user_id=user.id)
            role = user.role
    if token is None:
        return render(request, "login.html", failed=True, username=username)
    limiter.release(hits)  # after the commit: one connection at a time
    resp = redirect(HOME_OF_ROLE.get(role, "/"))
    set_cookie(resp, request, SESSION_COOKIE, token, settings.staff_session_minutes * 60)
    return resp


@router.post("/logout", dependencies=[page_roles(*EVERYONE), CSRF])
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with unit_of_work(request.app.state.engine) as s:
            accounts.close_session(s, token)
    resp = redirect("/")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/staff", dependencies=[page_roles(*EVERYONE)])
def staff_home(request: Request) -> Response:
    p = page_principal(request)
    return redirect(HOME_OF_ROLE.get(p.role, "/"))
