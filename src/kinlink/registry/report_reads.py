"""What staff read of the open-source reports behind a sighting: where it was read (the article's title,
date and site, the sentence quoted as evidence), and the stored document itself. Staff only: a report may
show a prisoner, and kinlink does not extend that exposure (GC III Art. 13)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.store.audit import record as audit
from kinlink.store.report_models import Document, Sighting


@dataclass(frozen=True)
class Provenance:
    """Where a sighting was read."""

    document_id: int
    title: str | None
    date: str | None  # the document's own date (partial ISO)
    site: str | None  # the news site's host, or the Telegram channel
    url: str | None
    kind: str  # text | html | telegram
    language: str | None  # the report's language (ro, ru, uk, en)
    evidence: str  # the sentence quoted as evidence
    name_as_written: str
    status: str  # what the report says happened: captured, killed, ...
    reported_via: tuple[str, ...]
    date_text: str | None  # the date as the report wrote it ("duminică dimineața")
    forwarded_from: str | None = None  # a Telegram post forwarded from another channel: that channel
    links: tuple[str, ...] = ()  # the links the message carries


def site_of(doc: Document) -> str | None:
    if doc.channel:
        return doc.channel
    if doc.url:
        return urlparse(doc.url).netloc or None
    return None


def provenance_of(session: Session, person_id: int) -> Provenance | None:
    """The report behind a sighting's record (read with the record, whose read is audited), or None for a
    record that is not a sighting read from a stored document."""
    row = session.execute(
        select(Sighting, Document)
        .join(Document, Sighting.document_id == Document.id)
        .where(Sighting.person_id == person_id)
    ).first()
    if row is None:
        return None
    s, doc = row
    return Provenance(
        document_id=doc.id,
        title=doc.title,
        date=doc.date,
        site=site_of(doc),
        url=doc.url,
        kind=doc.kind,
        language=doc.language,
        evidence=s.evidence,
        name_as_written=s.name_as_written,
        status=s.status,
        reported_via=tuple(s.reported_via or ()),
        date_text=s.date_text,
        forwarded_from=doc.forwarded_from,
        links=tuple(doc.links or ()),
    )


def read_document(session: Session, actor: str, document_id: int, view: str) -> Document:
    """A stored report, for staff: its text is personal data of those it names, so the read is audited."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise refuse("not_found", "document_id", "no document %(id)s", id=document_id)
    audit(session, actor, "read", "document", doc.id, {"view": view})
    return doc


def sightings_in(session: Session, document_id: int) -> list[Sighting]:
    """The sightings read from one document (their records' ids and evidence)."""
    return list(
        session.scalars(select(Sighting).where(Sighting.document_id == document_id).order_by(Sighting.id))
    )
