"""/api/v1/requests (POST) and /api/v1/requests/status: the family's door, without an account. The
reference and the secret go in the body, never in the URL."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from kinlink.api import schemas
from kinlink.http import state
from kinlink.http.delivery import deliver_later
from kinlink.http.errors import ApiError
from kinlink.http.security import CLEAN_URL, EVERYONE, Principal, api_roles, client_ip
from kinlink.store.db import unit_of_work
from kinlink.tracing.family_access import open_request, opened_view
from kinlink.tracing.intake import Filer, file_request

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["family"])


@router.post("/requests", status_code=201, response_model=schemas.RequestFiled)
def file(
    request: Request,
    body: schemas.RequestIn,
    background: BackgroundTasks,
    who: Principal = api_roles(*EVERYONE),
) -> schemas.RequestFiled:
    """File a tracing request without an account. The answer holds the reference and the secret (once)."""
    filer = Filer(who.actor, None) if who.is_staff else Filer("api:family", client_ip(request))
    values = body.model_dump()
    with unit_of_work(state.engine(request)) as s:
        filed = file_request(
            s,
            filer,
            values,
            matching=state.matching(request),
            limiter=state.limiter(request),
            mail=state.settings(request).mail,
        )
    note = filed.notification
    if note is not None:
        deliver_later(background, request, [note], {note.id: filed.secret})
    return schemas.RequestFiled(reference=filed.request.reference, secret=filed.secret, emailed=filed.emailed)


@router.post("/requests/status", response_model=schemas.FamilyStatus)
def status(
    request: Request, body: schemas.Credentials, who: Principal = api_roles(*EVERYONE)
) -> schemas.FamilyStatus:
    """What the family may know now."""
    req = open_request(
        state.engine(request), state.limiter(request), client_ip(request), body.reference, body.secret
    )
    if req is None:
        raise ApiError(401, "the reference or the secret is wrong", "secret")
    # The same read as the family's page: without an ORM Session when the view records nothing.
    view = opened_view(state.engine(request), lambda _conn: req.id, "api")
    if view is None:
        raise ApiError(401, "the reference or the secret is wrong", "secret")
    return schemas.FamilyStatus(
        reference=view.reference,
        stage=view.outcome.stage,
        items={k: v for k, v in view.outcome.items.items() if k != "photo"},
        messages=[
            {"direction": m.direction, "body": m.body, "state": m.state, "at": m.created_at.isoformat()}
            for m in view.messages
        ],
        verified=view.verified,
    )
