"""/api/v1/records: the registry's records, their history, consent and the decision on telling a death."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import TypeAdapter

from kinlink.api import schemas
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.errors import ApiError
from kinlink.http.params import Offset, RowId
from kinlink.http.security import (
    CASEWORKER,
    CLEAN_URL,
    REGISTRAR,
    Principal,
    RoleCheck,
    api_roles,
    api_roles_in_route,
)
from kinlink.registry import records
from kinlink.registry.people import read_person
from kinlink.registry.search import search_records
from kinlink.store.db import reading_unit, unit_of_work

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["records"])
# The staff search, whose role dependency makes the URL's check (security.CLEAN_URL's note); listed before
# `router`, so that the routes keep their order (and the OpenAPI spec its own).
search_router = APIRouter(prefix="/api/v1", tags=["records"])
READERS = (REGISTRAR, CASEWORKER)


def body_values(model: Any) -> dict[str, Any]:
    """What the client sent (fields left out are left as they are), without the version it read."""
    return {k: v for k, v in model.model_dump(exclude_unset=True).items() if k != "version"}


def page_limit(limit: int) -> int:
    if not 1 <= limit <= 500:
        raise ApiError(422, "limit must be between 1 and 500", "limit")
    return limit


# The list's JSON as FastAPI makes it of the response model (pydantic's dump_json of the list, by alias), made
# in the route's own worker thread: returned as models, a sync route's response is validated in a second
# hop to the threadpool (~0.05-0.3 ms of CPU on this machine, more than the validation), every search.
_SUMMARIES = TypeAdapter(list[schemas.RecordSummary])


@search_router.get("/records", response_model=list[schemas.RecordSummary])
def list_records(
    request: Request,
    q: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: Offset = 0,
    check: RoleCheck = api_roles_in_route(*READERS),
) -> Response:
    """Search records by name (any script; transliterated and fuzzy), record id or service number."""
    with reading_unit(state.engine(request)) as s:  # a search: reads, and its audit entry alone
        # The role checked in this route's thread (one hop to the threadpool a search, not two), the token
        # read on the search's own connection (one pool checkout): nothing is read or written before it.
        who = check(s.connection())
        hits = search_records(
            s,
            who.actor,
            "api records",
            q,
            model=state.matching(request).model,
            status=status,
            limit=page_limit(limit),
            offset=offset,
        )
        listed = [schemas.record_summary(h.person, h.probability) for h in hits]
    return Response(_SUMMARIES.dump_json(listed, by_alias=True), media_type="application/json")


@router.post("/records", status_code=201, response_model=schemas.RecordOut)
def create_record(
    request: Request,
    body: schemas.RecordIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> schemas.RecordOut:
    with unit_of_work(state.engine(request)) as s:
        written = records.create_record(s, who.actor, body_values(body), matching=state.matching(request))
        deliver_later(background, request, written.notifications)
        return schemas.record_out(written.person)


@router.get("/records/{person_id}", response_model=schemas.RecordOut)
def get_record(request: Request, person_id: RowId, who: Principal = api_roles(*READERS)) -> schemas.RecordOut:
    with unit_of_work(state.engine(request)) as s:
        return schemas.record_out(read_person(s, who.actor, person_id, "api"))


@router.put("/records/{person_id}", response_model=schemas.RecordOut)
def update_record(
    request: Request,
    person_id: RowId,
    body: schemas.RecordUpdate,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> schemas.RecordOut:
    with unit_of_work(state.engine(request)) as s:
        written = records.update_record(
            s, who.actor, person_id, body_values(body), body.version, matching=state.matching(request)
        )
        deliver_later(background, request, written.notifications)
        return schemas.record_out(written.person)


@router.get("/records/{person_id}/events", response_model=list[schemas.EventOut])
def list_events(
    request: Request, person_id: RowId, who: Principal = api_roles(*READERS)
) -> list[schemas.EventOut]:
    with unit_of_work(state.engine(request)) as s:
        person = read_person(s, who.actor, person_id, "api events")
        return [schemas.EventOut.model_validate(e) for e in person.events]


@router.post("/records/{person_id}/events", status_code=201, response_model=schemas.RecordOut)
def add_event(
    request: Request,
    person_id: RowId,
    body: schemas.EventIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> schemas.RecordOut:
    with unit_of_work(state.engine(request)) as s:
        written = records.add_event(
            s,
            who.actor,
            person_id,
            body.kind,
            body.date,
            body.place,
            body.note,
            body.version,
            matching=state.matching(request),
            confirmation=body.confirmation,
        )
        deliver_later(background, request, written.notifications)
        return schemas.record_out(written.person)


@router.put("/records/{person_id}/consent", response_model=schemas.RecordOut)
def set_consent(
    request: Request,
    person_id: RowId,
    body: schemas.ConsentIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> schemas.RecordOut:
    with unit_of_work(state.engine(request)) as s:
        flags = {k: v for k, v in body_values(body).items() if k not in ("given_on", "given_by", "given_how")}
        source = records.ConsentSource(body.given_on, body.given_by, body.given_how)
        written = records.set_consent(
            s, who.actor, person_id, flags, body.version, matching=state.matching(request), source=source
        )
        deliver_later(background, request, written.notifications)
        return schemas.record_out(written.person)


@router.put("/records/{person_id}/death-disclosure")
def set_death_disclosure(
    request: Request,
    person_id: RowId,
    body: schemas.DeathDisclosureIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> dict[str, Any]:
    with unit_of_work(state.engine(request)) as s:
        decided = records.set_death_disclosure(s, who.actor, person_id, body.disclose, body.include_place)
        deliver_later(background, request, decided.notifications)
        return {"person_id": person_id, "disclose": decided.disclose, "include_place": decided.include_place}
