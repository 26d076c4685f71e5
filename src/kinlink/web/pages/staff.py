"""Staff pages: the registrar's records, the caseworker's queue, cases and message review, the admin's
users, and every staff member's own API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinlink.registry.audit import record as audit
from kinlink.registry.fields import CONSENT_COLUMNS
from kinlink.registry.status import EVENT_STATUS
from kinlink.store.db import unit_of_work
from kinlink.store.models import EVENT_KINDS, Person
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.store.web_models import ROLES, DeathDisclosure, Message, Notification, User
from kinlink.tracing import candidates as candidate_service
from kinlink.web import accounts, attachments, cases, disclosure, messages, notify, records
from kinlink.web.params import Offset, RowId
from kinlink.web.render import redirect, render
from kinlink.web.security import ADMIN, CASEWORKER, CLEAN_URL, CSRF, REGISTRAR, STAFF, Principal, page_roles

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])

# The registrar's form, in order; the rules are the registry's (validate_row).
FORM_FIELDS = (
    "record_id",
    "full_name",
    "family_name",
    "given_names",
    "patronymic",
    "name_language",
    "alternate_names",
    "sex",
    "birth_date",
    "age",
    "age_as_of",
    "place_of_birth",
    "nationality",
    "power",
    "rank",
    "unit",
    "service_number",
    "father_name",
    "mother_maiden_name",
    "residence",
    "inform_name",
    "inform_address",
    "distinguishing_marks",
    "location",
    "notes",
)
LONG_FIELDS = {"inform_address", "distinguishing_marks", "notes"}
STATUSES = sorted({s for s in EVENT_STATUS.values() if s})


def _send(background: BackgroundTasks, request: Request, notes: list[Notification]) -> None:
    ids = [n.id for n in notes if n is not None]
    if ids:
        settings = request.app.state.settings
        background.add_task(notify.send_after_response, request.app.state.engine, settings, ids)


def _not_found() -> HTTPException:
    return HTTPException(404, "not found")


# --- records --------------------------------------------------------------------------------------------


@router.get("/records")
def record_list(
    request: Request,
    q: str = "",
    status: str = "",
    offset: Offset = 0,
    who: Principal = page_roles(REGISTRAR, CASEWORKER),
) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        hits = records.search_records(
            s, q, status=status or None, limit=50, offset=max(offset, 0), model=request.app.state.model
        )
    return render(
        request, "staff/records.html", hits=hits, q=q, status=status, statuses=STATUSES, offset=max(offset, 0)
    )


def _form_values(form: Any) -> dict[str, Any]:
    values = {k: form.get(k) for k in FORM_FIELDS}
    for k in CONSENT_COLUMNS:
        values[k] = form.get(k) == "on"
    return values


def _row_errors(e: records.RecordError) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for err in e.errors:
        out.setdefault(err.column, []).append(err.reason)
    return out


@router.get("/records/new")
def record_new_form(request: Request, who: Principal = page_roles(REGISTRAR)) -> Response:
    return render(
        request,
        "staff/record_form.html",
        values={},
        errors={},
        fields=FORM_FIELDS,
        long_fields=LONG_FIELDS,
        consents=CONSENT_COLUMNS,
        person=None,
        kinds=EVENT_KINDS,
    )


@router.post("/records/new", dependencies=[CSRF])
async def record_create(
    request: Request, background: BackgroundTasks, who: Principal = page_roles(REGISTRAR)
) -> Response:
    form = await request.form()
    values = _form_values(form)
    if form.get("status"):
        values.update(status=form.get("status"), status_date=form.get("status_date"), place=form.get("place"))
    from starlette.concurrency import run_in_threadpool

    def work() -> int | dict[str, list[str]]:
        try:
            with unit_of_work(request.app.state.engine) as s:
                person = records.create_record(s, who.actor, values)
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
                return person.id
        except records.RecordError as e:
            return _row_errors(e)

    result = await run_in_threadpool(work)
    if isinstance(result, dict):
        return render(
            request,
            "staff/record_form.html",
            status_code=422,
            values=values,
            errors=result,
            fields=FORM_FIELDS,
            long_fields=LONG_FIELDS,
            consents=CONSENT_COLUMNS,
            person=None,
            kinds=EVENT_KINDS,
            status_values={k: form.get(k) for k in ("status", "status_date", "place")},
        )
    return redirect(f"/records/{result}")


def _record_page(request: Request, s: Session, who: Principal, person_id: int, **extra: Any) -> Response:
    try:
        person = records.read_person(s, who.actor, person_id, "record page")
    except records.NoRecord:
        raise _not_found() from None
    death = s.get(DeathDisclosure, person_id)
    files = attachments.of_person(s, person_id)
    matched = list(s.scalars(select(TracingRequest).where(TracingRequest.matched_person_id == person_id)))
    return render(
        request,
        "staff/record.html",
        person=person,
        death=death,
        files=files,
        matched=matched,
        kinds=EVENT_KINDS,
        consents=CONSENT_COLUMNS,
        **extra,
    )


@router.get("/records/{person_id}")
def record_show(
    request: Request, person_id: RowId, who: Principal = page_roles(REGISTRAR, CASEWORKER)
) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        return _record_page(request, s, who, person_id)


@router.get("/records/{person_id}/edit")
def record_edit_form(request: Request, person_id: RowId, who: Principal = page_roles(REGISTRAR)) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        try:
            person = records.read_person(s, who.actor, person_id, "edit form")
        except records.NoRecord:
            raise _not_found() from None
        row = records.current_row(person)
        values = {k: row.get(k) for k in FORM_FIELDS}
        values["alternate_names"] = " | ".join(row.get("alternate_names") or [])
        values.update({k: row.get(k) for k in CONSENT_COLUMNS})
        return render(
            request,
            "staff/record_form.html",
            values=values,
            errors={},
            fields=FORM_FIELDS,
            long_fields=LONG_FIELDS,
            consents=CONSENT_COLUMNS,
            person=person,
            kinds=EVENT_KINDS,
        )


@router.post("/records/{person_id}/edit", dependencies=[CSRF])
async def record_update(
    request: Request, person_id: RowId, background: BackgroundTasks, who: Principal = page_roles(REGISTRAR)
) -> Response:
    form = await request.form()
    values = _form_values(form)
    values.pop("record_id", None)
    version = _int(form.get("version"))
    from starlette.concurrency import run_in_threadpool

    def work() -> Response | None:
        try:
            with unit_of_work(request.app.state.engine) as s:
                records.update_record(s, who.actor, person_id, values, version)
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
            return None
        except records.NoRecord:
            raise _not_found() from None
        except (records.RecordError, records.StaleRecord) as e:
            errors = _row_errors(e) if isinstance(e, records.RecordError) else {"version": [str(e)]}
            with unit_of_work(request.app.state.engine) as s:
                person = records.get_person(s, person_id)
                return render(
                    request,
                    "staff/record_form.html",
                    status_code=422 if errors else 409,
                    values=values,
                    errors=errors,
                    fields=FORM_FIELDS,
                    long_fields=LONG_FIELDS,
                    consents=CONSENT_COLUMNS,
                    person=person,
                    kinds=EVENT_KINDS,
                )

    result = await run_in_threadpool(work)
    return result or redirect(f"/records/{person_id}")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@router.post("/records/{person_id}/events", dependencies=[CSRF])
def record_add_event(
    request: Request,
    person_id: RowId,
    background: BackgroundTasks,
    kind: str = Form(""),
    date: str = Form(""),
    place: str = Form(""),
    note: str = Form(""),
    version: str = Form(""),
    who: Principal = page_roles(REGISTRAR),
) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            records.add_event(
                s, who.actor, person_id, kind, date or None, place or None, note or None, _int(version)
            )
            _send(background, request, cases.records_written(s, who.actor, [person_id], match=False))
    except records.NoRecord:
        raise _not_found() from None
    except (records.RecordError, records.StaleRecord) as e:
        with unit_of_work(request.app.state.engine) as s:
            return _record_page(request, s, who, person_id, event_error=str(e))
    return redirect(f"/records/{person_id}")


@router.post("/records/{person_id}/consent", dependencies=[CSRF])
async def record_consent(
    request: Request, person_id: RowId, background: BackgroundTasks, who: Principal = page_roles(REGISTRAR)
) -> Response:
    form = await request.form()
    consent = {k: form.get(k) == "on" for k in CONSENT_COLUMNS}
    version = _int(form.get("version"))
    from starlette.concurrency import run_in_threadpool

    def work() -> Response | None:
        try:
            with unit_of_work(request.app.state.engine) as s:
                records.set_consent(s, who.actor, person_id, consent, version)
                _send(background, request, cases.news_for_person(s, person_id))
            return None
        except records.NoRecord:
            raise _not_found() from None
        except (records.RecordError, records.StaleRecord) as e:
            with unit_of_work(request.app.state.engine) as s:
                return _record_page(request, s, who, person_id, consent_error=str(e))

    return (await run_in_threadpool(work)) or redirect(f"/records/{person_id}")


@router.post("/records/{person_id}/death-disclosure", dependencies=[CSRF])
def record_death_disclosure(
    request: Request,
    person_id: RowId,
    background: BackgroundTasks,
    disclose: str = Form(""),
    include_place: str = Form(""),
    who: Principal = page_roles(REGISTRAR),
) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        if s.get(Person, person_id) is None:
            raise _not_found()
        disclosure.set_death_disclosure(s, who.actor, person_id, disclose == "on", include_place == "on")
        _send(background, request, cases.news_for_person(s, person_id))
    return redirect(f"/records/{person_id}")


@router.post("/records/{person_id}/attachments", dependencies=[CSRF])
async def record_attach(
    request: Request,
    person_id: RowId,
    file: UploadFile = File(...),
    kind: str = Form("document"),
    note: str = Form(""),
    who: Principal = page_roles(REGISTRAR),
) -> Response:
    settings = request.app.state.settings
    data = await file.read(settings.max_upload_bytes + 1)
    from starlette.concurrency import run_in_threadpool

    def work() -> Response | None:
        try:
            with unit_of_work(request.app.state.engine) as s:
                if s.get(Person, person_id) is None:
                    raise _not_found()
                attachments.add(
                    s, who.actor, person_id, kind, file.filename, data, settings.max_upload_bytes, note
                )
            return None
        except attachments.AttachmentError as e:
            with unit_of_work(request.app.state.engine) as s:
                return _record_page(
                    request, s, who, person_id, attach_error=str(e), status_code=413 if e.too_large else 422
                )

    return (await run_in_threadpool(work)) or redirect(f"/records/{person_id}")


@router.get("/attachments/{attachment_id}")
def attachment_get(
    request: Request, attachment_id: RowId, who: Principal = page_roles(REGISTRAR, CASEWORKER)
) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        row = attachments.fetch(s, who.actor, attachment_id)
        if row is None:
            raise _not_found()
        data, ctype, name, kind = row.data, row.content_type, row.file_name, row.kind
    disposition = attachments.content_disposition("inline" if kind == "photo" else "attachment", name)
    return Response(data, media_type=ctype, headers={"content-disposition": disposition})


@router.post("/records/{person_id}/messages", dependencies=[CSRF])
def record_message_from_person(
    request: Request,
    person_id: RowId,
    body: str = Form(""),
    who: Principal = page_roles(REGISTRAR),
) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            if s.get(Person, person_id) is None:
                raise _not_found()
            messages.from_person(s, who.actor, person_id, body)
    except messages.MessageError as e:
        with unit_of_work(request.app.state.engine) as s:
            return _record_page(request, s, who, person_id, message_error=str(e))
    return redirect(f"/records/{person_id}")


# --- caseworker -----------------------------------------------------------------------------------------


@router.get("/queue")
def queue(request: Request, state: str = "pending", who: Principal = page_roles(CASEWORKER)) -> Response:
    if state not in candidate_service.DECISIONS:
        state = "pending"
    with unit_of_work(request.app.state.engine) as s:
        cands = candidate_service.list_candidates(s, state=state, limit=200)
        people = {
            p.id: p
            for p in s.scalars(
                select(Person).where(
                    Person.id.in_(
                        {c.person_id for c in cands} | {c.left_person_id for c in cands if c.left_person_id}
                    )
                )
            )
        }
        reqs = {
            r.id: r
            for r in s.scalars(
                select(TracingRequest).where(
                    TracingRequest.id.in_({c.request_id for c in cands if c.request_id})
                )
            )
        }
    return render(request, "staff/queue.html", candidates=cands, people=people, reqs=reqs, state=state)


@router.get("/candidates/{candidate_id}")
def candidate_show(
    request: Request, candidate_id: RowId, who: Principal = page_roles(CASEWORKER)
) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        view = cases.candidate_view(s, who.actor, candidate_id)
        if view is None:
            raise _not_found()
        req = s.get(TracingRequest, view.left_id) if view.left_kind == "request" else None
        return render(
            request, "staff/candidate.html", view=view, req=req, error=request.query_params.get("error")
        )


@router.post("/candidates/{candidate_id}/decision", dependencies=[CSRF])
def candidate_decide(
    request: Request,
    candidate_id: RowId,
    background: BackgroundTasks,
    decision: str = Form(""),
    reason: str = Form(""),
    version: str = Form(""),
    who: Principal = page_roles(CASEWORKER),
) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            _cand, notes = cases.decide_candidate(
                s, who.actor, candidate_id, decision, reason, _int(version) or 0
            )
            _send(background, request, notes)
    except candidate_service.StaleCandidate:
        return redirect(f"/candidates/{candidate_id}?error=stale")
    except cases.FieldErrors as e:
        return redirect(f"/candidates/{candidate_id}?error={e.errors[0].field}")
    except candidate_service.CandidateError:
        raise _not_found() from None
    return redirect("/queue")


@router.get("/cases")
def case_list(request: Request, state: str = "", who: Principal = page_roles(CASEWORKER)) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        q = select(TracingRequest).order_by(TracingRequest.id.desc()).limit(200)
        if state:
            q = q.where(TracingRequest.state == state)
        reqs = list(s.scalars(q))
        counts = dict(
            s.execute(
                select(MatchCandidate.request_id, func.count(MatchCandidate.id))
                .where(MatchCandidate.state == "pending", MatchCandidate.request_id.is_not(None))
                .group_by(MatchCandidate.request_id)
            ).all()
        )
    return render(request, "staff/cases.html", reqs=reqs, counts=counts, state=state)


@router.get("/cases/{request_id}")
def case_show(request: Request, request_id: RowId, who: Principal = page_roles(CASEWORKER)) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        req = s.get(TracingRequest, request_id)
        if req is None:
            raise _not_found()
        cands = candidate_service.list_candidates(s, request_id=request_id)
        if req.matched_person_id is not None:
            # The page shows what the family may be told and was told about the person found: a read of
            # that person's details.
            audit(s, who.actor, "read", "person", req.matched_person_id, {"view": f"case {req.reference}"})
        people = {
            p.id: p for p in s.scalars(select(Person).where(Person.id.in_({c.person_id for c in cands})))
        }
        return render(
            request,
            "staff/case.html",
            req=req,
            candidates=cands,
            people=people,
            outcome=disclosure.outcome_for(s, req),
            disclosures=disclosure.disclosures_of(s, req.id),
            messages=list(
                s.scalars(select(Message).where(Message.request_id == req.id).order_by(Message.id))
            ),
            notifications=list(
                s.scalars(
                    select(Notification).where(Notification.request_id == req.id).order_by(Notification.id)
                )
            ),
        )


@router.get("/messages")
def message_queue(request: Request, who: Principal = page_roles(CASEWORKER)) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        pending = messages.listing(s, "submitted")
        approved = [m for m in messages.listing(s, "approved") if m.direction == "to_person"]
        refs = dict(s.execute(select(TracingRequest.id, TracingRequest.reference)).all())
    return render(request, "staff/messages.html", pending=pending, approved=approved, refs=refs)


@router.post("/messages/{message_id}/review", dependencies=[CSRF])
def message_review(
    request: Request,
    message_id: RowId,
    background: BackgroundTasks,
    action: str = Form(""),
    note: str = Form(""),
    version: str = Form(""),
    who: Principal = page_roles(CASEWORKER),
) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            _msg, n = messages.review(s, who.actor, message_id, action == "approve", note, _int(version))
            _send(background, request, [n] if n else [])
    except messages.MessageError as e:
        raise HTTPException(409 if isinstance(e, messages.StaleMessage) else 422, str(e)) from None
    return redirect("/messages")


@router.post("/messages/{message_id}/delivered", dependencies=[CSRF])
def message_delivered(
    request: Request, message_id: RowId, background: BackgroundTasks, who: Principal = page_roles(CASEWORKER)
) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            _msg, n = messages.mark_delivered(s, who.actor, message_id)
            _send(background, request, [n] if n else [])
    except messages.MessageError as e:
        raise HTTPException(422, str(e)) from None
    return redirect("/messages")


# --- admin and account ----------------------------------------------------------------------------------


@router.get("/admin/users")
def users_page(request: Request, who: Principal = page_roles(ADMIN)) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        return render(request, "staff/users.html", users=accounts.list_users(s), roles=ROLES)


@router.post("/admin/users", dependencies=[CSRF])
def users_create(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    role: str = Form(""),
    display_name: str = Form(""),
    who: Principal = page_roles(ADMIN),
) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            accounts.create_user(s, who.actor, username, password, role, display_name or None)
    except accounts.AccountError as e:
        with unit_of_work(request.app.state.engine) as s:
            return render(
                request,
                "staff/users.html",
                status_code=422,
                users=accounts.list_users(s),
                roles=ROLES,
                error=str(e),
                error_field=e.field,
                username=username,
            )
    return redirect("/admin/users")


@router.post("/admin/users/{user_id}", dependencies=[CSRF])
def users_update(
    request: Request,
    user_id: RowId,
    role: str = Form(""),
    active: str = Form(""),
    password: str = Form(""),
    who: Principal = page_roles(ADMIN),
) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            if s.get(User, user_id) is None:
                raise _not_found()
            if user_id == who.user_id and (active != "on" or (role and role != ADMIN)):
                raise accounts.AccountError("you cannot disable yourself or drop your own admin role", "role")
            accounts.update_user(
                s, who.actor, user_id, role=role or None, active=active == "on", password=password or None
            )
    except accounts.AccountError as e:
        with unit_of_work(request.app.state.engine) as s:
            return render(
                request,
                "staff/users.html",
                status_code=422,
                users=accounts.list_users(s),
                roles=ROLES,
                error=str(e),
                error_field=e.field,
            )
    return redirect("/admin/users")


@router.get("/account")
def account_page(request: Request, who: Principal = page_roles(*STAFF)) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        return render(request, "staff/account.html", tokens=accounts.user_tokens(s, who.user_id or 0))


@router.post("/account/tokens", dependencies=[CSRF])
def account_new_token(
    request: Request, name: str = Form(""), who: Principal = page_roles(*STAFF)
) -> Response:
    with unit_of_work(request.app.state.engine) as s:
        _row, token = accounts.create_token(s, who.actor, who.user_id or 0, name)
    with unit_of_work(request.app.state.engine) as s:
        # The token is shown in this response only (never in a URL, never stored).
        return render(
            request, "staff/account.html", tokens=accounts.user_tokens(s, who.user_id or 0), new_token=token
        )


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CSRF])
def account_revoke_token(request: Request, token_id: RowId, who: Principal = page_roles(*STAFF)) -> Response:
    try:
        with unit_of_work(request.app.state.engine) as s:
            accounts.revoke_token(s, who.actor, token_id, user_id=who.user_id)
    except accounts.AccountError:
        raise _not_found() from None
    return redirect("/account")
