"""Open-source reports in the registry: each document read stored once, each sighting as a record of the
report's source with its provenance, and sightings entered by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinlink.errors import Problem, invalid, refuse
from kinlink.ingest.model import ExtractionResult, SourceDocument
from kinlink.ingest.model import Sighting as Extracted
from kinlink.person.fields import EventIn, RecordIn
from kinlink.person.notes import reported
from kinlink.person.text import text_problem
from kinlink.registry.record_writes import get_or_create_source, insert_records
from kinlink.registry.records import Written, create_record
from kinlink.store.audit import AuditLog
from kinlink.store.models import Event
from kinlink.store.report_models import Document, Mention, Sighting
from kinlink.tracing.continuous import Matching, after_records_written

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
    # The event's note is data (`sighting_note`), written once the event exists: no English in the row.
    event = EventIn(STATUS_EVENT.get(s.status, "missing"), when.isoformat() if when else None, s.place)
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
        forwarded_from=doc.forwarded_from[:300] if doc.forwarded_from else None,
        links=list(doc.links) or None,
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
        for pid, s in zip(person_ids, result.sightings, strict=True):
            session.execute(
                update(Event)
                .where(Event.person_id == pid)
                .values(note_message=reported(s.status, s.reported_via))
            )
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


def store_report(
    session: Session, actor: str, result: ExtractionResult, *, matching: Matching
) -> StoredDocument:
    """Store one read report (a result without an error) and match its sightings against the open requests
    and the registry, as any written record is matched."""
    log = AuditLog(session, actor)
    stored = store_result(session, log, result)
    log.flush()
    after_records_written(session, actor, stored.person_ids, matching)
    return stored


# What a person entering a sighting by hand may say happened, in the registry's words.
SIGHTING_STATUS = {"killed": "died", "surrendered": "captured"}
SIGHTING_FIELDS = (
    "source",
    "full_name",
    "status",
    "date",
    "place",
    "sex",
    "birth_date",
    "age",
    "age_as_of",
    "rank",
    "unit",
    "url",
    "evidence",
)


def add_sighting(session: Session, actor: str, values: Mapping[str, Any], *, matching: Matching) -> Written:
    """A person named in a report (news, Telegram...) entered by staff: stored as a record of the report's
    source (kind 'report'), matched at once like any record."""
    extra = sorted(set(values) - set(SIGHTING_FIELDS))
    if extra:
        raise invalid(Problem(k, "is not a field of a sighting") for k in extra)
    for key in ("source", "url", "evidence"):
        found = text_problem(values.get(key), multiline=key == "evidence")
        if found:
            raise refuse("invalid", key, found[0], **found[1])
    source = str(values.get("source") or "").strip()
    if not source or len(source) > 200:
        raise refuse("invalid", "source", "the report's source is needed (at most 200 characters)")
    status = str(values.get("status") or "").strip()
    if not status:
        raise refuse(
            "invalid", "status", "what the report says happened is needed: captured, killed, missing..."
        )
    notes = "\n".join(str(values[k]) for k in ("url", "evidence") if values.get(k)) or None
    row = {
        "full_name": values.get("full_name"),
        "status": SIGHTING_STATUS.get(status.lower(), status),
        "status_date": values.get("date"),
        "place": values.get("place"),
        "sex": values.get("sex"),
        "birth_date": values.get("birth_date"),
        "age": values.get("age"),
        "age_as_of": values.get("age_as_of"),
        "rank": values.get("rank"),
        "unit": values.get("unit"),
        "notes": notes,
    }
    return create_record(
        session, actor, row, matching=matching, source=f"report:{source}", source_kind="report"
    )
