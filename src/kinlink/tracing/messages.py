"""Family news (GC III Art. 71): short messages between an enquirer and the person found.

Every message is reviewed by a caseworker before delivery. A family's message to the person is
`submitted` -> `approved` (or `rejected`) -> `delivered` when staff hand it over. A message from the
person, entered by a registrar, is `submitted` -> `delivered` when approved (the family reads it online).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.person.text import text_problem
from kinlink.store.audit import record as audit
from kinlink.store.audit import record_read
from kinlink.store.casework_models import Message, Notification
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.disclosure import outcome_for
from kinlink.tracing.notifications import queue

MAX_BODY = 2000
STATES = ("submitted", "approved", "rejected", "delivered")


def _body(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise refuse("invalid", "body", "the message is empty")
    found = text_problem(body)
    if found:
        raise refuse("invalid", "body", found[0], **found[1])
    if len(body) > MAX_BODY:
        raise refuse("invalid", "body", "a message is at most %(n)s characters", n=MAX_BODY)
    return body


def from_family(session: Session, request_id: int, text: str) -> Message:
    req = session.get(TracingRequest, request_id)
    if req is None:
        raise refuse("not_found", "request_id", "no request %(id)s", id=request_id)
    outcome = outcome_for(session, req)
    if not outcome.messages_allowed or outcome.person_id is None:
        raise refuse("invalid", "request_id", "messages cannot be sent for this request")
    actor = f"family:request-{req.id}"
    msg = Message(
        request_id=req.id,
        person_id=outcome.person_id,
        direction="to_person",
        body=_body(text),
        entered_by=actor,
    )
    session.add(msg)
    session.flush()
    # The audit names the message, not its words.
    audit(session, actor, "create", "message", msg.id, {"direction": "to_person", "request_id": req.id})
    return msg


def from_person(session: Session, actor: str, person_id: int, text: str) -> list[Message]:
    """A message the person wrote, entered by a registrar: one per request that may receive it."""
    body = _body(text)
    out = []
    for req in session.scalars(
        select(TracingRequest).where(
            TracingRequest.matched_person_id == person_id, TracingRequest.state == "matched"
        )
    ):
        if not outcome_for(session, req).messages_allowed:
            continue
        msg = Message(
            request_id=req.id, person_id=person_id, direction="from_person", body=body, entered_by=actor
        )
        session.add(msg)
        session.flush()
        audit(session, actor, "create", "message", msg.id, {"direction": "from_person", "request_id": req.id})
        out.append(msg)
    if not out:
        raise refuse(
            "invalid",
            "person_id",
            "no family may receive messages from this person (no confirmed match with consent)",
        )
    return out


def review(
    session: Session,
    actor: str,
    message_id: int,
    approve: bool,
    note: str | None,
    expected_version: int | None,
) -> tuple[Message, Notification | None]:
    msg = session.get(Message, message_id)
    if msg is None:
        raise refuse("not_found", "message_id", "no message %(id)s", id=message_id)
    if expected_version is not None and msg.version != expected_version:
        raise refuse("conflict", "version", "the message was reviewed by someone else meanwhile")
    if msg.state != "submitted":
        raise refuse("conflict", "state", "the message is already %(state)s", state=msg.state)
    if not approve and not (note or "").strip():
        raise refuse("invalid", "note", "a rejection needs a reason")
    before = msg.state
    now = utcnow()
    msg.reviewed_by, msg.reviewed_at, msg.review_note = actor, now, (note or "").strip() or None
    notification = None
    if not approve:
        msg.state = "rejected"
    elif msg.direction == "from_person":
        msg.state, msg.delivered_at = "delivered", now
        req = session.get(TracingRequest, msg.request_id)
        if req is not None:
            notification = queue(session, req, "message_received")
    else:
        msg.state = "approved"
    session.flush()
    audit(session, actor, "update", "message", msg.id, {"state": [before, msg.state]})
    return msg, notification


def mark_delivered(session: Session, actor: str, message_id: int) -> tuple[Message, Notification | None]:
    msg = session.get(Message, message_id)
    if msg is None:
        raise refuse("not_found", "message_id", "no message %(id)s", id=message_id)
    if msg.direction != "to_person" or msg.state != "approved":
        raise refuse(
            "invalid", "message_id", "only an approved message to the person can be marked delivered"
        )
    msg.state, msg.delivered_at = "delivered", utcnow()
    session.flush()
    audit(session, actor, "update", "message", msg.id, {"state": ["approved", "delivered"]})
    req = session.get(TracingRequest, msg.request_id)
    return msg, (queue(session, req, "message_delivered") if req is not None else None)


def for_family(session: Session, request_id: int) -> list[Message]:
    """What the family sees: its own messages with their state, and the person's delivered ones."""
    return list(session.scalars(_FOR_FAMILY, {"request_id": request_id}))


# Built once: the family's status page, the busiest page of all, runs it at every reload.
_FOR_FAMILY = (
    select(Message)
    .where(
        Message.request_id == bindparam("request_id"),
        (Message.direction == "to_person") | (Message.state == "delivered"),
    )
    .order_by(Message.id)
)


def listing(
    session: Session, actor: str, view: str, state: str | None = None, limit: int = 200
) -> list[Message]:
    """Messages for review, oldest first; the read is audited (their words are families' and persons')."""
    q = select(Message).order_by(Message.id)
    if state:
        q = q.where(Message.state == state)
    rows = list(session.scalars(q.limit(limit)))
    record_read(session, actor, "message", [m.id for m in rows], view, {"state": state, "limit": limit})
    return rows
