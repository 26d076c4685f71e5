"""Server-side rendering: Jinja2 templates with the request's language, principal and CSRF token."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from types import FunctionType, MethodType
from typing import Any
from urllib.parse import quote

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.runtime import Context

from kinlink.errors import Problem, Refused
from kinlink.http.security import LANG_COOKIE, csrf_token, page_principal
from kinlink.i18n import LANGUAGES, gettext_for, negotiate, translations
from kinlink.matching.evidence import probability_band, stored_message

TEMPLATES = Path(__file__).with_name("templates")


# A function, or a bound method (`pgettext`), whose marks (`pass_context`...) are its function's.
_PLAIN = (FunctionType, MethodType)


class PageContext(Context):
    """A template's context whose calls of a plain function (`_`, `day`, `band`...) skip the lookups Jinja
    makes for a callable that asks for the context or the environment: a page calls `_` a few dozen
    times, through `Context.call` at ~1.5 µs a call against ~0.4 here (a status check's page 26 times,
    ~5 % of its CPU, issue 19). Anything else, and a function marked with `pass_context` and the like, goes
    the usual way. What a call gives is Jinja's: the loop's and block's variables Jinja passes along are
    not the function's arguments, and a StopIteration raised is an undefined value."""

    # Context.call's names: a template may pass any keyword (`self`, `obj`) on to the function.
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if type(__obj) not in _PLAIN or hasattr(__obj, "jinja_pass_arg"):
            return Context.call(__self, __obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # installed templates do not change under a running server: no stat per page
    )
    env.context_class = PageContext
    env.filters["pct"] = lambda p: "" if p is None else f"{100 * float(p):.1f}%"
    env.filters["when"] = lambda d: "" if d is None else d.strftime("%Y-%m-%d %H:%M")
    # A probability in words and an explanation's stored evidence, as messages the page renders with its `_`.
    env.globals["band"] = probability_band
    env.globals["said"] = stored_message
    return env


# Babel's locale for each language of the site ('en' alone is American: the site writes British English).
LOCALES = {"en": "en_GB"}


@cache
def babel_locale(lang: str) -> Locale:
    """Babel's locale of a language, parsed once: given its name, each date Babel formats parses it again
    (a third to a half of the formatting's time)."""
    return Locale.parse(LOCALES.get(lang, lang))


def day_text(value: str | date | None, lang: str | Locale) -> str:
    """A partial ISO date in the reader's words: '2022-08-04' -> '4 August 2022' (4 августа 2022 г.),
    '2022-08' -> 'August 2022', '2022' -> '2022'; what cannot be read is shown as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return format_date(value, "long", locale=lang)
    text = str(value)
    try:
        if len(text) == 10:
            return format_date(date.fromisoformat(text), "long", locale=lang)
        if len(text) == 7:
            return format_skeleton("yMMMM", date(int(text[:4]), int(text[5:7]), 1), locale=lang)
    except ValueError:
        return text
    return text


@lru_cache(maxsize=4096)
def _day_in(value: str | date, lang: str) -> str:
    return day_text(value, babel_locale(lang))


def page_day(value: str | date | None, lang: str) -> str:
    """`day_text` on a page: a plain date's or text's words kept (a status check shows the day its request was
    filed, the same words at every reload: Babel's formatting was ~4 % of a status check, issue 19). Other
    values (a datetime: an aware one equals another zone's of the same instant, whose day may differ) are
    formatted each time."""
    if type(value) is date or type(value) is str:
        return _day_in(value, lang)
    return day_text(value, babel_locale(lang))


def when_text(value: datetime | None, lang: str | Locale) -> str:
    """A moment (stored in UTC) in the reader's words, to the minute."""
    if value is None:
        return ""
    return format_datetime(value, "d MMM y, HH:mm", tzinfo=None, locale=lang)


def language(request: Request) -> str:
    cached = getattr(request.state, "lang", None)
    if cached:
        return cached
    lang = negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))
    request.state.lang = lang
    return lang


def translator(request: Request):  # type: ignore[no-untyped-def]
    return gettext_for(language(request))


# What makes Starlette's `request.url.path` other than the scope's path: it escapes ?, # and \ (which a
# request's path can hold decoded), urlsplit drops tabs and line breaks, and a path starting with // is
# written otherwise when the request named no host.
_NOT_AS_IS = frozenset("?#\\\t\r\n")


def page_path(request: Request) -> str:
    """`request.url.path` without building the URL (~15-30 µs a page, issue 19): the scope's path when it
    holds nothing the URL writes otherwise, else the URL's."""
    path: str = request.scope["path"]
    if path.startswith("/") and not path.startswith("//") and _NOT_AS_IS.isdisjoint(path):
        return path
    return request.url.path


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    ctx = {
        "request": request,
        "_": gettext_for(lang),
        # A word that means different things in different places ("German": the language of a name, or a
        # transliteration convention) is translated in its context.
        "pgettext": translations(lang).pgettext,
        "lang": lang,
        "languages": LANGUAGES,
        "principal": page_principal(request),
        "csrf_token": csrf_token(request),
        "path": page_path(request),
        "day": lambda v: page_day(v, lang),
        "moment": lambda v: when_text(v, babel_locale(lang)),
        **context,
    }
    html = environment().get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)


def redirect(url: str) -> Response:
    # 303: after a POST the browser GETs the next page, so a reload does not post again.
    return RedirectResponse(url, status_code=303)


def form_int(value: Any) -> int | None:
    """A form's number (a version, an id), or None when it holds none."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def safe_next(url: str | None, default: str = "/") -> str:
    """Only paths on this site (no scheme, no //host): no open redirects. Browsers drop tabs and line
    breaks from a URL and read a backslash as a slash, so "/\t/evil.example" would leave the site: any
    control character, space or backslash refuses the path."""
    if (
        url
        and url.startswith("/")
        and not url.startswith("//")
        and not any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in url)
        and len(url) <= 2000
    ):
        return url
    return default


def problems(refused: Refused) -> dict[str, list[Problem]]:
    """A refusal's problems by field, for a form shown again with each field's errors beside it."""
    return dict(refused.by_field())


def refusal_text(request: Request, refused: Refused) -> str:
    """What a refusal says, in the reader's language."""
    _ = translator(request)
    return "; ".join(p.text(_) for p in refused.problems)


def error_page(request: Request, status: int, what: Refused | str) -> Response:
    """The site's error page: a refusal in the reader's language, or a plain text (404s and the like)."""
    detail = refusal_text(request, what) if isinstance(what, Refused) else what
    wait = what.retry_after if isinstance(what, Refused) else None
    return render(
        request,
        "error.html",
        status_code=status,
        status=status,
        detail=detail,
        wait_minutes=-(-wait // 60) if wait else None,
    )


def sign_in_first(request: Request, exc: Exception) -> Response:
    """A page that needs a signed-in user: the sign-in page, which comes back here afterwards (a family's
    page: where the family opens its request)."""
    if getattr(exc, "family", False):
        return redirect("/track")
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={quote(here, safe='')}")
