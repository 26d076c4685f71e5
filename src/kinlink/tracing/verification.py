"""Verified enquirers: before a family is told anything beyond "your request is being handled", a
caseworker records how the enquirer was verified (an identity document seen, a call back to a number known
to be theirs, a video call, known to a partner society) and how they are related to the person sought.

The rule itself is kept where every family door reads what it may say (`tracing.disclosure.outcome_for`);
these are the caseworker's actions. A verification can be withdrawn (a doubt, a mistake), and the family is
then told nothing more until a new one is recorded. Each is audited; recording one queues the news the
family may now learn.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.person.text import message_id, text_problem
from kinlink.store.audit import record as audit
from kinlink.store.casework_models import EnquirerVerification, Notification
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.disclosure import verification_of
from kinlink.tracing.notifications import news_for_requests

METHODS = ("identity_document", "call_back", "video_call", "partner_society")
MAX_RELATIONSHIP = 100
MAX_NOTE = 1000


@dataclass
class Verified:
    verification: EnquirerVerification
    notifications: list[Notification]


def _request(session: Session, request_id: int) -> TracingRequest:
    req = session.get(TracingRequest, request_id)
    if req is None:
        raise refuse("not_found", "request_id", "no request %(id)s", id=request_id)
    return req


def _text(field: str, value: str | None, limit: int, *, required: str | None = None) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise refuse("invalid", field, required)
        return None
    found = text_problem(text, multiline=field == "note")
    if found:
        raise refuse("invalid", field, found[0], **found[1])
    if len(text) > limit:
        raise refuse("invalid", field, "at most %(n)s characters", n=limit)
    return text


def record_verification(
    session: Session,
    actor: str,
    request_id: int,
    method: str,
    relationship: str | None,
    note: str | None = None,
) -> Verified:
    """The enquirer of this request is verified, by `method`, as the person sought's `relationship`. A new
    verification stands in place of an earlier one."""
    req = _request(session, request_id)
    if method not in METHODS:
        raise refuse(
            "invalid",
            "method",
            "say how the enquirer was verified: %(methods)s",
            methods=", ".join(METHODS),
        )
    rel = _text(
        "relationship",
        relationship,
        MAX_RELATIONSHIP,
        required=message_id("say how the enquirer is related to the person sought"),
    )
    row = EnquirerVerification(
        request_id=req.id,
        method=method,
        relationship=rel,
        note=_text("note", note, MAX_NOTE),
        recorded_by=str(actor),
    )
    session.add(row)
    session.flush()
    # The audit names how, not the family's details (the relationship and note stay in the row).
    audit(session, actor, "verify", "tracing_request", req.id, {"verification": row.id, "method": method})
    return Verified(row, news_for_requests(session, [req], "status_changed"))


def withdraw_verification(
    session: Session, actor: str, request_id: int, reason: str | None
) -> EnquirerVerification:
    """The standing verification is withdrawn: the family is told nothing beyond "being handled" again."""
    req = _request(session, request_id)
    row = verification_of(session, req.id)
    if row is None:
        raise refuse(
            "conflict", "request_id", "the enquirer of %(reference)s is not verified", reference=req.reference
        )
    row.withdrawn_reason = _text(
        "reason", reason, MAX_NOTE, required=message_id("say why the verification is withdrawn")
    )
    row.withdrawn_by, row.withdrawn_at = str(actor), utcnow()
    session.flush()
    audit(session, actor, "unverify", "tracing_request", req.id, {"verification": row.id})
    return row


def current_verification(session: Session, request_id: int) -> EnquirerVerification | None:
    """The verification that stands for this request's enquirer, if any (for a case already read)."""
    return verification_of(session, request_id)


def read_verification(
    session: Session, actor: str, request_id: int, view: str
) -> EnquirerVerification | None:
    """The same for a staff member who reads it alone: the enquirer's details, so the read is audited."""
    req = _request(session, request_id)
    audit(session, actor, "read", "tracing_request", req.id, {"view": f"{view} verification"})
    return verification_of(session, req.id)
