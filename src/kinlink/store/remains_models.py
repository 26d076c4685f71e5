"""Tables of unidentified remains and their candidates (missing persons and tracing requests they may be).

Nothing here is public: only registrars read or write it (`kinlink.registry.remains`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kinlink.store.models import Base, utcnow


class Remains(Base):
    """The record of unidentified human remains: what was estimated and seen, where and when found, by whom.

    The fields are defined once in `kinlink.person.remains_fields`.
    """

    __tablename__ = "remains"
    __table_args__ = (
        UniqueConstraint("record_id", name="uq_remains_record_id"),
        Index("ix_remains_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(200))  # the recovering body's own reference
    sex: Mapped[str | None] = mapped_column(String(1))
    age_min: Mapped[int | None] = mapped_column(Integer)  # the estimated age range, in years
    age_max: Mapped[int | None] = mapped_column(Integer)
    height_min: Mapped[int | None] = mapped_column(Integer)  # the estimated stature range, in cm
    height_max: Mapped[int | None] = mapped_column(Integer)
    marks: Mapped[str | None] = mapped_column(
        Text
    )  # distinguishing marks and tattoos, with where on the body
    clothing: Mapped[str | None] = mapped_column(Text)
    effects: Mapped[str | None] = mapped_column(Text)  # personal effects found with the remains
    found_place: Mapped[str | None] = mapped_column(String(300))
    found_date: Mapped[str] = mapped_column(String(10))  # partial ISO
    recovered_by: Mapped[str] = mapped_column(String(300))  # the body that recovered the remains
    notes: Mapped[str | None] = mapped_column(Text)

    state: Mapped[str] = mapped_column(String(20), default="unidentified")  # unidentified | identified
    identified_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    identified_source: Mapped[str | None] = mapped_column(Text)  # how the identification was confirmed
    identified_by: Mapped[str | None] = mapped_column(String(200))
    identified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class RemainsCandidate(Base):
    """Remains that may be a missing person's (`person_id`) or the person a request seeks (`request_id`).

    `pair` ('u3:p45' or 'u3:r12') is unique: matching again refreshes a candidate, never adds a second.
    """

    __tablename__ = "remains_candidates"
    __table_args__ = (
        UniqueConstraint("pair", name="uq_remains_candidates_pair"),
        Index("ix_remains_candidates_remains", "remains_id"),
        Index("ix_remains_candidates_person", "person_id"),
        Index("ix_remains_candidates_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair: Mapped[str] = mapped_column(String(40))
    remains_id: Mapped[int] = mapped_column(ForeignKey("remains.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict] = mapped_column(JSON)
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(
        String(20), default="pending"
    )  # pending | confirmed | rejected | closed
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}
