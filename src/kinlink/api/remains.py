"""/api/v1/remains: records of unidentified remains, their candidates and the identification. Registrars
only; the domain (`kinlink.registry.remains`) audits every read and write. The body's fields are the ones
defined once in `kinlink.person.remains_fields`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from pydantic import Field, create_model

from kinlink.api.records import body_values
from kinlink.api.schemas import In
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.params import RowId
from kinlink.http.security import CLEAN_URL, REGISTRAR, Principal, api_roles
from kinlink.matching.evidence import probability_band, rendered_explanation
from kinlink.person.remains_fields import FIELDS, MEANINGS
from kinlink.registry import remains as actions
from kinlink.store.db import unit_of_work

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["remains"])

RemainsIn = create_model(
    "RemainsIn",
    __base__=In,
    __doc__="A record of unidentified remains (the fields and rules of `kinlink remains add`).",
    **{f: (str | int | None, Field(default=None, description=MEANINGS[f])) for f in FIELDS},  # type: ignore[call-overload]
)


class IdentificationIn(In):
    candidate_ids: list[int] = Field(description="the candidates the remains are: one record, its requests")
    reason: str | None = None
    source: str | None = Field(default=None, description="how the identification was confirmed")


def _out(r: Any) -> dict[str, Any]:
    return {"id": r.id, **{f: getattr(r, f) for f in FIELDS}, "state": r.state,
            "identified_person_id": r.identified_person_id, "identified_source": r.identified_source,
            "version": r.version}  # fmt: skip


@router.get("/remains")
def list_remains(
    request: Request, state_: str | None = Query(None, alias="state"), who: Principal = api_roles(REGISTRAR)
) -> list[dict]:
    with unit_of_work(state.engine(request)) as s:
        return [_out(r) for r in actions.list_remains(s, who.actor, state=state_)]


@router.post("/remains", status_code=201)
def add_remains(request: Request, body: RemainsIn, who: Principal = api_roles(REGISTRAR)) -> dict:  # type: ignore[valid-type]
    with unit_of_work(state.engine(request)) as s:
        added = actions.add_remains(s, who.actor, body_values(body), matching=state.matching(request))
        return {**_out(added.remains[0]), "candidates": added.candidates}


@router.get("/remains/{remains_id}")
def read_remains(request: Request, remains_id: RowId, who: Principal = api_roles(REGISTRAR)) -> dict:
    """The remains with their candidates, each comparison explained (its message and English text)."""
    with unit_of_work(state.engine(request)) as s:
        case = actions.read_case(s, who.actor, remains_id, "api remains")
        return {
            **_out(case.remains),
            "candidates": [
                {"id": c.id, "person_id": c.person_id, "request_id": c.request_id, "state": c.state,
                 "version": c.version, "probability": c.probability,
                 "band": probability_band(c.probability).text(), "name": case.names[c.id],
                 "explanation": rendered_explanation(c.explanation)}
                for c in case.candidates
            ],
        }  # fmt: skip


@router.post("/remains/{remains_id}/identification")
def identify(
    request: Request,
    remains_id: RowId,
    body: IdentificationIn,
    background: BackgroundTasks,
    who: Principal = api_roles(REGISTRAR),
) -> dict:
    """Confirm the identification: the remains identified, the record's death with its source, the requests
    matched to it."""
    with unit_of_work(state.engine(request)) as s:
        done = actions.identify(
            s, who.actor, body.candidate_ids, body.reason, body.source, matching=state.matching(request)
        )
        deliver_later(background, request, done.notifications)
        return {**_out(done.remains), "person_id": done.person_id, "request_ids": done.request_ids}
