"""Pages anyone may open: home, language switch, style sheet, staff sign-in and sign-out."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, Response

from kinlink.accounts.sessions import close_session, sign_in
from kinlink.errors import Refused
from kinlink.http import state
from kinlink.http.middleware import is_secure
from kinlink.http.security import (
    CLEAN_URL,
    CSRF,
    EVERYONE,
    LANG_COOKIE,
    SESSION_COOKIE,
    client_ip,
    page_principal,
    page_roles,
)
from kinlink.i18n import LANGUAGES
from kinlink.store.db import unit_of_work
from kinlink.web.render import redirect, render, safe_next

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
        secure=is_secure(request.scope, state.settings(request)),
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
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=safe_next(next, ""))


@router.post("/login", dependencies=[page_roles(*EVERYONE), CSRF])
def login(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("")
) -> Response:
    settings = state.settings(request)
    back = safe_next(next, "")  # the page asked for before signing in: only a path of this site
    try:
        signed = sign_in(
            state.engine(request),
            state.limiter(request),
            client_ip(request),
            username,
            password,
            settings.staff_session_minutes,
        )
    except Refused as e:
        if e.kind != "too_many":
            raise
        wait = e.retry_after or 60
        page = render(request, "login.html", 429, wait_minutes=-(-wait // 60), username=username, next=back)
        page.headers["Retry-After"] = str(wait)
        return page
    if signed is None:
        return render(request, "login.html", failed=True, username=username, next=back)
    resp = redirect(back or HOME_OF_ROLE.get(signed.role, "/"))
    set_cookie(resp, request, SESSION_COOKIE, signed.token, settings.staff_session_minutes * 60)
    return resp


@router.post("/logout", dependencies=[page_roles(*EVERYONE), CSRF])
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with unit_of_work(state.engine(request)) as s:
            close_session(s, token)
    resp = redirect("/")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/staff", dependencies=[page_roles(*EVERYONE)])
def staff_home(request: Request) -> Response:
    p = page_principal(request)
    return redirect(HOME_OF_ROLE.get(p.role, "/"))
