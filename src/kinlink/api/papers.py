"""/api/v1/requests/{id}/verification: how a request's enquirer was verified (caseworkers); a record's
capture or internment card (registrars); certificates for families and their revocation (caseworkers)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response

from kinlink.api import schemas
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.downloads import pdf_response
from kinlink.http.errors import ApiError
from kinlink.http.params import RowId
from kinlink.http.security import CASEWORKER, CLEAN_URL, REGISTRAR, Principal, api_roles
from kinlink.registry.cards import write_card
from kinlink.registry.certificates import issue_certificate, revoke_certificate
from kinlink.store.db import unit_of_work
from kinlink.tracing import verification

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["papers"])
PDF = {200: {"content": {"application/pdf": {}}}}


@router.get("/requests/{request_id}/verification", response_model=schemas.VerificationOut)
def get_verification(
    request: Request, request_id: RowId, who: Principal = api_roles(CASEWORKER)
) -> schemas.VerificationOut:
    """The verification of the enquirer that stands (404 while there is none)."""
    with unit_of_work(state.engine(request)) as s:
        row = verification.read_verification(s, who.actor, request_id, "api")
        if row is None:
            raise ApiError(404, "the enquirer of this request is not verified", "request_id")
        return schemas.VerificationOut.model_validate(row)


@router.post("/requests/{request_id}/verification", status_code=201, response_model=schemas.VerificationOut)
def verify(
    request: Request,
    request_id: RowId,
    body: schemas.VerificationIn,
    background: BackgroundTasks,
    who: Principal = api_roles(CASEWORKER),
) -> schemas.VerificationOut:
    """Record how the enquirer was verified: until then the family is told only that its request is
    being handled."""
    with unit_of_work(state.engine(request)) as s:
        done = verification.record_verification(
            s, who.actor, request_id, body.method, body.relationship, body.note
        )
        out = schemas.VerificationOut.model_validate(done.verification)
    deliver_later(background, request, done.notifications)
    return out


@router.post("/requests/{request_id}/verification/withdraw", response_model=schemas.VerificationOut)
def withdraw(
    request: Request, request_id: RowId, body: schemas.WithdrawIn, who: Principal = api_roles(CASEWORKER)
) -> schemas.VerificationOut:
    with unit_of_work(state.engine(request)) as s:
        row = verification.withdraw_verification(s, who.actor, request_id, body.reason)
        return schemas.VerificationOut.model_validate(row)


@router.get("/records/{person_id}/cards/{kind}", responses=PDF)
def card(
    request: Request, person_id: RowId, kind: str, languages: str = "", who: Principal = api_roles(REGISTRAR)
) -> Response:
    """The record's capture or internment card as a PDF (languages: e.g. ru,uk; default the person's and
    the bureau's)."""
    langs = tuple(x.strip() for x in languages.split(",") if x.strip())[:2] or None
    with unit_of_work(state.engine(request)) as s:
        written = write_card(s, who.actor, person_id, kind, languages=langs)
    return pdf_response(written.pdf, written.file_name)


@router.post("/certificates", status_code=201, responses={201: {"content": {"application/pdf": {}}}})
def certificate(
    request: Request, body: schemas.CertificateIn, who: Principal = api_roles(CASEWORKER)
) -> Response:
    """Issue a certificate: the PDF, with its serial number and verification code in the headers
    X-Certificate-Serial and X-Certificate-Code (the code is not kept: it is shown this once)."""
    with unit_of_work(state.engine(request)) as s:
        issued = issue_certificate(
            s,
            who.actor,
            body.ref,
            base_url=state.settings(request).mail.base_url,
            recipient=body.recipient,
            language=body.language,
        )
        serial = issued.certificate.serial
    resp = pdf_response(issued.pdf, issued.file_name)
    resp.status_code = 201
    resp.headers["x-certificate-serial"] = serial
    resp.headers["x-certificate-code"] = issued.code
    return resp


@router.post("/certificates/{certificate_id}/revoke")
def revoke(
    request: Request, certificate_id: RowId, body: schemas.RevokeIn, who: Principal = api_roles(CASEWORKER)
) -> dict:
    with unit_of_work(state.engine(request)) as s:
        cert = revoke_certificate(s, who.actor, certificate_id, body.reason)
        return {"id": cert.id, "serial": cert.serial, "revoked_at": cert.revoked_at}
