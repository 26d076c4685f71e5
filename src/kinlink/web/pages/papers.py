"""Paper: a record's capture or internment card (registrars), certificates for families and their
revocation (caseworkers), and the public check of a certificate's code, /verify/CODE, which says only
whether it is genuine and current."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kinlink.errors import Refused
from kinlink.http import state
from kinlink.http.downloads import pdf_response
from kinlink.http.params import RowId
from kinlink.http.security import (
    CASEWORKER,
    CLEAN_URL,
    CSRF,
    EVERYONE,
    REGISTRAR,
    Principal,
    client_ip,
    page_roles,
)
from kinlink.registry.cards import write_card
from kinlink.registry.certificates import Issued, check_code, issue_certificate, revoke_certificate
from kinlink.store.db import unit_of_work
from kinlink.tracing.casefile import references
from kinlink.web.pages.caseworker import case_page
from kinlink.web.pages.registrar import _record_page
from kinlink.web.render import redirect, refusal_text, render, safe_next

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])
MAX_CODE = 60


@router.get("/records/{person_id}/cards/{kind}")
def record_card(
    request: Request, person_id: RowId, kind: str, languages: str = "", who: Principal = page_roles(REGISTRAR)
) -> Response:
    langs = tuple(x.strip() for x in languages.split(",") if x.strip())[:2] or None
    with unit_of_work(state.engine(request)) as s:
        card = write_card(s, who.actor, person_id, kind, languages=langs)
    return pdf_response(card.pdf, card.file_name)


def _issue(request: Request, who: Principal, ref: str, recipient: str | None, language: str) -> Issued:
    with unit_of_work(state.engine(request)) as s:
        return issue_certificate(
            s,
            who.actor,
            ref,
            base_url=state.settings(request).mail.base_url,
            recipient=recipient,
            language=language or None,
        )


@router.post("/records/{person_id}/certificate", dependencies=[CSRF])
def record_certificate(
    request: Request,
    person_id: RowId,
    recipient: str = Form(""),
    language: str = Form(""),
    who: Principal = page_roles(CASEWORKER),
) -> Response:
    try:
        issued = _issue(request, who, str(person_id), recipient, language)
    except Refused as e:
        if e.kind != "invalid":
            raise
        return _record_page(request, who, person_id, 422, certificate_error=refusal_text(request, e))
    return pdf_response(issued.pdf, issued.file_name)


@router.post("/cases/{request_id}/certificate", dependencies=[CSRF])
def case_certificate(
    request: Request, request_id: RowId, language: str = Form(""), who: Principal = page_roles(CASEWORKER)
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        reference = references(s, {request_id}).get(request_id)
    if reference is None:
        return render(request, "error.html", status_code=404, status=404, detail="")
    try:
        issued = _issue(request, who, reference, None, language)
    except Refused as e:
        if e.kind != "invalid":
            raise
        return case_page(request, who, request_id, 422, certificate_error=refusal_text(request, e))
    return pdf_response(issued.pdf, issued.file_name)


@router.post("/certificates/{certificate_id}/revoke", dependencies=[CSRF])
def certificate_revoke(
    request: Request,
    certificate_id: RowId,
    reason: str = Form(""),
    next: str = Form("/cases"),
    who: Principal = page_roles(CASEWORKER),
) -> Response:
    back = safe_next(next, "/cases")
    try:
        with unit_of_work(state.engine(request)) as s:
            revoke_certificate(s, who.actor, certificate_id, reason)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        return render(request, "error.html", status_code=422, status=422, detail=refusal_text(request, e))
    return redirect(back)


# --- anyone: is this certificate genuine and current? -------------------------------------------------------


@router.get("/verify", dependencies=[page_roles(*EVERYONE)])
def verify_form(request: Request) -> Response:
    return render(request, "verify.html", found=None)


@router.post("/verify", dependencies=[page_roles(*EVERYONE), CSRF])
def verify_post(code: str = Form("")) -> Response:
    key = "".join(ch for ch in code.upper() if ch.isalnum() or ch == "-")[:MAX_CODE]
    return redirect(f"/verify/{key}" if key else "/verify")


@router.get("/verify/{code}", dependencies=[page_roles(*EVERYONE)])
def verify_code(request: Request, code: str) -> Response:
    try:
        found = check_code(state.engine(request), state.limiter(request), client_ip(request), code[:MAX_CODE])
    except Refused as e:
        if e.kind != "too_many":
            raise
        wait = e.retry_after or 60
        page = render(
            request, "verify.html", status_code=429, found=None, too_many=True, wait_minutes=-(-wait // 60)
        )
        page.headers["Retry-After"] = str(wait)
        return page
    page = render(request, "verify.html", status_code=200 if found != "unknown" else 404, found=found)
    # The page says nothing about anyone, but a code in a search engine's index helps nobody.
    page.headers["x-robots-tag"] = "noindex"
    return page
