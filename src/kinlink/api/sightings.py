"""/api/v1/sightings: people named in open-source reports (news, Telegram...), kept as records of the
report's source."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from kinlink.api import schemas
from kinlink.api.records import body_values, page_limit
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.params import Offset
from kinlink.http.security import CASEWORKER, CLEAN_URL, REGISTRAR, Principal, api_roles
from kinlink.registry.reports import add_sighting as add
from kinlink.registry.search import search_records
from kinlink.store.db import reading_unit, unit_of_work

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["sightings"])


@router.get("/sightings", response_model=list[schemas.RecordSummary])
def list_sightings(
    request: Request,
    q: str | None = None,
    limit: int = 50,
    offset: Offset = 0,
    who: Principal = api_roles(REGISTRAR, CASEWORKER),
) -> list[schemas.RecordSummary]:
    """Records that come from reports (news, Telegram...), not from a registry."""
    with reading_unit(state.engine(request)) as s:  # a search: reads, and its audit entry alone
        hits = search_records(
            s,
            who.actor,
            "api sightings",
            q,
            model=state.matching(request).model,
            source_kind="report",
            limit=page_limit(limit),
            offset=offset,
        )
        return [schemas.record_summary(h.person, h.probability) for h in hits]


@router.post("/sightings", status_code=201, response_model=schemas.RecordOut)
def add_sighting(
    request: Request,
    body: schemas.SightingIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR, CASEWORKER),
) -> schemas.RecordOut:
    with unit_of_work(state.engine(request)) as s:
        written = add(s, who.actor, body_values(body), matching=state.matching(request))
        deliver_later(background, request, written.notifications)
        return schemas.record_out(written.person)
