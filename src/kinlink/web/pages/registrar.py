"""The registrar's pages: the records (which caseworkers read too), a record's form, its history, consent,
the decision on telling a death, files, and messages from the person."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kinlink.errors import Refused
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.downloads import file_response
from kinlink.http.params import Offset, RowId
from kinlink.http.security import CASEWORKER, CLEAN_URL, CSRF, REGISTRAR, Principal, page_roles
from kinlink.i18n import LANGUAGES
from kinlink.person.confirmation import LEVELS
from kinlink.person.fields import CONSENT_COLUMNS, HEALTH_STATES, TEXT_COLUMNS
from kinlink.person.status import EVENT_KINDS, EVENT_STATUS
from kinlink.registry import attachments, records
from kinlink.registry.certificates import certificates_of
from kinlink.registry.people import get_person, read_person
from kinlink.registry.report_reads import provenance_of, read_document, sightings_in, site_of
from kinlink.registry.search import search_records
from kinlink.store.db import reading_unit, unit_of_work
from kinlink.tracing.casefile import matched_requests
from kinlink.tracing.disclosure import death_decision
from kinlink.tracing.messages import from_person
from kinlink.web.render import form_int, problems, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])

# The registrar's form, in the order of the registry's columns; its rules are the registry's.
FORM_FIELDS = ("record_id", *(c for c in records.EDITABLE if c not in CONSENT_COLUMNS))
LONG_FIELDS = {c for c, (_meaning, limit) in TEXT_COLUMNS.items() if limit >= 1000}
STATUSES = sorted({s for s in EVENT_STATUS.values() if s})


# --- records --------------------------------------------------------------------------------------------


@router.get("/records")
def record_list(
    request: Request,
    q: str = "",
    status: str = "",
    offset: Offset = 0,
    who: Principal = page_roles(REGISTRAR, CASEWORKER),
) -> Response:
    with reading_unit(state.engine(request)) as s:  # a search: reads, and its audit entry alone
        hits = search_records(
            s,
            who.actor,
            "records page",
            q,
            model=state.matching(request).model,
            status=status or None,
            offset=offset,
        )
    return render(
        request, "staff/records.html", hits=hits, q=q, status=status, statuses=STATUSES, offset=offset
    )


def _form_values(form: Any) -> dict[str, Any]:
    values = {k: form.get(k) for k in FORM_FIELDS}
    for k in CONSENT_COLUMNS:
        values[k] = form.get(k) == "on"
    return values


def _form(
    request: Request,
    values: dict[str, Any],
    person: Any = None,
    status_code: int = 200,
    errors: dict[str, Any] | None = None,
    **extra: Any,
) -> Response:
    return render(
        request,
        "staff/record_form.html",
        status_code=status_code,
        values=values,
        errors=errors or {},
        fields=FORM_FIELDS,
        long_fields=LONG_FIELDS,
        consents=CONSENT_COLUMNS,
        person=person,
        kinds=EVENT_KINDS,
        health_states=HEALTH_STATES,
        **extra,
    )


@router.get("/records/new")
def record_new_form(request: Request, who: Principal = page_roles(REGISTRAR)) -> Response:
    return _form(request, {})


@router.post("/records/new", dependencies=[CSRF])
async def record_create(
    request: Request, background: BackgroundTasks, who: Principal = page_roles(REGISTRAR)
) -> Response:
    form = await request.form()
    values = _form_values(form)
    history = {k: form.get(k) for k in ("status", "status_date", "place")}
    if history["status"]:
        values.update(history)

    def work() -> int:
        with unit_of_work(state.engine(request)) as s:
            written = records.create_record(s, who.actor, values, matching=state.matching(request))
            deliver_later(background, request, written.notifications)
            return written.person.id

    try:
        person_id = await run_in_threadpool(work)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        return _form(request, values, status_code=422, errors=problems(e), status_values=history)
    return redirect(f"/records/{person_id}?done=created")


def _record_page(
    request: Request, who: Principal, person_id: int, status_code: int = 200, **extra: Any
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        person = read_person(s, who.actor, person_id, "record page")
        extra.setdefault("done", request.query_params.get("done"))
        return render(
            request,
            "staff/record.html",
            status_code=status_code,
            person=person,
            death=death_decision(s, person_id),
            files=attachments.of_person(s, person_id),
            matched=matched_requests(s, person_id),
            provenance=provenance_of(s, person_id),
            statements=records.consent_statements(s, person_id),
            kinds=EVENT_KINDS,
            levels=LEVELS,
            consents=CONSENT_COLUMNS,
            ways=records.CONSENT_WAYS,
            certificates=certificates_of(s, person_id=person_id) if who.role == CASEWORKER else [],
            languages_known=LANGUAGES,
            **extra,
        )


@router.get("/records/{person_id}")
def record_show(
    request: Request, person_id: RowId, who: Principal = page_roles(REGISTRAR, CASEWORKER)
) -> Response:
    return _record_page(request, who, person_id)


@router.get("/records/{person_id}/edit")
def record_edit_form(request: Request, person_id: RowId, who: Principal = page_roles(REGISTRAR)) -> Response:
    with unit_of_work(state.engine(request)) as s:
        person = read_person(s, who.actor, person_id, "edit form")
        row = records.current_row(person)
        values = {k: row.get(k) for k in FORM_FIELDS}
        values["alternate_names"] = " | ".join(row.get("alternate_names") or [])
        values.update({k: row.get(k) for k in CONSENT_COLUMNS})
        return _form(request, values, person)


@router.post("/records/{person_id}/edit", dependencies=[CSRF])
async def record_update(
    request: Request, person_id: RowId, background: BackgroundTasks, who: Principal = page_roles(REGISTRAR)
) -> Response:
    form = await request.form()
    values = _form_values(form)
    values.pop("record_id", None)
    version = form_int(form.get("version"))

    def work() -> None:
        with unit_of_work(state.engine(request)) as s:
            written = records.update_record(
                s, who.actor, person_id, values, version, matching=state.matching(request)
            )
            deliver_later(background, request, written.notifications)

    try:
        await run_in_threadpool(work)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        with unit_of_work(state.engine(request)) as s:
            person = get_person(s, person_id)
            code = 409 if e.kind == "conflict" else 422
            return _form(request, values, person, status_code=code, errors=problems(e))
    return redirect(f"/records/{person_id}?done=saved")


@router.post("/records/{person_id}/events", dependencies=[CSRF])
def record_add_event(
    request: Request,
    person_id: RowId,
    background: BackgroundTasks,
    kind: str = Form(""),
    date: str = Form(""),
    place: str = Form(""),
    note: str = Form(""),
    confirmation: str = Form(""),
    version: str = Form(""),
    who: Principal = page_roles(REGISTRAR),
) -> Response:
    try:
        with unit_of_work(state.engine(request)) as s:
            written = records.add_event(
                s,
                who.actor,
                person_id,
                kind,
                date or None,
                place or None,
                note or None,
                form_int(version),
                matching=state.matching(request),
                confirmation=confirmation or None,
            )
            deliver_later(background, request, written.notifications)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        kept = {"kind": kind, "date": date, "place": place, "note": note, "confirmation": confirmation}
        code = 409 if e.kind == "conflict" else 422
        return _record_page(request, who, person_id, code, event_errors=problems(e), event_values=kept)
    return redirect(f"/records/{person_id}?done=event#events")


@router.post("/records/{person_id}/consent", dependencies=[CSRF])
async def record_consent(
    request: Request, person_id: RowId, background: BackgroundTasks, who: Principal = page_roles(REGISTRAR)
) -> Response:
    form = await request.form()
    consent = {k: form.get(k) == "on" for k in CONSENT_COLUMNS}
    version = form_int(form.get("version"))
    source = records.ConsentSource(
        *(str(form.get(k) or "") or None for k in ("given_on", "given_by", "given_how"))
    )

    def work() -> None:
        with unit_of_work(state.engine(request)) as s:
            written = records.set_consent(
                s, who.actor, person_id, consent, version, matching=state.matching(request), source=source
            )
            deliver_later(background, request, written.notifications)

    try:
        await run_in_threadpool(work)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        code = 409 if e.kind == "conflict" else 422
        kept = {**consent, **{k: str(form.get(k) or "") for k in ("given_on", "given_by", "given_how")}}
        errs = problems(e)
        return await run_in_threadpool(
            lambda: _record_page(request, who, person_id, code, consent_errors=errs, consent_values=kept)
        )
    return redirect(f"/records/{person_id}?done=consent")


@router.post("/records/{person_id}/death-disclosure", dependencies=[CSRF])
def record_death_disclosure(
    request: Request,
    person_id: RowId,
    background: BackgroundTasks,
    disclose: str = Form(""),
    include_place: str = Form(""),
    who: Principal = page_roles(REGISTRAR),
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        decided = records.set_death_disclosure(
            s, who.actor, person_id, disclose == "on", include_place == "on"
        )
        deliver_later(background, request, decided.notifications)
    return redirect(f"/records/{person_id}?done=death")


@router.post("/records/{person_id}/attachments", dependencies=[CSRF])
async def record_attach(
    request: Request,
    person_id: RowId,
    file: UploadFile = File(...),
    kind: str = Form("document"),
    note: str = Form(""),
    who: Principal = page_roles(REGISTRAR),
) -> Response:
    limit = state.settings(request).max_upload_bytes
    data = await file.read(limit + 1)

    def work() -> None:
        with unit_of_work(state.engine(request)) as s:
            attachments.add(s, who.actor, person_id, kind, file.filename, data, limit, note)

    try:
        await run_in_threadpool(work)
    except Refused as e:
        if e.kind not in ("invalid", "too_large"):
            raise
        code, errs = (413 if e.kind == "too_large" else 422), problems(e)
        kept = {"kind": kind, "note": note}
        return await run_in_threadpool(
            lambda: _record_page(request, who, person_id, code, attach_errors=errs, attach_values=kept)
        )
    return redirect(f"/records/{person_id}?done=attached")


@router.get("/documents/{document_id}")
def document_show(
    request: Request, document_id: RowId, who: Principal = page_roles(REGISTRAR, CASEWORKER)
) -> Response:
    """A stored report (staff only), with the sentences it gave as evidence marked."""
    with unit_of_work(state.engine(request)) as s:
        doc = read_document(s, who.actor, document_id, "document page")
        found = sightings_in(s, document_id)
        return render(
            request,
            "staff/document.html",
            doc=doc,
            site=site_of(doc),
            sightings=found,
            parts=_marked(doc.text, found),
        )


def _marked(text: str, found: list[Any]) -> list[tuple[str, bool]]:
    """The document's text cut into (piece, is evidence) so that the quoted sentences can be marked."""
    spans = sorted(
        {(i, i + len(e)) for e in {f.evidence for f in found if f.evidence} if (i := text.find(e)) >= 0}
    )
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in spans:
        if start < at:
            continue
        out += [(text[at:start], False), (text[start:end], True)]
        at = end
    out.append((text[at:], False))
    return [p for p in out if p[0]]


@router.get("/attachments/{attachment_id}")
def attachment_get(
    request: Request, attachment_id: RowId, who: Principal = page_roles(REGISTRAR, CASEWORKER)
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        row = attachments.fetch(s, who.actor, attachment_id)
        return file_response(row, inline=row.kind == "photo")


@router.post("/records/{person_id}/messages", dependencies=[CSRF])
def record_message_from_person(
    request: Request, person_id: RowId, body: str = Form(""), who: Principal = page_roles(REGISTRAR)
) -> Response:
    try:
        with unit_of_work(state.engine(request)) as s:
            get_person(s, person_id)
            from_person(s, who.actor, person_id, body)
    except Refused as e:
        if e.kind != "invalid":
            raise
        return _record_page(request, who, person_id, 422, message_errors=problems(e), message_body=body)
    return redirect(f"/records/{person_id}?done=message")
