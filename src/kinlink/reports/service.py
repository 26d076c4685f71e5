"""Storing what the ingest core extracted: each document once, each sighting as a record with provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.ingest.model import ExtractionResult, SourceDocument
from kinlink.ingest.model import Sighting as Extracted
from kinlink.registry.audit import AuditLog
from kinlink.registry.fields import EventIn, RecordIn
from kinlink.registry.service import get_or_create_source, insert_records
from kinlink.store.report_models import Document, Mention, Sighting

# What a report says happened, as an event of the person's history.
STATUS_EVENT = {
    "captured": "captured",
    "surrendered": "captured",
    "killed": "died",
    "wounded": "wounded",
    "missing": "missing",
    "released": "released",
}


@dataclass
class StoredDocument:
    path: str
    document_id: int
    new: bool  # False: the same content was ingested before, nothing was added
    person_ids: list[int] = field(default_factory=list)


def source_name(doc: SourceDocument) -> str:
    """One source per channel or news site, so that lists and matching can tell them apart."""
    if doc.channel:
        return f"telegram:{doc.channel}"[:200]
    if doc.url:
        return f"news:{urlparse(doc.url).netloc or doc.url}"[:200]
    return "reports"


def sighting_record(doc: SourceDocument, s: Extracted, index: int) -> RecordIn:
    """A sighting as a registry record; its id is stable for the document, so re-runs add nothing."""
    when = s.date or doc.date
    event = EventIn(
        STATUS_EVENT.get(s.status, "missing"),
        when.isoformat() if when else None,
        s.place,
        f"reported {s.status}" + (f" ({', '.join(s.reported_via)})" if s.reported_via else ""),
    )
    birth_date = str(s.birth_year) if s.birth_year else None
    as_of = when.isoformat() if (when and s.age is not None) else None
    return RecordIn(
        record_id=f"{doc.sha256[:24]}#{index}",
        full_name=s.name,
        alternate_names=[s.name_as_written] if s.name_as_written and s.name_as_written != s.name else [],
        birth_date=birth_date,
        age=s.age if as_of else None,
        age_as_of=as_of,
        rank=s.rank,
        unit=s.unit,
        residence=s.home,
        location=s.place,
        events=[event],
    )


def store_result(session: Session, audit: AuditLog, result: ExtractionResult) -> StoredDocument:
    """Store one processed document (call only for results without an error)."""
    doc = result.document
    assert doc is not None and result.error is None
    existing = session.scalar(select(Document.id).where(Document.sha256 == doc.sha256))
    if existing is not None:
        return StoredDocument(doc.path, existing, new=False)
    row = Document(
        sha256=doc.sha256,
        kind=doc.kind,
        path=doc.path[:1000],
        url=doc.url,
        title=doc.title[:1000] if doc.title else None,
        date=doc.date.isoformat() if doc.date else None,
        language=result.language,
        channel=doc.channel,
        message_id=doc.message_id,
        media=list(doc.media) or None,
        text=doc.text,
        ingested_by=audit.actor,
    )
    session.add(row)
    session.flush()
    audit.add("create", "document", row.id, {"sha256": doc.sha256, "kind": doc.kind, "lang": result.language})
    person_ids: list[int] = []
    if result.sightings:
        src = get_or_create_source(session, source_name(doc), "report", audit)
        recs = [sighting_record(doc, s, i) for i, s in enumerate(result.sightings)]
        person_ids = insert_records(session, src, recs, audit)
        for pid, s, rec in zip(person_ids, result.sightings, recs, strict=True):
            session.add(
                Sighting(
                    person_id=pid,
                    document_id=row.id,
                    name_as_written=s.name_as_written or s.name,
                    status=s.status,
                    evidence=s.evidence,
                    event_date=rec.events[0].date,
                    date_text=s.date_text,
                    reported_via=s.reported_via or None,
                )
            )
    for m in result.mentions:
        session.add(Mention(document_id=row.id, name=m.name, role=m.role, evidence=m.evidence or None))
    session.flush()
    return StoredDocument(doc.path, row.id, new=True, person_ids=person_ids)
