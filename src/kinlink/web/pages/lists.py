"""The registrar's import of official lists: upload, map the columns (prefilled from the headings and the
source's saved mapping), preview with every bad cell named, then import in the background with a progress
bar (no JavaScript: the CSP allows none). A page following a job states its progress in text and offers
"Check again"; it refreshes itself only when the registrar asks for it (?auto=1: WCAG 2.2.1 forbids a time
limit, such as an automatic refresh, that the reader did not choose). /progress.json is for scripts.

Registrars only, and each sees only their own uploads. The import is the registry's (all or nothing,
idempotent, audited); the preview writes its own audit entry; the mapping is saved for the source."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kinlink.errors import Refused
from kinlink.http import state
from kinlink.http.security import CLEAN_URL, CSRF, REGISTRAR, Principal, page_roles
from kinlink.person.fields import COLUMNS
from kinlink.person.headings import IGNORE
from kinlink.registry import list_jobs, lists
from kinlink.registry.files import FileFormatError
from kinlink.store.db import unit_of_work
from kinlink.tracing.mail import send_pending
from kinlink.web.render import problems, redirect, render, translator

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])
REFRESH_SECONDS = 3  # the refresh a registrar opted into: often enough to follow, rarely enough to read


def _format_problem(request: Request, e: FileFormatError) -> str:
    _ = translator(request)
    return _(e.message) % e.values if e.values else _(e.message)


@router.get("/imports")
def import_upload_form(
    request: Request, source: str = "", who: Principal = page_roles(REGISTRAR)
) -> Response:
    return render(request, "staff/import_upload.html", values={"source": source[:200]}, errors={})


@router.post("/imports", dependencies=[CSRF])
async def import_upload(
    request: Request,
    file: UploadFile = File(...),
    source: str = Form(""),
    who: Principal = page_roles(REGISTRAR),
) -> Response:
    limit = state.settings(request).max_upload_bytes
    data = await file.read(limit + 1)
    try:
        job = await run_in_threadpool(list_jobs.stage, who.actor, source, file.filename, data, limit)
    except Refused as e:
        if e.kind not in ("invalid", "too_large"):
            raise
        code = 413 if e.kind == "too_large" else 422
        return render(
            request,
            "staff/import_upload.html",
            status_code=code,
            values={"source": source},
            errors=problems(e),
        )
    return redirect(f"/imports/{job.token}")


def _mapping_page(
    request: Request, job: list_jobs.Job, sheet: str | None, status_code: int = 200, error: str = ""
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        try:
            proposal = lists.propose(s, job.path, job.source, sheet)
        except FileFormatError as e:
            return render(
                request,
                "staff/import_upload.html",
                status_code=422,
                values={"source": job.source},
                errors={"file": []},
                file_error=_format_problem(request, e),
            )
    return render(
        request,
        "staff/import_map.html",
        status_code=status_code,
        job=job,
        proposal=proposal,
        columns=COLUMNS,
        error=error,
    )


@router.get("/imports/{token}")
def import_map(
    request: Request, token: str, sheet: str | None = None, who: Principal = page_roles(REGISTRAR)
) -> Response:
    job = list_jobs.load(token, who.actor)
    if job.state != "staged":
        return redirect(f"/imports/{token}/progress")
    return _mapping_page(request, job, sheet or job.sheet)


@router.post("/imports/{token}/preview", dependencies=[CSRF])
async def import_preview(request: Request, token: str, who: Principal = page_roles(REGISTRAR)) -> Response:
    job = list_jobs.load(token, who.actor)
    if job.state != "staged":
        return redirect(f"/imports/{token}/progress")
    if job.check == "running":
        return redirect(f"/imports/{token}/preview")
    form = await request.form()
    sheet = str(form.get("sheet") or "") or None

    def work() -> None:
        with unit_of_work(state.engine(request)) as s:
            proposal = lists.propose(s, job.path, job.source, sheet)
            mapping: dict[str, str] = {}
            for i, heading in enumerate(proposal.headings):
                chosen = str(form.get(f"col{i}") or IGNORE)
                if heading:
                    mapping[heading] = chosen if chosen in COLUMNS else IGNORE
            lists.save_mapping(s, who.actor, job.source, mapping)
        # Every row is checked in the background (a large sheet takes tens of seconds); the page follows it.
        list_jobs.start_preview(state.engine(request), job, mapping, proposal.sheet)

    try:
        await run_in_threadpool(work)
    except FileFormatError as e:
        why = _format_problem(request, e)
        return await run_in_threadpool(lambda: _mapping_page(request, job, sheet, 422, why))
    except Refused as e:
        if e.kind != "conflict":
            raise
    return redirect(f"/imports/{token}/preview")


@router.get("/imports/{token}/preview")
def import_preview_page(
    request: Request, token: str, auto: bool = False, who: Principal = page_roles(REGISTRAR)
) -> Response:
    """The preview: its progress while the rows are checked (refreshed by the registrar, or by itself if
    they asked: `auto`), then its result."""
    job = list_jobs.load(token, who.actor)
    if job.state != "staged":
        return redirect(f"/imports/{token}/progress")
    if job.check is None:
        return redirect(f"/imports/{token}")
    if job.check == "refused":
        why = _format_problem(request, FileFormatError(job.preview["message"], **job.preview["values"]))
        return _mapping_page(request, job, job.sheet, 422, why)
    return render(
        request,
        "staff/import_preview.html",
        job=job,
        preview=job.preview,
        auto=auto,
        refresh_seconds=REFRESH_SECONDS,
    )


@router.post("/imports/{token}/start", dependencies=[CSRF])
def import_start(request: Request, token: str, who: Principal = page_roles(REGISTRAR)) -> Response:
    job = list_jobs.load(token, who.actor)
    if job.check == "running":  # not while its rows are being checked
        return redirect(f"/imports/{token}/preview")
    if job.state == "staged":
        engine, mail = state.engine(request), state.settings(request).mail
        try:
            list_jobs.start(
                engine,
                job,
                job.total or 0,
                state.matching(request),
                lambda ids: send_pending(engine, mail, ids),
            )
        except Refused as e:
            if e.kind != "conflict":
                raise
    return redirect(f"/imports/{token}/progress")


@router.get("/imports/{token}/progress")
def import_progress(
    request: Request, token: str, auto: bool = False, who: Principal = page_roles(REGISTRAR)
) -> Response:
    job = list_jobs.load(token, who.actor)
    return render(request, "staff/import_progress.html", job=job, auto=auto, refresh_seconds=REFRESH_SECONDS)


@router.get("/imports/{token}/progress.json")
def import_progress_json(request: Request, token: str, who: Principal = page_roles(REGISTRAR)) -> Response:
    job = list_jobs.load(token, who.actor)
    return JSONResponse(
        {
            "state": job.state,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "result": job.result,
            "preview": {"state": job.check, "checked": job.checked}
            | {k: job.preview[k] for k in ("rows", "good", "bad_rows") if k in job.preview},
        }
    )
