"""Tables of official lists: each source's mapping of its columns to kinlink's fields, and the lists sent
to the Central Tracing Agency (GC III Art. 122-123)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kinlink.store.models import Base, utcnow


class ColumnMapping(Base):
    """How a source's lists name kinlink's fields: {heading as written: field, or '' to leave it out}.
    Mapped once, the first time a source sends a layout, and reused for its later lists."""

    __tablename__ = "column_mappings"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    mapping: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))


class CtaExport(Base):
    """One list sent to the Central Tracing Agency: what it covered, so that the next one starts there."""

    __tablename__ = "cta_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    file_name: Mapped[str] = mapped_column(String(400))
    format: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64))
    records: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    tombstones: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
