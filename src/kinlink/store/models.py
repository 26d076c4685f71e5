"""SQLAlchemy tables. The schema is changed only through Alembic migrations (store/migrations)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so that migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def fold_name(text: str) -> str:
    """A name as staff search compares it: compatibility forms, case and runs of spaces folded."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _folded_default(context: Any) -> str:
    return fold_name(context.get_current_parameters()["full_name"])


# Compared byte by byte (code point order), so that a prefix is one range of the index: PostgreSQL's
# default collation orders by language rules, under which a prefix need not be contiguous.
FOLDED = String(400).with_variant(String(400, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """Where records come from: a registrar's registry, a report (news, Telegram), a partner (PFIF)."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # registry | report | partner
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Person(Base):
    """A person record as one source knows it (GC III Art. 17, 122; GC IV Art. 138)."""

    __tablename__ = "persons"
    __table_args__ = (
        UniqueConstraint("source_id", "source_record_id", name="uq_persons_source_record"),
        # Staff search looks a record id up across sources: the unique index leads with the source.
        Index("ix_persons_source_record_id", "source_record_id"),
        Index("ix_persons_status", "status"),
        Index("ix_persons_service_number", "service_number"),
        # Covering what a search reads of each shortlisted record (migration 0019): dense index pages,
        # not wide rows.
        Index("ix_persons_prerank", "id", "sex", "birth_date", "age", "age_as_of", "version", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    source_record_id: Mapped[str] = mapped_column(String(200))

    # The primary name as written; all names (primary first) are in person_names.
    full_name: Mapped[str] = mapped_column(String(400))
    sex: Mapped[str | None] = mapped_column(String(1))  # m | f
    birth_date: Mapped[str | None] = mapped_column(String(10))  # YYYY | YYYY-MM | YYYY-MM-DD
    age: Mapped[int | None] = mapped_column(Integer)
    age_as_of: Mapped[str | None] = mapped_column(String(10))
    place_of_birth: Mapped[str | None] = mapped_column(String(300))
    nationality: Mapped[str | None] = mapped_column(String(100))
    power: Mapped[str | None] = mapped_column(String(200))  # the power or armed force depended on
    rank: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(300))
    service_number: Mapped[str | None] = mapped_column(String(100))
    father_name: Mapped[str | None] = mapped_column(String(200))
    mother_maiden_name: Mapped[str | None] = mapped_column(String(200))
    inform_name: Mapped[str | None] = mapped_column(String(300))
    inform_address: Mapped[str | None] = mapped_column(Text)
    distinguishing_marks: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(300))  # place of internment or last known
    residence: Mapped[str | None] = mapped_column(String(300))  # home town or region, as reports give it
    # What the capture and internment cards hold beyond the above (GC III Annex IV B, GC IV Annex III).
    language: Mapped[str | None] = mapped_column(String(10))  # the language the person reads and writes
    occupation: Mapped[str | None] = mapped_column(String(200))
    detaining_power: Mapped[str | None] = mapped_column(String(200))
    detainee_number: Mapped[str | None] = mapped_column(String(100))  # prisoner's or internee's number
    health_state: Mapped[str | None] = mapped_column(String(30))  # kinlink.person.fields.HEALTH_STATES
    consent_inform_family: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_share_location: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_share_health: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_share_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    expiry_date: Mapped[str | None] = mapped_column(String(10))  # erased by `kinlink retention run` after it

    # Derived from the event history by kinlink.person.status; kept here so lists can filter by it.
    status: Mapped[str | None] = mapped_column(String(30))
    status_date: Mapped[str | None] = mapped_column(String(10))

    # Hash of the imported row: an unchanged row is recognised without comparing every field.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    source: Mapped[Source] = relationship(lazy="joined")
    names: Mapped[list[PersonName]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonName.position"
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="Event.id"
    )

    __mapper_args__ = {"version_id_col": version}


class PersonName(Base):
    """A name as written, with its parts, script and language. Position 0 is the primary name."""

    __tablename__ = "person_names"
    __table_args__ = (
        Index("ix_person_names_person", "person_id"),
        # A search's lookup by the beginning of a name, from the index alone on PostgreSQL (migration 0023).
        Index("ix_person_names_folded", "folded", postgresql_include=["person_id"]),
        Index("ix_person_names_other", "person_id", "position", "full_name"),  # a search's other names
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    full_name: Mapped[str] = mapped_column(String(400))
    # fold_name(full_name), set on insert (names are replaced, never edited in place): searched by prefix.
    folded: Mapped[str | None] = mapped_column(FOLDED, default=_folded_default)
    family_name: Mapped[str | None] = mapped_column(String(200))
    given_names: Mapped[str | None] = mapped_column(String(200))
    patronymic: Mapped[str | None] = mapped_column(String(200))
    script: Mapped[str | None] = mapped_column(String(20))  # Cyrillic | Latin | Mixed | ...
    language: Mapped[str | None] = mapped_column(String(10))  # ru | uk | be | ro | en | ...

    person: Mapped[Person] = relationship(back_populates="names")


class Event(Base):
    """One dated entry of a person's history."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_person", "person_id"),
        Index("ix_events_captures", "person_id", "kind", "id", "date", "place"),  # a search's captures
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    date: Mapped[str | None] = mapped_column(String(10))  # partial ISO date
    place: Mapped[str | None] = mapped_column(String(300))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # A note kinlink wrote, as data each door renders in its reader's language: {"kind": "reported",
    # "status": "captured", "via": ["video", "telegram"]} (`note` holds notes people wrote).
    note_message: Mapped[dict | None] = mapped_column(JSON)
    # How the event is known (kinlink.person.confirmation): what a family is told depends on it.
    confirmation: Mapped[str] = mapped_column(String(20), default="detaining_power")
    author: Mapped[str | None] = mapped_column(String(300))  # who wrote the note (a PFIF note's author)
    ref: Mapped[str | None] = mapped_column(String(200))  # a partner's own id of it (PFIF note_record_id)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="events")
    source: Mapped[Source | None] = relationship(lazy="joined")


class AuditEntry(Base):
    """Who did what, when. Append-only; each entry carries the hash of the one before it."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))  # create | update | delete | import | read
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[dict | None] = mapped_column(JSON)
    # The credential the actor used (an API token's id: "token:3"); hashed with the entry when present.
    credential: Mapped[str | None] = mapped_column(String(100))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Which chain the entry is on (kinlink.store.audit): hashed with the entry on every chain but 1.
    chain: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class AuditHead(Base):
    """A chain's head: its latest hash and entry count (kinlink.store.audit). A writer locks the head
    it appends to until it commits, so no chain forks; `AuditLog.lock` takes chain 1's, which serialises
    the writers that take it (on SQLite, the write lock serialises every writer and chain 1 is the only
    one used)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str | None] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer, default=0)


class Tombstone(Base):
    """What is left of an erased record or request: enough to tell partners, and to refuse to bring it
    back from an old file, and nothing personal (as PFIF's expiry notes do)."""

    __tablename__ = "tombstones"
    __table_args__ = (UniqueConstraint("entity", "source", "key", name="uq_tombstones_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # person | request
    source: Mapped[str] = mapped_column(String(200))  # the source's name ('' for requests)
    key: Mapped[str] = mapped_column(String(200))  # source_record_id, or a request's reference
    reason: Mapped[str] = mapped_column(String(40))  # on_request | expired | ...
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    erased_by: Mapped[str] = mapped_column(String(200))


class ImportRun(Base):
    """One import of a file: what it was and what it did."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
