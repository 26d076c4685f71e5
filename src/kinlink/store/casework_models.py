"""Tables of casework: disclosures to families, family messages, notifications, attachments, and the
registrar's decision on disclosing a death."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from kinlink.store.models import Base, utcnow


class DeathDisclosure(Base):
    """The registrar's decision whether (and how much of) a death is told to families tracing the person."""

    __tablename__ = "death_disclosures"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    disclose: Mapped[bool] = mapped_column(Boolean, default=False)
    include_place: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConsentStatement(Base):
    """What the person said about telling their family, when, and who reported it how: the consent flags
    of a record are the latest statement's (GC III Art. 122-123 practice: consent is sought and noted)."""

    __tablename__ = "consent_statements"
    __table_args__ = (Index("ix_consent_statements_person", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    flags: Mapped[dict] = mapped_column(JSON)  # the consent columns as this statement set them
    given_on: Mapped[str] = mapped_column(String(10))  # partial ISO date the person gave (or withdrew) it
    given_by: Mapped[str] = mapped_column(String(300))  # who said so: the person, a delegate, a notification
    given_how: Mapped[str] = mapped_column(String(20))  # in_person | in_writing | remote | notification | ...
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
    """An email to an enquirer, or a message to the chats following the request (channel "chat"):
    queued in the transaction that caused it, sent after it commits.

    The body is not stored (it may carry the request's secret); `digest` is the disclosure state the
    message announced, so that the same news is not announced twice.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_request", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # request_filed | match_confirmed | status_changed | ...
    # email (to the enquirer's address) | chat (to every chat following the request, kinlink.tracing.chats)
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
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


class EnquirerVerification(Base):
    """How a caseworker verified who an enquirer is and how they are related to the person sought. Until a
    verification stands (the request's latest, not withdrawn), the family is told nothing beyond "your
    request is being handled"."""

    __tablename__ = "enquirer_verifications"
    __table_args__ = (Index("ix_enquirer_verifications_request", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(30))  # kinlink.tracing.verification.METHODS
    relationship: Mapped[str] = mapped_column(String(100))  # to the person sought, as verified
    note: Mapped[str | None] = mapped_column(Text)  # e.g. which document, which partner society
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class Certificate(Base):
    """A certificate of a person's status issued to a family: the status it stated, and the hash of its
    verification code (the code itself is printed on the certificate only; no personal data is kept here
    beyond the record it names). It is current while it is not
    revoked and the status it states is still the person's (the same deciding event)."""

    __tablename__ = "certificates"
    __table_args__ = (
        Index("ix_certificates_person", "person_id"),
        Index("ix_certificates_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_requests.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(30))
    status_date: Mapped[str | None] = mapped_column(String(10))
    level: Mapped[str | None] = mapped_column(String(40))  # how the status's event is known
    languages: Mapped[str] = mapped_column(String(40))  # e.g. "ru,uk"
    bureau: Mapped[str] = mapped_column(String(300))
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
