"""Tables of open-source reports: the documents read, and where each sighting and mention came from.

A sighting is also a `Person` of a source of kind "report", so it enters matching like any record;
`Sighting` keeps its provenance (document, sentence, date).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kinlink.store.models import Base, Person, utcnow


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of the content: twice adds nothing
    kind: Mapped[str] = mapped_column(String(20))  # text | html | telegram
    path: Mapped[str] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(1000))
    date: Mapped[str | None] = mapped_column(String(10))  # the document's own date
    language: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[int | None] = mapped_column(Integer)
    media: Mapped[list | None] = mapped_column(JSON)
    forwarded_from: Mapped[str | None] = mapped_column(String(300))  # a Telegram forward's first source
    links: Mapped[list | None] = mapped_column(JSON)  # the links a Telegram message carries
    text: Mapped[str] = mapped_column(Text)  # for staff only: the context of the evidence
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ingested_by: Mapped[str] = mapped_column(String(200))


class Sighting(Base):
    __tablename__ = "sightings"
    __table_args__ = (Index("ix_sightings_document", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    name_as_written: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(20))  # as the report says: captured, killed, ...
    evidence: Mapped[str] = mapped_column(Text)
    event_date: Mapped[str | None] = mapped_column(String(10))
    date_text: Mapped[str | None] = mapped_column(String(200))
    reported_via: Mapped[list | None] = mapped_column(JSON)

    person: Mapped[Person] = relationship()
    document: Mapped[Document] = relationship()


class Mention(Base):
    """Someone named in another role (spokesperson, official, relative): kept, never a sighting."""

    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_document", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(400))
    role: Mapped[str] = mapped_column(String(40))
    evidence: Mapped[str | None] = mapped_column(Text)
