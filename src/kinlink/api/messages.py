"""/api/v1/messages: family news (GC III Art. 71), reviewed by a caseworker before it is delivered."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Query, Request

from kinlink.api import schemas
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.params import RowId
from kinlink.http.security import CASEWORKER, CLEAN_URL, REGISTRAR, Principal, api_roles
from kinlink.registry.people import get_person
from kinlink.store.db import unit_of_work
from kinlink.tracing import messages

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["messages"])


@router.post("/records/{person_id}/messages", status_code=201, response_model=list[schemas.MessageOut])
def message_from_person(
    request: Request, person_id: RowId, body: schemas.MessageIn, who: Principal = api_roles(REGISTRAR)
) -> list[schemas.MessageOut]:
    """A message from the person to the family, entered by a registrar; delivered once approved."""
    with unit_of_work(state.engine(request)) as s:
        get_person(s, person_id)
        return [
            schemas.MessageOut.model_validate(m)
            for m in messages.from_person(s, who.actor, person_id, body.body)
        ]


@router.get("/messages", response_model=list[schemas.MessageOut])
def list_messages(
    request: Request,
    state_filter: str | None = Query("submitted", alias="state"),
    who: Principal = api_roles(CASEWORKER),
) -> list[schemas.MessageOut]:
    with unit_of_work(state.engine(request)) as s:
        rows = messages.listing(s, who.actor, "api messages", state_filter or None)
        return [schemas.MessageOut.model_validate(m) for m in rows]


@router.post("/messages/{message_id}/review", response_model=schemas.MessageOut)
def review_message(
    request: Request,
    message_id: RowId,
    body: schemas.ReviewIn,
    background: BackgroundTasks,
    who: Principal = api_roles(CASEWORKER),
) -> schemas.MessageOut:
    with unit_of_work(state.engine(request)) as s:
        msg, note = messages.review(s, who.actor, message_id, body.approve, body.note, body.version)
        deliver_later(background, request, [note])
        return schemas.MessageOut.model_validate(msg)


@router.post("/messages/{message_id}/delivered", response_model=schemas.MessageOut)
def message_delivered(
    request: Request, message_id: RowId, background: BackgroundTasks, who: Principal = api_roles(CASEWORKER)
) -> schemas.MessageOut:
    with unit_of_work(state.engine(request)) as s:
        msg, note = messages.mark_delivered(s, who.actor, message_id)
        deliver_later(background, request, [note])
        return schemas.MessageOut.model_validate(msg)
