"""Family pages: file a tracing request without an account, follow it with the reference and the secret
(sent in a POST body, never in a URL), read what may be disclosed, exchange messages."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from kinlink.accounts.sessions import open_session
from kinlink.errors import Refused
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.security import (
    CLEAN_URL,
    CSRF,
    EVERYONE,
    FAMILY,
    SESSION_COOKIE,
    Principal,
    RoleCheck,
    client_ip,
    page_roles,
    page_roles_in_route,
)
from kinlink.registry.attachments import fetch
from kinlink.store.db import unit_of_work
from kinlink.tracing.family_access import family_view, open_request, opened_view
from kinlink.tracing.intake import FIELDS, Filed, Filer, file_request
from kinlink.tracing.messages import from_family
from kinlink.web.pages.public import set_cookie
from kinlink.web.render import language, problems, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])
# The status page families reload, whose role dependency makes the URL's check (security.CLEAN_URL's note).
status_router = APIRouter(include_in_schema=False)
FORM_FIELDS = tuple(f for f in FIELDS if f != "language")  # the page's language is the enquirer's


@router.get("/request", dependencies=[page_roles(*EVERYONE)])
def request_form(request: Request) -> Response:
    return render(request, "family/request.html", values={}, errors={})


@router.post("/request", dependencies=[page_roles(*EVERYONE), CSRF])
async def request_file(request: Request, background: BackgroundTasks) -> Response:
    form = await request.form()
    values = {k: form.get(k) for k in FORM_FIELDS}
    values["language"] = language(request)
    filer = Filer("web:family", client_ip(request))

    def work() -> Filed:
        with unit_of_work(state.engine(request)) as s:
            return file_request(
                s,
                filer,
                values,
                matching=state.matching(request),
                limiter=state.limiter(request),
                mail=state.settings(request).mail,
            )

    try:
        filed = await run_in_threadpool(work)
    except Refused as e:
        if e.kind != "invalid":
            raise
        return render(request, "family/request.html", status_code=422, values=values, errors=problems(e))
    note = filed.notification
    if note is not None:
        deliver_later(background, request, [note], {note.id: filed.secret})
    return render(
        request,
        "family/filed.html",
        reference=filed.request.reference,
        secret=filed.secret,
        emailed=filed.emailed,
        email_given=note is not None,
    )


@router.get("/track", dependencies=[page_roles(*EVERYONE)])
def track_form(request: Request) -> Response:
    return render(request, "family/track.html")


@router.post("/track", dependencies=[page_roles(*EVERYONE), CSRF])
def track(request: Request, reference: str = Form(""), secret: str = Form("")) -> Response:
    try:
        req = open_request(
            state.engine(request), state.limiter(request), client_ip(request), reference, secret
        )
    except Refused as e:
        if e.kind != "too_many":
            raise
        wait = e.retry_after or 60
        page = render(
            request, "family/track.html", status_code=429, too_many=True, wait_minutes=-(-wait // 60)
        )
        page.headers["Retry-After"] = str(wait)
        return page
    if req is None:
        return render(request, "family/track.html", failed=True, reference=reference)
    minutes = state.settings(request).family_session_minutes
    with unit_of_work(state.engine(request)) as s:
        token = open_session(s, "family", minutes, request_id=req.id)
    resp = redirect("/family")
    set_cookie(resp, request, SESSION_COOKIE, token, minutes * 60)
    return resp


def _status_page(
    request: Request, who: Principal | RoleCheck, status_code: int = 200, **extra: object
) -> Response:
    def opened(conn: Connection) -> int:
        # The session read on the page's own connection: one pool checkout.
        principal = who(conn) if isinstance(who, RoleCheck) else who
        return principal.request_id or 0

    # The page families reload: a write (a disclosure) is rare, and the view needs no ORM Session without it.
    view = opened_view(state.engine(request), opened, "web")
    if view is None:
        return redirect("/track")
    return render(
        request,
        "family/status.html",
        status_code=status_code,
        reference=view.reference,
        state=view.state,
        outcome=view.outcome,
        messages=view.messages,
        view=view,
        verified=view.verified,
        **extra,
    )


@status_router.get("/family")
def family_status(request: Request, check: RoleCheck = page_roles_in_route(FAMILY)) -> Response:
    # The page families reload: one hop to a worker thread for the check and the page, the check made first
    # thing in the page's unit.
    return _status_page(request, check, sent=request.query_params.get("sent") == "1")


@router.post("/family/messages", dependencies=[CSRF])
def family_message(request: Request, body: str = Form(""), who: Principal = page_roles(FAMILY)) -> Response:
    try:
        with unit_of_work(state.engine(request)) as s:
            from_family(s, who.request_id or 0, body)
    except Refused as e:
        if e.kind != "invalid":
            raise
        return _status_page(request, who, 422, message_error=e, body=body)
    return redirect("/family?sent=1")


@router.get("/family/photo")
def family_photo(request: Request, who: Principal = page_roles(FAMILY)) -> Response:
    with unit_of_work(state.engine(request)) as s:
        view = family_view(s, who.request_id or 0, "web")
        photo_id = view.outcome.items.get("photo") if view else None
        if photo_id is None:
            return render(request, "error.html", status_code=404, status=404, detail="")
        row = fetch(s, who.actor, int(photo_id))
        # Without its file name, which staff chose and which may say more than the family may know.
        return Response(row.data, media_type=row.content_type)
