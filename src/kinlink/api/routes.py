"""The REST API (/api/v1): records and their events, sightings and documents, requests, candidates and
decisions, messages, users, PFIF. Staff clients send `Authorization: Bearer <token>`; the two family
endpoints take the reference and the secret in the POST body. Errors are JSON:
`{"error": {"message": ..., "field": ..., "errors": [{"field", "message"}]}}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.api import pfif, schemas
from kinlink.registry.audit import record as audit
from kinlink.registry.fields import CONSENT_COLUMNS
from kinlink.store.db import unit_of_work
from kinlink.store.models import Person
from kinlink.store.tracing_models import TracingRequest
from kinlink.store.web_models import Message, Notification, User
from kinlink.tracing import candidates as candidate_service
from kinlink.web import accounts, attachments, cases, disclosure, messages, notify, records
from kinlink.web.app import ApiError
from kinlink.web.params import Offset, QueryId, RowId
from kinlink.web.security import (
    ADMIN,
    CASEWORKER,
    CLEAN_URL,
    EVERYONE,
    REGISTRAR,
    STAFF,
    Principal,
    TooManyAttempts,
    api_roles,
    client_ip,
)

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL])
READERS = (REGISTRAR, CASEWORKER)
SIGHTING_STATUS = {"killed": "died", "surrendered": "captured"}


def _send(
    background: BackgroundTasks,
    request: Request,
    notes: list[Notification | None],
    secrets: dict[int, str] | None = None,
) -> None:
    ids = [n.id for n in notes if n is not None]
    if ids:
        background.add_task(
            notify.send_after_response, request.app.state.engine, request.app.state.settings, ids, secrets
        )


def _engine(request: Request) -> Any:
    return request.app.state.engine


def _row_error(e: records.RecordError) -> ApiError:
    errs = [{"field": x.column, "message": x.reason} for x in e.errors]
    return ApiError(422, f"{errs[0]['field']}: {errs[0]['message']}", errs[0]["field"], errs)


def _field_error(e: cases.FieldErrors) -> ApiError:
    errs = [{"field": x.field, "message": x.text()} for x in e.errors]
    return ApiError(422, f"{errs[0]['field']}: {errs[0]['message']}", errs[0]["field"], errs)


def _summary(p: records.Listed, probability: float | None = None) -> schemas.RecordSummary:
    return schemas.RecordSummary(
        id=p.id,
        source=p.source,
        record_id=p.source_record_id,
        full_name=p.full_name,
        sex=p.sex,
        birth_date=p.birth_date,
        unit=p.unit,
        status=p.status,
        status_date=p.status_date,
        probability=probability,
    )


FIELDS = (
    "age",
    "age_as_of",
    "place_of_birth",
    "nationality",
    "power",
    "rank",
    "service_number",
    "father_name",
    "mother_maiden_name",
    "inform_name",
    "inform_address",
    "distinguishing_marks",
    "location",
    "notes",
)


def _record_out(p: Person) -> schemas.RecordOut:
    return schemas.RecordOut(
        **_summary(records.Listed.of(p)).model_dump(),
        version=p.version,
        names=[schemas.NameOut.model_validate(n) for n in p.names],
        fields={f: getattr(p, f) for f in FIELDS},
        consent={c: bool(getattr(p, c)) for c in CONSENT_COLUMNS},
        events=[schemas.EventOut.model_validate(e) for e in p.events],
    )


def _body(model: Any) -> dict[str, Any]:
    return {k: v for k, v in model.model_dump(exclude_unset=True).items() if k != "version"}


def _person_or_404(s: Session, person_id: int) -> Person:
    try:
        return records.get_person(s, person_id)
    except records.NoRecord:
        raise ApiError(404, f"no record {person_id}", "person_id") from None


# --- records --------------------------------------------------------------------------------------------


@router.get("/records", response_model=list[schemas.RecordSummary], tags=["records"])
def list_records(
    request: Request,
    q: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: Offset = 0,
    who: Principal = api_roles(*READERS),
) -> list[schemas.RecordSummary]:
    """Search records by name (any script; transliterated and fuzzy), record id or service number."""
    if not 1 <= limit <= 500:
        raise ApiError(422, "limit must be between 1 and 500", "limit")
    with unit_of_work(_engine(request)) as s:
        hits = records.search_records(
            s, q, status=status, limit=limit, offset=max(offset, 0), model=request.app.state.model
        )
        return [_summary(h.person, h.probability) for h in hits]


@router.post("/records", status_code=201, response_model=schemas.RecordOut, tags=["records"])
def create_record(
    request: Request,
    body: schemas.RecordIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> schemas.RecordOut:
    try:
        with unit_of_work(_engine(request)) as s:
            person = records.create_record(s, who.actor, _body(body))
            _send(
                background,
                request,
                cases.records_written(
                    s,
                    who.actor,
                    [person.id],
                    match=request.app.state.settings.match_on_write,
                    model=request.app.state.model,
                ),
            )
            return _record_out(records.get_person(s, person.id))
    except records.RecordError as e:
        raise _row_error(e) from None


@router.get("/records/{person_id}", response_model=schemas.RecordOut, tags=["records"])
def get_record(request: Request, person_id: RowId, who: Principal = api_roles(*READERS)) -> schemas.RecordOut:
    with unit_of_work(_engine(request)) as s:
        _person_or_404(s, person_id)
        return _record_out(records.read_person(s, who.actor, person_id, "api"))


@router.put("/records/{person_id}", response_model=schemas.RecordOut, tags=["records"])
def update_record(
    request: Request,
    person_id: RowId,
    body: schemas.RecordUpdate,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> schemas.RecordOut:
    values = _body(body)
    for k in ("record_id", "status", "status_date", "place", "events"):
        if values.pop(k, None) is not None:
            raise ApiError(422, f"{k} cannot be changed here (the history changes through events)", k)
    try:
        with unit_of_work(_engine(request)) as s:
            _person_or_404(s, person_id)
            records.update_record(s, who.actor, person_id, values, body.version)
            _send(
                background,
                request,
                cases.records_written(
                    s,
                    who.actor,
                    [person_id],
                    match=request.app.state.settings.match_on_write,
                    model=request.app.state.model,
                ),
            )
            return _record_out(records.get_person(s, person_id))
    except records.RecordError as e:
        raise _row_error(e) from None
    except records.StaleRecord as e:
        raise ApiError(409, str(e), "version") from None


@router.get("/records/{person_id}/events", response_model=list[schemas.EventOut], tags=["records"])
def list_events(
    request: Request, person_id: RowId, who: Principal = api_roles(*READERS)
) -> list[schemas.EventOut]:
    with unit_of_work(_engine(request)) as s:
        _person_or_404(s, person_id)
        person = records.read_person(s, who.actor, person_id, "api events")
        return [schemas.EventOut.model_validate(e) for e in person.events]


@router.post(
    "/records/{person_id}/events", status_code=201, response_model=schemas.RecordOut, tags=["records"]
)
def add_event(
    request: Request,
    person_id: RowId,
    body: schemas.EventIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> schemas.RecordOut:
    try:
        with unit_of_work(_engine(request)) as s:
            _person_or_404(s, person_id)
            records.add_event(
                s, who.actor, person_id, body.kind, body.date, body.place, body.note, body.version
            )
            _send(background, request, cases.records_written(s, who.actor, [person_id], match=False))
            return _record_out(records.get_person(s, person_id))
    except records.RecordError as e:
        raise _row_error(e) from None
    except records.StaleRecord as e:
        raise ApiError(409, str(e), "version") from None


@router.put("/records/{person_id}/consent", response_model=schemas.RecordOut, tags=["records"])
def set_consent(
    request: Request,
    person_id: RowId,
    body: schemas.ConsentIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> schemas.RecordOut:
    try:
        with unit_of_work(_engine(request)) as s:
            _person_or_404(s, person_id)
            records.set_consent(s, who.actor, person_id, _body(body), body.version)
            _send(background, request, cases.news_for_person(s, person_id))
            return _record_out(records.get_person(s, person_id))
    except records.StaleRecord as e:
        raise ApiError(409, str(e), "version") from None


@router.put("/records/{person_id}/death-disclosure", tags=["records"])
def set_death_disclosure(
    request: Request,
    person_id: RowId,
    body: schemas.DeathDisclosureIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> dict[str, Any]:
    with unit_of_work(_engine(request)) as s:
        _person_or_404(s, person_id)
        row = disclosure.set_death_disclosure(s, who.actor, person_id, body.disclose, body.include_place)
        _send(background, request, cases.news_for_person(s, person_id))
        return {"person_id": person_id, "disclose": row.disclose, "include_place": row.include_place}


@router.get(
    "/records/{person_id}/attachments", response_model=list[schemas.AttachmentOut], tags=["documents"]
)
def list_attachments(
    request: Request, person_id: RowId, who: Principal = api_roles(*READERS)
) -> list[schemas.AttachmentOut]:
    with unit_of_work(_engine(request)) as s:
        _person_or_404(s, person_id)
        audit(s, who.actor, "read", "person", person_id, {"view": "api attachments"})
        return [schemas.AttachmentOut.model_validate(a) for a in attachments.of_person(s, person_id)]


@router.post(
    "/records/{person_id}/attachments",
    status_code=201,
    response_model=schemas.AttachmentOut,
    tags=["documents"],
)
async def add_attachment(
    request: Request,
    person_id: RowId,
    file: UploadFile = File(...),
    kind: str = Form("document"),
    note: str = Form(""),
    who: Principal = api_roles(REGISTRAR),
) -> schemas.AttachmentOut:
    settings = request.app.state.settings
    data = await file.read(settings.max_upload_bytes + 1)
    from starlette.concurrency import run_in_threadpool

    def work() -> schemas.AttachmentOut:
        try:
            with unit_of_work(_engine(request)) as s:
                _person_or_404(s, person_id)
                row = attachments.add(
                    s, who.actor, person_id, kind, file.filename, data, settings.max_upload_bytes, note
                )
                return schemas.AttachmentOut.model_validate(row)
        except attachments.AttachmentError as e:
            raise ApiError(413 if e.too_large else 422, str(e), e.field) from None

    return await run_in_threadpool(work)


@router.get(
    "/attachments/{attachment_id}",
    tags=["documents"],
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_attachment(request: Request, attachment_id: RowId, who: Principal = api_roles(*READERS)) -> Response:
    with unit_of_work(_engine(request)) as s:
        row = attachments.fetch(s, who.actor, attachment_id)
        if row is None:
            raise ApiError(404, f"no attachment {attachment_id}", "attachment_id")
        return Response(
            row.data,
            media_type=row.content_type,
            headers={"content-disposition": attachments.content_disposition("attachment", row.file_name)},
        )


@router.post(
    "/records/{person_id}/messages",
    status_code=201,
    response_model=list[schemas.MessageOut],
    tags=["messages"],
)
def message_from_person(
    request: Request, person_id: RowId, body: schemas.MessageIn, who: Principal = api_roles(REGISTRAR)
) -> list[schemas.MessageOut]:
    """A message from the person to the family, entered by a registrar; delivered once approved."""
    try:
        with unit_of_work(_engine(request)) as s:
            _person_or_404(s, person_id)
            return [
                schemas.MessageOut.model_validate(m)
                for m in messages.from_person(s, who.actor, person_id, body.body)
            ]
    except messages.MessageError as e:
        raise ApiError(422, str(e), e.field or "person_id") from None


# --- sightings ------------------------------------------------------------------------------------------


@router.get("/sightings", response_model=list[schemas.RecordSummary], tags=["sightings"])
def list_sightings(
    request: Request,
    q: str | None = None,
    limit: int = 50,
    offset: Offset = 0,
    who: Principal = api_roles(*READERS),
) -> list[schemas.RecordSummary]:
    """Records that come from reports (news, Telegram...), not from a registry."""
    with unit_of_work(_engine(request)) as s:
        hits = records.search_records(
            s,
            q,
            source_kind="report",
            limit=min(max(limit, 1), 500),
            offset=max(offset, 0),
            model=request.app.state.model,
        )
        return [_summary(h.person, h.probability) for h in hits]


@router.post("/sightings", status_code=201, response_model=schemas.RecordOut, tags=["sightings"])
def add_sighting(
    request: Request,
    body: schemas.SightingIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR, CASEWORKER),
) -> schemas.RecordOut:
    status = SIGHTING_STATUS.get(body.status.strip().lower(), body.status)
    notes = "\n".join(x for x in (body.url, body.evidence) if x) or None
    row = {
        "full_name": body.full_name,
        "status": status,
        "status_date": body.date,
        "place": body.place,
        "sex": body.sex,
        "birth_date": body.birth_date,
        "age": body.age,
        "age_as_of": body.age_as_of,
        "rank": body.rank,
        "unit": body.unit,
        "notes": notes,
    }
    try:
        with unit_of_work(_engine(request)) as s:
            person = records.create_record(
                s, who.actor, row, source=f"report:{body.source}", source_kind="report"
            )
            _send(
                background,
                request,
                cases.records_written(
                    s,
                    who.actor,
                    [person.id],
                    match=request.app.state.settings.match_on_write,
                    model=request.app.state.model,
                ),
            )
            return _record_out(records.get_person(s, person.id))
    except records.RecordError as e:
        raise _row_error(e) from None


# --- tracing requests: families -------------------------------------------------------------------------


@router.post("/requests", status_code=201, response_model=schemas.RequestFiled, tags=["family"])
def file_request(
    request: Request,
    body: schemas.RequestIn,
    background: BackgroundTasks,
    who: Principal = api_roles(*EVERYONE),
) -> schemas.RequestFiled:
    """File a tracing request without an account. The answer holds the reference and the secret (once)."""
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    hits = limiter.take(
        [(("file-request", client_ip(request)), settings.requests_filed_per_ip)], settings.rate_window_seconds
    )
    if hits is None:
        raise ApiError(429, "too many requests filed from this address: try again later")
    values = body.model_dump()
    values["agree"] = "yes" if body.agree else None
    try:
        with unit_of_work(_engine(request)) as s:
            req, secret, note = cases.file_request(
                s, "api:family", values, match=settings.match_on_write, model=request.app.state.model
            )
            reference = req.reference
    except cases.FieldErrors as e:
        limiter.release(hits)  # a refused body files nothing
        raise _field_error(e) from None
    if note is not None:
        _send(background, request, [note], {note.id: secret})
    return schemas.RequestFiled(reference=reference, secret=secret, emailed=note is not None)


@router.post("/requests/status", response_model=schemas.FamilyStatus, tags=["family"])
def request_status(
    request: Request, body: schemas.Credentials, who: Principal = api_roles(*EVERYONE)
) -> schemas.FamilyStatus:
    """What the family may know now: the reference and the secret go in the body, never in the URL."""
    from kinlink.web.pages.family import check_family

    try:
        req = check_family(request, body.reference, body.secret)
    except TooManyAttempts:
        raise ApiError(429, "too many attempts: wait and try again later") from None
    if req is None:
        raise ApiError(401, "the reference or the secret is wrong", "secret")
    with unit_of_work(_engine(request)) as s:
        req = s.get(TracingRequest, req.id)
        assert req is not None
        outcome = disclosure.disclose(s, req, "api")
        msgs = [
            {"direction": m.direction, "body": m.body, "state": m.state, "at": m.created_at.isoformat()}
            for m in messages.for_family(s, req.id)
        ]
        return schemas.FamilyStatus(
            reference=req.reference,
            stage=outcome.stage,
            items={k: v for k, v in outcome.items.items() if k != "photo"},
            messages=msgs,
        )


# --- requests and candidates: caseworkers ---------------------------------------------------------------


@router.get("/requests", response_model=list[schemas.RequestOut], tags=["requests"])
def list_requests(
    request: Request,
    state: str | None = None,
    limit: int = 100,
    offset: Offset = 0,
    who: Principal = api_roles(CASEWORKER),
) -> list[schemas.RequestOut]:
    with unit_of_work(_engine(request)) as s:
        q = (
            select(TracingRequest)
            .order_by(TracingRequest.id)
            .limit(min(max(limit, 1), 500))
            .offset(max(offset, 0))
        )
        if state:
            q = q.where(TracingRequest.state == state)
        return [schemas.RequestOut.model_validate(r) for r in s.scalars(q)]


@router.get("/requests/{request_id}", response_model=schemas.RequestOut, tags=["requests"])
def get_request(
    request: Request, request_id: RowId, who: Principal = api_roles(CASEWORKER)
) -> schemas.RequestOut:
    with unit_of_work(_engine(request)) as s:
        req = s.get(TracingRequest, request_id)
        if req is None:
            raise ApiError(404, f"no request {request_id}", "request_id")
        return schemas.RequestOut.model_validate(req)


@router.get("/requests/{request_id}/disclosures", tags=["requests"])
def list_disclosures(
    request: Request, request_id: RowId, who: Principal = api_roles(CASEWORKER)
) -> list[dict]:
    with unit_of_work(_engine(request)) as s:
        rows = disclosure.disclosures_of(s, request_id)
        # What was told about a person is that person's details: reading it is audited like the record.
        for pid in sorted({d.person_id for d in rows if d.person_id is not None}):
            audit(s, who.actor, "read", "person", pid, {"view": f"api disclosures of request {request_id}"})
        return [
            {
                "id": d.id,
                "at": d.at,
                "recipient": d.recipient,
                "channel": d.channel,
                "items": d.items,
                "consent": d.consent,
            }
            for d in rows
        ]


@router.get("/candidates", response_model=list[schemas.CandidateOut], tags=["candidates"])
def list_candidates(
    request: Request,
    state: str | None = "pending",
    request_id: QueryId = None,
    limit: int = 100,
    who: Principal = api_roles(CASEWORKER),
) -> list[schemas.CandidateOut]:
    """Candidates, most probable first (the caseworker's queue)."""
    with unit_of_work(_engine(request)) as s:
        return [
            schemas.CandidateOut.model_validate(c)
            for c in candidate_service.list_candidates(
                s, state=state or None, request_id=request_id, limit=min(max(limit, 1), 500)
            )
        ]


@router.get("/candidates/{candidate_id}", tags=["candidates"])
def get_candidate(
    request: Request, candidate_id: RowId, who: Principal = api_roles(CASEWORKER)
) -> dict[str, Any]:
    """The candidate with the side-by-side comparison and the per-field explanation."""
    with unit_of_work(_engine(request)) as s:
        view = cases.candidate_view(s, who.actor, candidate_id)
        if view is None:
            raise ApiError(404, f"no candidate {candidate_id}", "candidate_id")
        return {
            "candidate": schemas.CandidateOut.model_validate(view.candidate).model_dump(),
            "left": {"kind": view.left_kind, "id": view.left_id},
            "right": {"kind": "record", "id": view.right.id},
            "comparison": [
                {"field": r.field, "left": r.left, "right": r.right, "evidence": r.evidence}
                for r in view.rows
            ],
            "decisions": view.reasons,
        }


@router.post("/candidates/{candidate_id}/decision", response_model=schemas.CandidateOut, tags=["candidates"])
def decide(
    request: Request,
    candidate_id: RowId,
    body: schemas.DecisionIn,
    background: BackgroundTasks,
    who: Principal = api_roles(CASEWORKER),
) -> schemas.CandidateOut:
    try:
        with unit_of_work(_engine(request)) as s:
            cand, notes = cases.decide_candidate(
                s, who.actor, candidate_id, body.decision, body.reason, body.version
            )
            _send(background, request, list(notes))
            return schemas.CandidateOut.model_validate(cand)
    except candidate_service.StaleCandidate as e:
        raise ApiError(409, str(e), "version") from None
    except cases.FieldErrors as e:
        raise _field_error(e) from None
    except candidate_service.CandidateError as e:
        raise ApiError(404, str(e), "candidate_id") from None


# --- messages -------------------------------------------------------------------------------------------


@router.get("/messages", response_model=list[schemas.MessageOut], tags=["messages"])
def list_messages(
    request: Request, state: str | None = "submitted", who: Principal = api_roles(CASEWORKER)
) -> list[schemas.MessageOut]:
    with unit_of_work(_engine(request)) as s:
        return [schemas.MessageOut.model_validate(m) for m in messages.listing(s, state or None)]


@router.post("/messages/{message_id}/review", response_model=schemas.MessageOut, tags=["messages"])
def review_message(
    request: Request,
    message_id: RowId,
    body: schemas.ReviewIn,
    background: BackgroundTasks,
    who: Principal = api_roles(CASEWORKER),
) -> schemas.MessageOut:
    try:
        with unit_of_work(_engine(request)) as s:
            if s.get(Message, message_id) is None:
                raise ApiError(404, f"no message {message_id}", "message_id")
            msg, n = messages.review(s, who.actor, message_id, body.approve, body.note, body.version)
            _send(background, request, [n])
            return schemas.MessageOut.model_validate(msg)
    except messages.MessageError as e:
        raise ApiError(409 if isinstance(e, messages.StaleMessage) else 422, str(e), e.field) from None


@router.post("/messages/{message_id}/delivered", response_model=schemas.MessageOut, tags=["messages"])
def message_delivered(
    request: Request, message_id: RowId, background: BackgroundTasks, who: Principal = api_roles(CASEWORKER)
) -> schemas.MessageOut:
    try:
        with unit_of_work(_engine(request)) as s:
            if s.get(Message, message_id) is None:
                raise ApiError(404, f"no message {message_id}", "message_id")
            msg, n = messages.mark_delivered(s, who.actor, message_id)
            _send(background, request, [n])
            return schemas.MessageOut.model_validate(msg)
    except messages.MessageError as e:
        raise ApiError(422, str(e), e.field) from None


# --- users ----------------------------------------------------------------------------------------------


@router.get("/me", response_model=schemas.UserOut, tags=["users"])
def me(request: Request, who: Principal = api_roles(*STAFF)) -> schemas.UserOut:
    with unit_of_work(_engine(request)) as s:
        return schemas.UserOut.model_validate(s.get(User, who.user_id))


@router.get("/users", response_model=list[schemas.UserOut], tags=["users"])
def list_users(request: Request, who: Principal = api_roles(ADMIN)) -> list[schemas.UserOut]:
    with unit_of_work(_engine(request)) as s:
        return [schemas.UserOut.model_validate(u) for u in accounts.list_users(s)]


@router.post("/users", status_code=201, response_model=schemas.UserOut, tags=["users"])
def create_user(request: Request, body: schemas.UserIn, who: Principal = api_roles(ADMIN)) -> schemas.UserOut:
    try:
        with unit_of_work(_engine(request)) as s:
            return schemas.UserOut.model_validate(
                accounts.create_user(s, who.actor, body.username, body.password, body.role, body.display_name)
            )
    except accounts.AccountError as e:
        raise ApiError(409 if "taken" in str(e) else 422, str(e), e.field) from None


@router.patch("/users/{user_id}", response_model=schemas.UserOut, tags=["users"])
def update_user(
    request: Request, user_id: RowId, body: schemas.UserPatch, who: Principal = api_roles(ADMIN)
) -> schemas.UserOut:
    try:
        with unit_of_work(_engine(request)) as s:
            if s.get(User, user_id) is None:
                raise ApiError(404, f"no user {user_id}", "user_id")
            if user_id == who.user_id and (body.active is False or (body.role and body.role != ADMIN)):
                raise ApiError(422, "you cannot disable yourself or drop your own admin role", "role")
            return schemas.UserOut.model_validate(
                accounts.update_user(
                    s,
                    who.actor,
                    user_id,
                    role=body.role,
                    active=body.active,
                    password=body.password,
                    display_name=body.display_name,
                )
            )
    except accounts.AccountError as e:
        raise ApiError(422, str(e), e.field) from None


@router.post("/users/{user_id}/tokens", status_code=201, response_model=schemas.TokenOut, tags=["users"])
def create_token(
    request: Request, user_id: RowId, body: schemas.TokenIn, who: Principal = api_roles(ADMIN)
) -> schemas.TokenOut:
    try:
        with unit_of_work(_engine(request)) as s:
            row, token = accounts.create_token(s, who.actor, user_id, body.name)
            return schemas.TokenOut(id=row.id, name=row.name, token=token)
    except accounts.AccountError as e:
        raise ApiError(404, str(e), "user_id") from None


# --- PFIF -----------------------------------------------------------------------------------------------


@router.get("/pfif", tags=["pfif"], responses={200: {"content": {"application/xml": {}}}})
def export_pfif(
    request: Request,
    source: str | None = None,
    all_records: bool = False,
    who: Principal = api_roles(REGISTRAR),
) -> Response:
    """Records as PFIF 1.4. By default only records whose person consented to inform the family, and
    within their consent (location only if shared)."""
    xml = pfif.export_xml(_engine(request), who.actor, source=source, consented_only=not all_records)
    return Response(xml, media_type="application/xml")


@router.post(
    "/pfif",
    response_model=schemas.PfifImport,
    tags=["pfif"],
    openapi_extra={
        "requestBody": {"content": {"application/xml": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_pfif(request: Request, who: Principal = api_roles(REGISTRAR)) -> schemas.PfifImport:
    data = await request.body()
    if len(data) > request.app.state.settings.max_upload_bytes:
        raise ApiError(413, "the PFIF document is too large")
    from starlette.concurrency import run_in_threadpool

    try:
        result = await run_in_threadpool(pfif.import_xml, _engine(request), data, who.actor)
    except pfif.PfifError as e:
        raise ApiError(422, str(e), e.field) from None
    return schemas.PfifImport(**result.as_dict())
