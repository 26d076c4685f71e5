"""Email to enquirers: queued in the transaction that caused it, sent over SMTP after it commits.

An email never carries what was disclosed, only that there is news and how to read it (with the
reference and the secret, on the site): mail passes through servers nobody here controls.
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import weakref
from email.message import EmailMessage
from email.utils import make_msgid

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.store.db import unit_of_work
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import TracingRequest
from kinlink.store.web_models import Notification
from kinlink.web.i18n import DEFAULT, LANGUAGES, gettext_for
from kinlink.web.settings import Settings

log = logging.getLogger("kinlink.web.notify")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KINDS = ("request_filed", "match_confirmed", "status_changed", "message_delivered", "message_received")


def email_of(req: TracingRequest) -> str | None:
    contact = (req.enquirer_contact or "").strip()
    return contact if EMAIL.match(contact) else None


def queue(session: Session, req: TracingRequest, kind: str, digest: str | None = None) -> Notification | None:
    """A notification for the enquirer if they gave an email address; None otherwise."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind}")
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


def compose(settings: Settings, req: TracingRequest, kind: str, secret: str | None = None) -> EmailMessage:
    lang = req.enquirer_language if req.enquirer_language in LANGUAGES else DEFAULT
    _ = gettext_for(lang)
    track = settings.base_url.rstrip("/") + "/track"
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = email_of(req) or ""
    msg["Message-ID"] = make_msgid(domain="kinlink")
    if kind == "request_filed":
        msg["Subject"] = _("Your tracing request %(reference)s", reference=req.reference)
        body = _(
            "We have received your tracing request.\n\n"
            "Reference: %(reference)s\nSecret: %(secret)s\n\n"
            "Keep both safe: together they let you follow the request at %(url)s. "
            "Do not share the secret. We will never ask you for it by phone or email.",
            reference=req.reference,
            secret=secret or "",
            url=track,
        )
    else:
        msg["Subject"] = _("News about your tracing request %(reference)s", reference=req.reference)
        body = _(
            "There is news about your tracing request %(reference)s.\n\n"
            "To read it, open %(url)s and enter your reference and secret.",
            reference=req.reference,
            url=track,
        )
    msg.set_content(body + "\n\n-- \nkinlink\n")
    return msg


# Per event loop (each server runs its own): a limiter belongs to the loop it was made in.
_MAIL_THREADS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _mail_threads() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _MAIL_THREADS.get(loop)
    if limiter is None:
        limiter = _MAIL_THREADS[loop] = CapacityLimiter(2)
    return limiter


async def send_after_response(
    engine: Engine, settings: Settings, ids: list[int], secrets: dict[int, str] | None = None
) -> None:
    """`send_pending` as a response's background task, in threads of its own: a slow mail server (up to
    its 20 s timeout a message) must not hold the few threads that answer requests."""
    await anyio.to_thread.run_sync(send_pending, engine, settings, ids, secrets, limiter=_mail_threads())


def send_pending(
    engine: Engine, settings: Settings, ids: list[int], secrets: dict[int, str] | None = None
) -> None:
    """Send these notifications now (run after the transaction that queued them has committed)."""
    secrets = secrets or {}
    for nid in ids:
        with unit_of_work(engine) as session:
            row = session.get(Notification, nid)
            if row is None or row.state != "pending":
                continue
            req = session.get(TracingRequest, row.request_id)
            if req is None:
                continue
            if not settings.smtp_host:
                row.state, row.error = "skipped", "no SMTP server configured"
                continue
            msg = compose(settings, req, row.kind, secrets.get(nid))
            try:
                with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
                    if settings.smtp_starttls:
                        smtp.starttls()
                    if settings.smtp_user:
                        smtp.login(settings.smtp_user, settings.smtp_password or "")
                    smtp.send_message(msg)
            except (OSError, smtplib.SMTPException) as e:
                # The address is personal data: the log names the notification only.
                log.warning("notification %s not sent: %s", nid, type(e).__name__)
                row.state, row.error = "failed", type(e).__name__
            else:
                row.state, row.sent_at = "sent", utcnow()
