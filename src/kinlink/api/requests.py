"""/api/v1/requests (GET): tracing requests for caseworkers, and what each family was told."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from kinlink.api import schemas
from kinlink.api.records import page_limit
from kinlink.http import state
from kinlink.http.params import Offset, RowId
from kinlink.http.security import CASEWORKER, CLEAN_URL, Principal, api_roles
from kinlink.store.db import unit_of_work
from kinlink.tracing import casefile
from kinlink.tracing.disclosure import read_disclosures

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["requests"])


@router.get("/requests", response_model=list[schemas.RequestOut])
def list_requests(
    request: Request,
    state_filter: str | None = Query(None, alias="state"),
    limit: int = 100,
    offset: Offset = 0,
    who: Principal = api_roles(CASEWORKER),
) -> list[schemas.RequestOut]:
    with unit_of_work(state.engine(request)) as s:
        reqs = casefile.read_requests(
            s, who.actor, "api requests", state=state_filter, limit=page_limit(limit), offset=offset
        )
        return [schemas.RequestOut.model_validate(r) for r in reqs]


@router.get("/requests/{request_id}", response_model=schemas.RequestOut)
def get_request(
    request: Request, request_id: RowId, who: Principal = api_roles(CASEWORKER)
) -> schemas.RequestOut:
    with unit_of_work(state.engine(request)) as s:
        return schemas.RequestOut.model_validate(casefile.read_request(s, who.actor, request_id, "api"))


@router.get("/requests/{request_id}/disclosures")
def list_disclosures(
    request: Request, request_id: RowId, who: Principal = api_roles(CASEWORKER)
) -> list[dict]:
    with unit_of_work(state.engine(request)) as s:
        return [_disclosure(d) for d in read_disclosures(s, who.actor, request_id, "api")]


def _disclosure(d: Any) -> dict[str, Any]:
    return {
        "id": d.id,
        "at": d.at,
        "recipient": d.recipient,
        "channel": d.channel,
        "items": d.items,
        "consent": d.consent,
    }
