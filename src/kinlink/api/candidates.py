"""/api/v1/candidates: what matching proposes, side by side with its reasons, and the caseworker's
decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query, Request

from kinlink.api import schemas
from kinlink.api.records import page_limit
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.params import QueryId, RowId
from kinlink.http.security import CASEWORKER, CLEAN_URL, Principal, api_roles
from kinlink.i18n import DEFAULT, negotiate, translations
from kinlink.matching.evidence import probability_band, rendered_explanation, stored_message
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
        translate = _reader_language(request)
        out = [schemas.CandidateOut.model_validate(c) for c in queue.candidates]
        for c in out:
            c.explanation = rendered_explanation(c.explanation, translate)
        return out


@router.get("/candidates/{candidate_id}")
def get_candidate(
    request: Request, candidate_id: RowId, who: Principal = api_roles(CASEWORKER)
) -> dict[str, Any]:
    """The candidate with the side-by-side comparison and the per-field explanation."""
    with unit_of_work(state.engine(request)) as s:
        view = casefile.read_candidate(s, who.actor, candidate_id)
        translate = _reader_language(request)
        candidate = schemas.CandidateOut.model_validate(view.candidate).model_dump()
        candidate["explanation"] = rendered_explanation(candidate["explanation"], translate)
        return {
            "candidate": candidate,
            "likelihood": probability_band(view.candidate.probability).to_json(translate),
            "left": {"kind": view.left_kind, "id": view.left_id},
            "right": {"kind": "record", "id": view.right.id},
            "comparison": [
                {
                    "field": r.field,
                    "left": r.left,
                    "right": r.right,
                    "evidence": [{**e, "message": stored_message(e).to_json(translate)} for e in r.evidence],
                }
                for r in view.rows
            ],
            "decisions": view.reasons,
        }


def _reader_language(request: Request) -> Callable[[str], str] | None:
    """The evidence's language: English ("text" is always English), or the one Accept-Language asks for,
    in each message's own "text"."""
    lang = negotiate(request.headers.get("accept-language"))
    return None if lang == DEFAULT else translations(lang).gettext


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
