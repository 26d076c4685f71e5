"""The caseworker's pages: the queue of candidates, a candidate side by side and its decision, the cases
(with the verification of their enquirers), and the review of family messages."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import Response

from kinlink.errors import Refused
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.params import RowId
from kinlink.http.security import CASEWORKER, CLEAN_URL, CSRF, Principal, page_roles
from kinlink.i18n import LANGUAGES
from kinlink.registry.certificates import certificates_of
from kinlink.store.db import unit_of_work
from kinlink.tracing import casefile, messages, verification
from kinlink.tracing.candidates import LISTED_STATES
from kinlink.tracing.decisions import decide, last_decision, next_decisions, preview
from kinlink.web.render import form_int, problems, redirect, refusal_text, render

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])


@router.get("/queue")
def queue(
    request: Request,
    state_filter: str = Query("pending", alias="state"),
    who: Principal = page_roles(CASEWORKER),
) -> Response:
    wanted = state_filter if state_filter in LISTED_STATES else "pending"
    decided_id = form_int(request.query_params.get("decided"))
    with unit_of_work(state.engine(request)) as s:
        q = casefile.read_candidates(s, who.actor, "queue page", state=wanted, limit=200)
        # The notice of what the caseworker just decided, and who is told (the decision's own account).
        done = last_decision(s, decided_id) if decided_id else None
    return render(
        request,
        "staff/queue.html",
        candidates=q.candidates,
        people=q.people,
        reqs=q.requests,
        state=wanted,
        done=done,
    )


def _candidate_page(
    request: Request, who: Principal, candidate_id: int, status_code: int = 200, **extra: object
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        view = casefile.read_candidate(s, who.actor, candidate_id)
        return render(
            request,
            "staff/candidate.html",
            status_code=status_code,
            view=view,
            req=view.request,
            next_decisions=next_decisions(view.candidate.state),
            **extra,
        )


@router.get("/candidates/{candidate_id}")
def candidate_show(
    request: Request, candidate_id: RowId, who: Principal = page_roles(CASEWORKER)
) -> Response:
    return _candidate_page(request, who, candidate_id)


@router.post("/candidates/{candidate_id}/decision", dependencies=[CSRF])
def candidate_decide(
    request: Request,
    candidate_id: RowId,
    background: BackgroundTasks,
    decision: str = Form(""),
    reason: str = Form(""),
    version: str = Form(""),
    supersede: str = Form(""),
    step: str = Form(""),
    who: Principal = page_roles(CASEWORKER),
) -> Response:
    """Two steps: the first shows what the decision will do and who will be told (nothing is written);
    the second (`step=confirm`) decides, then the queue says what was done."""
    seen = form_int(version)
    if step == "edit":  # back from the check, with what was typed
        return _candidate_page(
            request, who, candidate_id, reason=reason, decision=decision, supersede=bool(supersede)
        )
    try:
        if step != "confirm":
            with unit_of_work(state.engine(request)) as s:
                ahead = preview(s, candidate_id, decision, reason, seen, supersede=bool(supersede))
            return render(
                request,
                "staff/decision_confirm.html",
                candidate_id=candidate_id,
                decision=decision,
                reason=reason,
                version=version,
                supersede=supersede,
                ahead=ahead,
            )
        with unit_of_work(state.engine(request)) as s:
            decided = decide(
                s,
                who.actor,
                candidate_id,
                decision,
                reason,
                seen if seen is not None else -1,
                model=state.matching(request).model,
                supersede=bool(supersede),
            )
            deliver_later(background, request, decided.notifications)
    except Refused as e:
        if e.kind not in ("conflict", "invalid"):
            raise
        # The candidate again, the refusal beside its field, what was typed kept.
        code = 409 if e.kind == "conflict" else 422
        return _candidate_page(
            request,
            who,
            candidate_id,
            code,
            errors=problems(e),
            reason=reason,
            decision=decision,
            supersede=bool(supersede),
        )
    return redirect(f"/queue?decided={candidate_id}")


@router.get("/cases")
def case_list(
    request: Request, state_filter: str = Query("", alias="state"), who: Principal = page_roles(CASEWORKER)
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        reqs = casefile.read_requests(
            s, who.actor, "cases page", state=state_filter or None, limit=200, newest_first=True
        )
        counts = casefile.pending_counts(s)
    return render(request, "staff/cases.html", reqs=reqs, counts=counts, state=state_filter)


def case_page(
    request: Request, who: Principal, request_id: int, status_code: int = 200, **extra: object
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        case = casefile.read_case(s, who.actor, request_id, "case")
        return render(
            request,
            "staff/case.html",
            status_code=status_code,
            req=case.request,
            candidates=case.candidates,
            people=case.people,
            outcome=case.outcome,
            disclosures=case.disclosures,
            messages=case.messages,
            notifications=case.notifications,
            verification=verification.current_verification(s, request_id),
            methods=verification.METHODS,
            certificates=certificates_of(s, request_id=request_id),
            languages_known=LANGUAGES,
            **extra,
        )


@router.get("/cases/{request_id}")
def case_show(request: Request, request_id: RowId, who: Principal = page_roles(CASEWORKER)) -> Response:
    return case_page(request, who, request_id)


@router.post("/cases/{request_id}/verification", dependencies=[CSRF])
def case_verify(
    request: Request,
    request_id: RowId,
    background: BackgroundTasks,
    method: str = Form(""),
    relationship: str = Form(""),
    note: str = Form(""),
    who: Principal = page_roles(CASEWORKER),
) -> Response:
    try:
        with unit_of_work(state.engine(request)) as s:
            done = verification.record_verification(s, who.actor, request_id, method, relationship, note)
            deliver_later(background, request, done.notifications)
    except Refused as e:
        if e.kind != "invalid":
            raise
        return case_page(request, who, request_id, 422, verification_errors=problems(e))
    return redirect(f"/cases/{request_id}")


@router.post("/cases/{request_id}/verification/withdraw", dependencies=[CSRF])
def case_unverify(
    request: Request, request_id: RowId, reason: str = Form(""), who: Principal = page_roles(CASEWORKER)
) -> Response:
    try:
        with unit_of_work(state.engine(request)) as s:
            verification.withdraw_verification(s, who.actor, request_id, reason)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        return case_page(request, who, request_id, 422, withdraw_error=refusal_text(request, e))
    return redirect(f"/cases/{request_id}")


@router.get("/messages")
def message_queue(request: Request, who: Principal = page_roles(CASEWORKER)) -> Response:
    with unit_of_work(state.engine(request)) as s:
        pending = messages.listing(s, who.actor, "messages page", "submitted")
        approved = [
            m
            for m in messages.listing(s, who.actor, "messages page", "approved")
            if m.direction == "to_person"
        ]
        refs = casefile.references(s, {m.request_id for m in (*pending, *approved)})
    return render(
        request,
        "staff/messages.html",
        pending=pending,
        approved=approved,
        refs=refs,
        done=request.query_params.get("done"),
    )


@router.post("/messages/{message_id}/review", dependencies=[CSRF])
def message_review(
    request: Request,
    message_id: RowId,
    background: BackgroundTasks,
    action: str = Form(""),
    note: str = Form(""),
    version: str = Form(""),
    who: Principal = page_roles(CASEWORKER),
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        _msg, n = messages.review(s, who.actor, message_id, action == "approve", note, form_int(version))
        deliver_later(background, request, [n])
    return redirect("/messages?done=reviewed")


@router.post("/messages/{message_id}/delivered", dependencies=[CSRF])
def message_delivered(
    request: Request, message_id: RowId, background: BackgroundTasks, who: Principal = page_roles(CASEWORKER)
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        _msg, n = messages.mark_delivered(s, who.actor, message_id)
        deliver_later(background, request, [n])
    return redirect("/messages?done=delivered")
