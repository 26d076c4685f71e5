"""/api/v1/candidates: what matching proposes, side by side with its reasons, and the caseworker's
decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query, Request

from kinlink.api import schemas
from kinlink.api.records import page_limit
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.params import QueryId, RowId
from kinlink.http.security import CASEWORKER, CLEAN_URL, Principal, api_roles
from kinlink.store.db import unit_of_work
from kinlink.tracing import casefile
from kinlink.tracing.decisions import decide

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["candidates"])


@router.get("/candidates", response_model=list[schemas.CandidateOut])
def list_candidates(
    request: Request,
    state_filter: str | None = Query("pending", alias="state"),
    request_id: QueryId = None,
    limit: int = 100,
    who: Principal = api_roles(CASEWORKER),
) -> list[schemas.CandidateOut]:
    """Candidates, most probable first (the caseworker's queue)."""
    with unit_of_work(state.engine(request)) as s:
        queue = casefile.read_candidates(
            s,
            who.actor,
            "api candidates",
            state=state_filter or None,
            request_id=request_id,
            limit=page_limit(limit),
        )
        return [schemas.CandidateOut.model_validate(c) for c in queue.candidates]


@router.get("/candidates/{candidate_id}")
def get_candidate(
    request: Request, candidate_id: RowId, who: Principal = api_roles(CASEWORKER)
) -> dict[str, Any]:
    """The candidate with the side-by-side comparison and the per-field explanation."""
    with unit_of_work(state.engine(request)) as s:
        view = casefile.read_candidate(s, who.actor, candidate_id)
        return {
            "candidate": schemas.CandidateOut.model_validate(view.candidate).model_dump(),
            "left": {"kind": view.left_kind, "id": view.left_id},
            "right": {"kind": "record", "id": view.right.id},
            "comparison": [
                {"field": r.field, "left": r.left, "right": r.right, "evidence": r.evidence}
                for r in view.rows
            ],
            "decisions": view.reasons,
        }


@router.post("/candidates/{candidate_id}/decision", response_model=schemas.CandidateOut)
def decision(
    request: Request,
    candidate_id: RowId,
    body: schemas.DecisionIn,
    background: BackgroundTasks,
    who: Principal = api_roles(CASEWORKER),
) -> schemas.CandidateOut:
    with unit_of_work(state.engine(request)) as s:
        decided = decide(
            s,
            who.actor,
            candidate_id,
            body.decision,
            body.reason,
            body.version,
            model=state.matching(request).model,
            supersede=body.supersede,
        )
        deliver_later(background, request, decided.notifications)
        return schemas.CandidateOut.model_validate(decided.candidate)
