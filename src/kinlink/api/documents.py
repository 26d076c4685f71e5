"""/api/v1/.../attachments: photos and documents of a record, checked by their content, never public."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kinlink.api import schemas
from kinlink.http import state
from kinlink.http.downloads import file_response
from kinlink.http.params import RowId
from kinlink.http.security import CASEWORKER, CLEAN_URL, REGISTRAR, Principal, api_roles
from kinlink.registry import attachments
from kinlink.store.db import unit_of_work

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["documents"])


@router.get("/records/{person_id}/attachments", response_model=list[schemas.AttachmentOut])
def list_attachments(
    request: Request, person_id: RowId, who: Principal = api_roles(REGISTRAR, CASEWORKER)
) -> list[schemas.AttachmentOut]:
    with unit_of_work(state.engine(request)) as s:
        rows = attachments.read_of_person(s, who.actor, person_id, "api attachments")
        return [schemas.AttachmentOut.model_validate(a) for a in rows]


@router.post("/records/{person_id}/attachments", status_code=201, response_model=schemas.AttachmentOut)
async def add_attachment(
    request: Request,
    person_id: RowId,
    file: UploadFile = File(...),
    kind: str = Form("document"),
    note: str = Form(""),
    who: Principal = api_roles(REGISTRAR),
) -> schemas.AttachmentOut:
    limit = state.settings(request).max_upload_bytes
    data = await file.read(limit + 1)

    def work() -> schemas.AttachmentOut:
        with unit_of_work(state.engine(request)) as s:
            row = attachments.add(s, who.actor, person_id, kind, file.filename, data, limit, note)
            return schemas.AttachmentOut.model_validate(row)

    return await run_in_threadpool(work)


@router.get("/attachments/{attachment_id}", responses={200: {"content": {"application/octet-stream": {}}}})
def get_attachment(
    request: Request, attachment_id: RowId, who: Principal = api_roles(REGISTRAR, CASEWORKER)
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        return file_response(attachments.fetch(s, who.actor, attachment_id))
