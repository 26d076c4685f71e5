"""Chats that follow a tracing request (the messenger door): linked once the family's secret proved right
(or when the request was filed from the chat), unlinked and forgotten at the family's word.

A linked chat reads what the family of that request may read (`family_access.family_view`), with no secret
asked again: whoever holds the chat holds what the secret gave. Only the link is stored (`ChatLink`), never
the secret; the audit names the request and the messenger, never the chat's number.

Notifications for chats are rows of `notifications` with channel "chat" (queued by
`tracing.notifications.queue` beside the email); the bot claims them (so that two processes never send
one twice), sends them to every chat following the request and marks them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from kinlink.i18n import DEFAULT, LANGUAGES
from kinlink.store.audit import record as audit
from kinlink.store.casework_models import Notification
from kinlink.store.chat_models import ChatLink
from kinlink.store.db import unit_of_work
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import TracingRequest

CLAIMED = "sending"


def _language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT


def link_chat(session: Session, messenger: str, chat_id: int, request_id: int, language: str | None) -> None:
    """This chat now follows this request (in place of any it followed)."""
    row = session.get(ChatLink, (messenger, chat_id))
    if row is None:
        row = ChatLink(messenger=messenger, chat_id=chat_id, request_id=request_id)
        session.add(row)
    row.request_id, row.language, row.linked_at = request_id, _language(language), utcnow()
    session.flush()
    audit(session, f"{messenger}:family", "link", "tracing_request", request_id, {"messenger": messenger})


def linked_request(session: Session, messenger: str, chat_id: int) -> int | None:
    """The request this chat follows, if any."""
    row = session.get(ChatLink, (messenger, chat_id))
    return row.request_id if row is not None else None


def set_chat_language(session: Session, messenger: str, chat_id: int, language: str) -> None:
    row = session.get(ChatLink, (messenger, chat_id))
    if row is not None:
        row.language = _language(language)


def forget_chat(session: Session, messenger: str, chat_id: int) -> bool:
    """Unlink the chat: its row is deleted, nothing of it remains. Whether there was one."""
    row = session.get(ChatLink, (messenger, chat_id))
    if row is None:
        return False
    request_id = row.request_id
    session.delete(row)
    session.flush()
    audit(session, f"{messenger}:family", "unlink", "tracing_request", request_id, {"messenger": messenger})
    return True


@dataclass(frozen=True)
class ChatNotice:
    id: int
    kind: str
    reference: str
    chats: tuple[tuple[int, str], ...]  # (chat, its language)


def claim_chat_notices(engine: Engine, messenger: str, limit: int = 50) -> list[ChatNotice]:
    """Pending chat notifications, each claimed by this caller (another process's claim is left)."""
    out = []
    with unit_of_work(engine) as s:
        ids = list(
            s.scalars(
                select(Notification.id)
                .where(Notification.channel == "chat", Notification.state == "pending")
                .order_by(Notification.id)
                .limit(limit)
            )
        )
    for nid in ids:
        with unit_of_work(engine) as s:
            took = s.execute(
                update(Notification)
                .where(Notification.id == nid, Notification.state == "pending")
                .values(state=CLAIMED)
            ).rowcount
            if not took:
                continue
            row = s.get(Notification, nid)
            req = s.get(TracingRequest, row.request_id) if row is not None else None
            if row is None or req is None:
                continue
            chats = s.execute(
                select(ChatLink.chat_id, ChatLink.language).where(
                    ChatLink.messenger == messenger, ChatLink.request_id == req.id
                )
            ).all()
            out.append(ChatNotice(nid, row.kind, req.reference, tuple((c, lang) for c, lang in chats)))
    return out


def finish_chat_notice(engine: Engine, notice_id: int, error: str | None = None) -> None:
    """Sent (or failed, with the kind of error only: never an address or a text)."""
    with unit_of_work(engine) as s:
        row = s.get(Notification, notice_id)
        if row is None:
            return
        if error:
            row.state, row.error = "failed", error[:300]
        else:
            row.state, row.sent_at = "sent", utcnow()
