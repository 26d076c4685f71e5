"""Email to enquirers: what a queued notification says, in the enquirer's language, sent over SMTP.

An email never carries what was disclosed, only that there is news and how to read it (with the
reference and the secret, on the site): mail passes through servers nobody here controls.
"""

from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import Engine

from kinlink.environment import env_bool, env_int, env_str
from kinlink.i18n import DEFAULT, LANGUAGES, gettext_for
from kinlink.store.casework_models import Notification
from kinlink.store.db import unit_of_work
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.notifications import email_of

log = logging.getLogger("kinlink.tracing.mail")


@dataclass(frozen=True)
class MailSettings:
    """The SMTP server and the site's address (KINLINK_SMTP_*, KINLINK_BASE_URL). Without a host,
    notifications are recorded as skipped."""

    host: str | None = field(default_factory=lambda: os.environ.get("KINLINK_SMTP_HOST"))
    port: int = field(default_factory=lambda: env_int("KINLINK_SMTP_PORT", 25))
    user: str | None = field(default_factory=lambda: os.environ.get("KINLINK_SMTP_USER"))
    password: str | None = field(default_factory=lambda: os.environ.get("KINLINK_SMTP_PASSWORD"))
    starttls: bool = field(default_factory=lambda: env_bool("KINLINK_SMTP_STARTTLS", False))
    sender: str = field(default_factory=lambda: env_str("KINLINK_SMTP_FROM", "tracing@kinlink.invalid"))
    base_url: str = field(default_factory=lambda: env_str("KINLINK_BASE_URL", "http://127.0.0.1:8000"))


def compose(
    settings: MailSettings, req: TracingRequest, kind: str, secret: str | None = None
) -> EmailMessage:
    lang = req.enquirer_language if req.enquirer_language in LANGUAGES else DEFAULT
    _ = gettext_for(lang)
    track = settings.base_url.rstrip("/") + "/track"
    msg = EmailMessage()
    msg["From"] = settings.sender
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


def send_pending(
    engine: Engine, settings: MailSettings, ids: list[int], secrets: dict[int, str] | None = None
) -> None:
    """Send these notifications now (run after the transaction that queued them has committed)."""
    secrets = secrets or {}
    for nid in ids:
        with unit_of_work(engine) as session:
            row = session.get(Notification, nid)
            if row is None or row.state != "pending" or row.channel != "email":
                continue
            req = session.get(TracingRequest, row.request_id)
            if req is None:
                continue
            if not settings.host:
                row.state, row.error = "skipped", "no SMTP server configured"
                continue
            msg = compose(settings, req, row.kind, secrets.get(nid))
            try:
                with smtplib.SMTP(settings.host, settings.port, timeout=20) as smtp:
                    if settings.starttls:
                        smtp.starttls()
                    if settings.user:
                        smtp.login(settings.user, settings.password or "")
                    smtp.send_message(msg)
            except (OSError, smtplib.SMTPException) as e:
                # The address is personal data: the log names the notification only.
                log.warning("notification %s not sent: %s", nid, type(e).__name__)
                row.state, row.error = "failed", type(e).__name__
            else:
                row.state, row.sent_at = "sent", utcnow()
