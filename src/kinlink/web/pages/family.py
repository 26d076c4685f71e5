"""Family pages: file a tracing request without an account, follow it with the reference and the secret
(sent in a POST body, never in a URL), read what may be disclosed, exchange messages."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import Response

from kinlink.store.db import session_factory, unit_of_work
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing import requests as request_service
from kinlink.web import accounts, attachments, cases, disclosure, messages, notify
from kinlink.web.pages.public import set_cookie
from kinlink.web.render import language, redirect, render
from kinlink.web.security import (
    CLEAN_URL,
    CSRF,
    EVERYONE,
    FAMILY,
    SESSION_COOKIE,
    Principal,
    TooManyAttempts,
    client_ip,
    page_roles,
)

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])

REQUEST_FIELDS = (
    "full_name",
    "other_names",
    "sex",
    "birth_date",
    "place_of_birth",
    "rank",
    "unit",
    "service_number",
    "capture_place",
    "capture_date",
    "last_seen",
    "enquirer_name",
    "relationship",
    "contact",
    "agree",
)


def check_family(request: Request, reference: str, secret: str) -> TracingRequest | None:
    """The request these credentials open, within the rate limits (raises TooManyAttempts)."""
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    window = settings.rate_window_seconds
    ip = client_ip(request)
    ref = reference.strip().upper()[:40]
    failures = [("family-fail-ip", ip), ("family-fail-ref", ref)]
    # Counted as a failure until the secret proves right, so that concurrent guesses cannot slip past.
    hits = limiter.take(
        [
            (("family-check", ip), settings.family_checks_per_ip),
            (failures[0], settings.family_failures_per_ip),
            (failures[1], settings.family_failures_per_reference),
        ],
        window,
    )
    if hits is None:
        raise TooManyAttempts()
    req = None
    if ref and secret:
        with session_factory(request.app.state.engine)() as s:
            found = request_service.find_request(s, ref)
        # Verified with the connection back in the pool: argon2 takes a while, on purpose.
        req = request_service.verify_secret(found, secret.strip())
    if req is not None:
        limiter.release(hits, failures)
    return req


@router.get("/request", dependencies=[page_roles(*EVERYONE)])
def request_form(request: Request) -> Response:
    return render(request, "family/request.html", values={}, errors={})


@router.post("/request", dependencies=[page_roles(*EVERYONE), CSRF])
async def file_request(request: Request, background: BackgroundTasks) -> Response:
    form = await request.form()
    values = {k: form.get(k) for k in REQUEST_FIELDS}
    values["language"] = language(request)
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    key = ("file-request", client_ip(request))
    from starlette.concurrency import run_in_threadpool

    hits = await run_in_threadpool(
        limiter.take, [(key, settings.requests_filed_per_ip)], settings.rate_window_seconds
    )
    if hits is None:
        raise TooManyAttempts()

    def work() -> tuple[str, str, int | None] | dict[str, list[cases.FieldError]]:
        try:
            with unit_of_work(request.app.state.engine) as s:
                req, secret, note = cases.file_request(
                    s, "web:family", values, match=settings.match_on_write, model=request.app.state.model
                )
                return req.reference, secret, (note.id if note else None)
        except cases.FieldErrors as e:
            out: dict[str, list[cases.FieldError]] = {}
            for err in e.errors:
                out.setdefault(err.field, []).append(err)
            return out

    result = await run_in_threadpool(work)
    if isinstance(result, dict):
        await run_in_threadpool(limiter.release, hits)  # a refused form files nothing
        return render(request, "family/request.html", status_code=422, values=values, errors=result)
    reference, secret, note_id = result
    if note_id is not None:
        background.add_task(
            notify.send_after_response, request.app.state.engine, settings, [note_id], {note_id: secret}
        )
    return render(
        request, "family/filed.html", reference=reference, secret=secret, emailed=note_id is not None
    )


@router.get("/track", dependencies=[page_roles(*EVERYONE)])
def track_form(request: Request) -> Response:
    return render(request, "family/track.html")


@router.post("/track", dependencies=[page_roles(*EVERYONE), CSRF])
def track(request: Request, reference: str = Form(""), secret: str = Form("")) -> Response:
    try:
        req = check_family(request, reference, secret)
    except TooManyAttempts:
        return render(request, "family/track.html", status_code=429, too_many=True)
    if req is None:
        return render(request, "family/track.html", failed=True, reference=reference)
    settings = request.app.state.settings
    with unit_of_work(request.app.state.engine) as s:
        token = accounts.open_session(s, "family", settings.family_session_minutes, request_id=req.id)
    resp = redirect("/family")
    set_cookie(resp, request, SESSION_COOKIE, token, settings.family_session_minutes * 60)
    return resp


@router.get("/family")
def family_status(request: Request, who: Principal = page_roles(FAMILY)) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        req = s.get(TracingRequest, who.request_id)
        if req is None:
            return redirect("/track")
        outcome = disclosure.disclose(s, req, "web")
        msgs = messages.for_family(s, req.id)
        reference, state = req.reference, req.state
    return render(
        request,
        "family/status.html",
        reference=reference,
        state=state,
        outcome=outcome,
        messages=msgs,
        sent=request.query_params.get("sent") == "1",
    )


@router.post("/family/messages", dependencies=[CSRF])
def family_message(request: Request, body: str = Form(""), who: Principal = page_roles(FAMILY)) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            messages.from_family(s, who.request_id or 0, body)
    except messages.MessageError as e:
        with unit_of_work(request.app.state.engine) as s:
            req = s.get(TracingRequest, who.request_id)
            assert req is not None
            outcome = disclosure.disclose(s, req, "web")
            msgs = messages.for_family(s, req.id)
            reference, state = req.reference, req.state
        return render(
            request,
            "family/status.html",
            status_code=422,
            reference=reference,
            state=state,
            outcome=outcome,
            messages=msgs,
            message_error=str(e),
            body=body,
        )
    return redirect("/family?sent=1")


@router.get("/family/photo")
def family_photo(request: Request, who: Principal = page_roles(FAMILY)) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        req = s.get(TracingRequest, who.request_id)
        outcome = disclosure.disclose(s, req, "web") if req is not None else None
        photo_id = outcome.items.get("photo") if outcome else None
        if photo_id is None:
            return render(request, "error.html", status_code=404, status=404, detail="")
        row = attachments.fetch(s, who.actor, int(photo_id))
        assert row is not None
        data, ctype = row.data, row.content_type
    return Response(data, media_type=ctype)
