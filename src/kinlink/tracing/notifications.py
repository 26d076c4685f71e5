"""Notifications to enquirers: queued in the transaction that caused them, delivered after it commits
(by email, `tracing.mail`), and only when there is something new the family may learn."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.store.casework_models import Notification
from kinlink.store.chat_models import ChatLink
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.disclosure import TOLD, outcome_for

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KINDS = ("request_filed", "match_confirmed", "status_changed", "message_delivered", "message_received")


def email_of(req: TracingRequest) -> str | None:
    return email_in(req.enquirer_contact)


def email_in(contact: str | None) -> str | None:
    """The email address an enquirer's contact is, or None (a phone number, nothing)."""
    contact = (contact or "").strip()
    return contact if EMAIL.match(contact) else None


def queue(session: Session, req: TracingRequest, kind: str, digest: str | None = None) -> Notification | None:
    """A notification for the enquirer if they gave an email address (returned, to send after the commit);
    None otherwise. Chats following the request (the messenger door) get one of their own, channel "chat",
    which the bot delivers from the database whichever process queued it."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind}")
    followed = session.scalar(select(ChatLink.chat_id).where(ChatLink.request_id == req.id).limit(1))
    if followed is not None:
        session.add(Notification(request_id=req.id, kind=kind, digest=digest, channel="chat"))
        session.flush()
    if email_of(req) is None:
        return None
    row = Notification(request_id=req.id, kind=kind, digest=digest)
    session.add(row)
    session.flush()
    return row


def last_digest(session: Session, request_id: int) -> str | None:
    return session.scalar(
        select(Notification.digest)
        .where(Notification.request_id == request_id, Notification.digest.is_not(None))
        .order_by(Notification.id.desc())
        .limit(1)
    )


def news_for_requests(session: Session, requests: list[TracingRequest], kind: str) -> list[Notification]:
    """Announce what a family may now learn, once per change of what it may learn."""
    out = []
    for req in requests:
        outcome = outcome_for(session, req)
        if outcome.stage not in TOLD:
            continue
        digest = outcome.digest()
        if last_digest(session, req.id) == digest:
            continue
        n = queue(session, req, kind, digest)
        if n is not None:
            out.append(n)
    return out


def news_for_person(session: Session, person_id: int) -> list[Notification]:
    """After a record changed: news for the families whose request is matched to it."""
    return news_for_persons(session, [person_id])


def news_for_persons(session: Session, person_ids: list[int]) -> list[Notification]:
    """After records changed: news for the families whose requests are matched to them (in order)."""
    out: list[Notification] = []
    for i in range(0, len(person_ids), 500):
        reqs = session.scalars(
            select(TracingRequest)
            .where(
                TracingRequest.matched_person_id.in_(person_ids[i : i + 500]),
                TracingRequest.state == "matched",
            )
            .order_by(TracingRequest.id)
        )
        out.extend(news_for_requests(session, list(reqs), "status_changed"))
    return out
