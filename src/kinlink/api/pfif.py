"""/api/v1/pfif: records exchanged with partners in PFIF (Person Finder, Sahana, Red Cross partners)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kinlink.api import schemas
from kinlink.http import state
from kinlink.http.delivery import deliver_later_ids
from kinlink.http.errors import ApiError
from kinlink.http.security import CLEAN_URL, REGISTRAR, Principal, api_roles
from kinlink.registry import pfif

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["pfif"])


@router.get("/pfif", responses={200: {"content": {"application/xml": {}}}})
def export_pfif(
    request: Request,
    source: str | None = None,
    all_records: bool = False,
    version: str = "1.4",
    who: Principal = api_roles(REGISTRAR),
) -> Response:
    """Records as PFIF 1.4 (or 1.2), erased records as expired placeholders. By default only records whose
    person consented to inform the family, and within their consent (location only if shared)."""
    xml = pfif.export_xml(
        state.engine(request), who.actor, source=source, consented_only=not all_records, version=version
    )
    return Response(xml, media_type="application/xml")


@router.post(
    "/pfif",
    response_model=schemas.PfifImport,
    openapi_extra={
        "requestBody": {"content": {"application/xml": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_pfif(
    request: Request, background: BackgroundTasks, who: Principal = api_roles(REGISTRAR)
) -> schemas.PfifImport:
    data = await request.body()
    if len(data) > state.settings(request).max_upload_bytes:
        raise ApiError(413, "the PFIF document is too large")
    result = await run_in_threadpool(
        pfif.import_xml, state.engine(request), data, who.actor, matching=state.matching(request)
    )
    deliver_later_ids(background, request, result.notifications)
    return schemas.PfifImport(**result.as_dict())
