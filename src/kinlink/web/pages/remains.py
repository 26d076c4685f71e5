"""The registrar's pages of unidentified remains: the list, a new record, a record with its candidates
(each comparison explained), and the identification. Registrars only; every read and write is audited by
the domain (`kinlink.registry.remains`). Nothing here is public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kinlink.errors import Refused
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.params import RowId
from kinlink.http.security import CLEAN_URL, CSRF, REGISTRAR, Principal, page_roles
from kinlink.person.remains_fields import FIELDS, MULTILINE
from kinlink.registry import remains as actions
from kinlink.store.db import unit_of_work
from kinlink.web.render import form_int, problems, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])


@router.get("/remains")
def remains_list(
    request: Request, state_: str = Query("", alias="state"), who: Principal = page_roles(REGISTRAR)
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        rows = actions.list_remains(s, who.actor, state=state_ or None)
        return render(request, "staff/remains_list.html", rows=rows, chosen=state_, states=actions.STATES)


def _form(
    request: Request, values: dict[str, Any], errors: dict[str, Any] | None = None, code: int = 200
) -> Response:
    return render(
        request, "staff/remains_form.html", status_code=code, values=values, errors=errors or {},
        fields=FIELDS, long_fields=MULTILINE,
    )  # fmt: skip


@router.get("/remains/new")
def remains_new_form(request: Request, who: Principal = page_roles(REGISTRAR)) -> Response:
    return _form(request, {})


@router.post("/remains/new", dependencies=[CSRF])
async def remains_create(request: Request, who: Principal = page_roles(REGISTRAR)) -> Response:
    form = await request.form()
    values = {k: form.get(k) for k in FIELDS}

    def work() -> int:
        with unit_of_work(state.engine(request)) as s:
            return actions.add_remains(s, who.actor, values, matching=state.matching(request)).remains[0].id

    try:
        rid = await run_in_threadpool(work)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        return _form(request, values, problems(e), 422)
    return redirect(f"/remains/{rid}?done=created")


def _page(request: Request, who: Principal, remains_id: int, code: int = 200, **extra: Any) -> Response:
    with unit_of_work(state.engine(request)) as s:
        case = actions.read_case(s, who.actor, remains_id, "remains page")
        return render(
            request, "staff/remains.html", status_code=code, case=case, fields=FIELDS,
            done=request.query_params.get("done"), errors=extra.pop("errors", {}), **extra,
        )  # fmt: skip


@router.get("/remains/{remains_id}")
def remains_show(request: Request, remains_id: RowId, who: Principal = page_roles(REGISTRAR)) -> Response:
    return _page(request, who, remains_id)


@router.post("/remains/{remains_id}/identify", dependencies=[CSRF])
async def remains_identify(
    request: Request, remains_id: RowId, background: BackgroundTasks, who: Principal = page_roles(REGISTRAR)
) -> Response:
    form = await request.form()
    ids = [i for i in (form_int(v) for v in form.getlist("candidate_id")) if i is not None]
    reason, source = form.get("reason"), form.get("source")

    def work() -> None:
        with unit_of_work(state.engine(request)) as s:
            done = actions.identify(s, who.actor, ids, reason, source, matching=state.matching(request))  # type: ignore[arg-type]
            deliver_later(background, request, done.notifications)

    try:
        await run_in_threadpool(work)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        return _page(request, who, remains_id, 409 if e.kind == "conflict" else 422, errors=problems(e))
    return redirect(f"/remains/{remains_id}?done=identified")


@router.post("/remains/{remains_id}/candidates/{candidate_id}/reject", dependencies=[CSRF])
async def remains_reject(
    request: Request, remains_id: RowId, candidate_id: RowId, who: Principal = page_roles(REGISTRAR)
) -> Response:
    form = await request.form()
    reason, version = form.get("reason"), form_int(form.get("version"))

    def work() -> None:
        with unit_of_work(state.engine(request)) as s:
            actions.reject(s, who.actor, candidate_id, reason, version)  # type: ignore[arg-type]

    try:
        await run_in_threadpool(work)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        return _page(request, who, remains_id, 409 if e.kind == "conflict" else 422, errors=problems(e))
    return redirect(f"/remains/{remains_id}?done=rejected")
