"""Tables of the web application: staff accounts, API tokens, sessions, disclosures, messages,
notifications, attachments and the registrar's decision on disclosing a death."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from kinlink.store.models import Base, utcnow

ROLES = ("registrar", "caseworker", "admin")


class User(Base):
    """A staff member. Families have no accounts: they follow a request with its reference and secret."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[str] = mapped_column(String(20))  # registrar | caseworker | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A bearer token for a staff client. Only its SHA-256 is kept; the token is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A browser session, kept on the server so that signing out or disabling a user ends it at once.

    kind 'staff' carries a user; kind 'family' carries the tracing request its code and secret opened.
    The cookie holds a random token; only its SHA-256 is stored.
    """

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_expires", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # staff | family
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeathDisclosure(Base):
    """The registrar's decision whether (and how much of) a death is told to families tracing the person."""

    __tablename__ = "death_disclosures"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    disclose: Mapped[bool] = mapped_column(Boolean, default=False)
    include_place: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Disclosure(Base):
    """What was told to whom, when, and under which consent (Restoring Family Links practice)."""

    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_request", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(200))  # 'enquirer of TR-XXXX-XXXX'
    channel: Mapped[str] = mapped_column(String(20))  # web | api | email
    items: Mapped[dict] = mapped_column(JSON)  # what was disclosed
    consent: Mapped[dict] = mapped_column(JSON)  # the consent (and death decision) it was disclosed under
    digest: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Message(Base):
    """Family news (GC III Art. 71) between an enquirer and the person found, reviewed by a caseworker."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_request", "request_id"),
        Index("ix_messages_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(12))  # to_person | from_person
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(
        String(12), default="submitted"
    )  # submitted|approved|rejected|delivered
    entered_by: Mapped[str] = mapped_column(String(200))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Notification(Base):
    """An email to an enquirer: queued in the transaction that caused it, sent after it commits.

    The body is not stored (it may carry the request's secret); `digest` is the disclosure state the
    message announced, so that the same news is not announced twice.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_request", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # request_filed | match_confirmed | status_changed | ...
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed | skipped
    digest: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attachment(Base):
    """A photo or document of a person, kept in the database (never under a public path)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_person", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # photo | document
    file_name: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))


class RateLimitHit(Base):
    """One counted attempt (a failed sign-in, a filed request...) for the rate limits.

    Kept in the database so that every worker process of the server counts against the same limit.
    `bucket` is a keyed hash of what is limited (a client address, a request's reference), not the value.
    """

    __tablename__ = "rate_limit_hits"
    __table_args__ = (
        Index("ix_rate_limit_hits_bucket", "bucket", "at"),
        Index("ix_rate_limit_hits_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)  # seconds since the epoch (shared by all processes)
