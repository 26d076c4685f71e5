"""PFIF, the People Finder Interchange Format of Google Person Finder, Sahana and Red Cross partners:
import (1.1 to 1.4, see pfif_format) and export (1.2 or 1.4).

Import writes a document all or nothing in one transaction, with the registry's writers (the same rows,
names, history and audit as a registrar's file; one source per PFIF domain, record id the PFIF
person_record_id): the same document twice changes nothing; a later note adds to the history by its
note_record_id. Notes about persons the document does not hold are added to kinlink's records of them, or
reported as notes for unknown persons. An expired record's placeholder erases kinlink's copy (a tombstone
stays, so an older file cannot bring it back). A note's linked_person_record_id proposes the two records
as the same person, for a caseworker to decide (a record-to-record candidate scored by the model).

Export writes records as PFIF persons with their history as notes. By default only what a family could be
told: persons who consented to inform the family (or whose death the registrar decided to disclose), their
location only with consent; health never. Erased records are written as expired placeholders (1.3+).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.errors import Problem, invalid, refuse
from kinlink.person.fields import EventIn, RecordIn
from kinlink.person.rows import validate_row
from kinlink.registry import pfif_format
from kinlink.registry.erasure import erase_person
from kinlink.registry.import_report import ImportReport
from kinlink.registry.people import every_person, record_of
from kinlink.registry.record_writes import get_or_create_source, write_records
from kinlink.store.audit import AuditLog
from kinlink.store.casework_models import DeathDisclosure
from kinlink.store.db import unit_of_work
from kinlink.store.match_records import person_records
from kinlink.store.models import ImportRun, Person, Source, Tombstone, utcnow
from kinlink.tracing.candidates import store_candidate
from kinlink.tracing.continuous import Matching, match_imported
from kinlink.tracing.matcher import db_scorer
from kinlink.tracing.notifications import news_for_persons

NS = "http://zesty.ca/pfif/1.4"
EXPORT_VERSIONS = ("1.2", "1.4")
# Our event -> PFIF note status. A transfer or a note says nothing of life or death: no status.
EVENT_TO_STATUS = {
    **dict.fromkeys(
        (
            "captured",
            "interned",
            "wounded",
            "hospitalised",
            "seriously_ill",
            "released",
            "repatriated",
            "escaped",
            "found",
        ),
        "believed_alive",
    ),
    "missing": "believed_missing",
    "died": "believed_dead",
    "buried": "believed_dead",
}
HEALTH_EVENTS = frozenset({"wounded", "hospitalised", "seriously_ill"})
SEX = {"m": "male", "f": "female"}
DEFAULT_DOMAIN = os.environ.get("KINLINK_PFIF_DOMAIN", "kinlink.invalid")
PARTNER_ERASED = "partner_expired"  # a tombstone's reason: the partner's record expired or was deleted


@dataclass
class PfifImportResult:
    version: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: int = 0  # records the partner deleted (expired placeholders), erased here too
    notes_added: int = 0  # notes outside their person added to kinlink's record of it
    links: int = 0  # records proposed as the same person by a note's linked_person_record_id
    unknown_notes: list[str] = field(default_factory=list)  # notes about persons kinlink does not have
    skipped: list[str] = field(default_factory=list)  # records erased here before: not brought back
    person_ids: list[int] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # ids, to send after the import

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("person_ids")
        d.pop("notifications")
        return d


def parse(data: bytes) -> pfif_format.Document:
    return pfif_format.parse(data)


def _source_name(domain: str) -> str:
    return f"pfif:{domain}"


def import_xml(
    engine: Engine, data: bytes, actor: str, *, matching: Matching | None = None
) -> PfifImportResult:
    """Persons and notes from a partner, all or nothing; with `matching`, the new and changed records are
    matched against the open requests afterwards."""
    doc = pfif_format.parse(data)
    checked = pfif_format.check(doc)  # refused, naming every bad field, before anything is written
    result = PfifImportResult(version=doc.version)
    changed: list[int] = []
    with unit_of_work(engine) as s:
        log = AuditLog(s, actor)
        log.lock()
        domains = sorted({*checked.records, *checked.deletions, *map(pfif_format.domain_of, checked.loose)})
        for domain in domains:
            src = get_or_create_source(s, _source_name(domain), "partner", log)
            report = ImportReport(file="pfif", source=src.name)
            recs = checked.records.get(domain, [])
            if recs:
                write_records(s, src, recs, report, log)
            result.created += report.created
            result.updated += report.updated
            result.unchanged += report.unchanged
            result.skipped += [f"{r}: erased here before" for r in _erased(s, src.name, recs)]
            changed += report.changed_ids
            updated = list(report.updated_ids)
            for rid in checked.deletions.get(domain, []):
                result.erased += _delete(s, log, src, rid)
            for rid, events in checked.loose.items():
                if pfif_format.domain_of(rid) == domain:
                    pid = _add_notes(s, log, src, rid, events, result)
                    if pid is not None:
                        updated.append(pid)
                        changed.append(pid)
            s.flush()
            run = ImportRun(
                source_id=src.id,
                file_name=f"pfif-{doc.version}",
                sha256=hashlib.sha256(data).hexdigest(),
                actor=actor,
                rows=len(recs),
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
                finished_at=utcnow(),
            )
            s.add(run)
            s.flush()
            log.add(
                "import", "import_run", run.id, {"source": src.name, "pfif": doc.version, **_counts(result)}
            )
            result.notifications += [n.id for n in news_for_persons(s, updated)]
        result.links = _link(s, log, checked.links, matching)
        log.flush()
        result.person_ids = _ids(s, checked)
    if matching is not None and matching.on_write and changed:
        match_imported(engine, actor, sorted(set(changed)), matching)
    return result


def _counts(r: PfifImportResult) -> dict[str, int]:
    return {"created": r.created, "updated": r.updated, "unchanged": r.unchanged, "erased": r.erased}


def _erased(s: Session, source: str, recs: list[RecordIn]) -> list[str]:
    ids = [r.record_id for r in recs]
    return (
        list(
            s.scalars(
                select(Tombstone.key).where(
                    Tombstone.entity == "person", Tombstone.source == source, Tombstone.key.in_(ids)
                )
            )
        )
        if ids
        else []
    )


def _person(s: Session, src: Source, rid: str) -> Person | None:
    return s.scalar(select(Person).where(Person.source_id == src.id, Person.source_record_id == rid))


def _delete(s: Session, log: AuditLog, src: Source, rid: str) -> int:
    """The partner's record expired: erase ours, or remember it so an older file cannot bring it back."""
    person = _person(s, src, rid)
    if person is not None:
        erase_person(s, log, person, PARTNER_ERASED)
        return 1
    known = s.scalar(
        select(Tombstone.id).where(
            Tombstone.entity == "person", Tombstone.source == src.name, Tombstone.key == rid
        )
    )
    if known is None:
        s.add(
            Tombstone(entity="person", source=src.name, key=rid, reason=PARTNER_ERASED, erased_by=log.actor)
        )
        log.add("erase", "person", None, {"source": src.name, "record_id": rid, "reason": PARTNER_ERASED})
        s.flush()
    return 0


def _add_notes(
    s: Session, log: AuditLog, src: Source, rid: str, events: list[dict[str, Any]], result: PfifImportResult
) -> int | None:
    """Notes about a person the document does not hold: added to kinlink's record of it (the status
    follows), or reported when kinlink has no such record."""
    from kinlink.person.fields import to_row
    from kinlink.registry.record_writes import update_person

    person = _person(s, src, rid)
    if person is None:
        result.unknown_notes += [
            f"note {e.get('ref', '?')}: no person {rid} in kinlink (not imported)" for e in events
        ]
        return None
    row = to_row(record_of(person))
    known = {e.key() for e in record_of(person).events}
    fresh = [
        e
        for e in events
        if EventIn(e["kind"], e.get("date"), e.get("place"), ref=e.get("ref")).key() not in known
    ]
    if not fresh:
        result.unchanged += 1
        return None
    row["events"] = [*row["events"], *fresh]
    rec = validate_row(row, 1)
    if isinstance(rec, list):
        raise invalid(Problem(f"note[{fresh[0].get('ref')}].{e.column}", e.reason, e.values) for e in rec)
    if update_person(s, person.id, src, rec, log):
        result.updated += 1
        result.notes_added += len(fresh)
        return person.id
    return None


def _find(s: Session, rid: str) -> Person | None:
    return s.scalar(
        select(Person)
        .join(Source)
        .where(Source.name == _source_name(pfif_format.domain_of(rid)), Person.source_record_id == rid)
    )


def _link(s: Session, log: AuditLog, links: list[tuple[str, str, str]], matching: Matching | None) -> int:
    """Each note's linked_person_record_id: the two records proposed as one person (a pending
    record-to-record candidate, scored and explained by the model like any other)."""
    if not links:
        return 0
    model = (matching or Matching()).model
    scorer = db_scorer(s, model)
    made = 0
    for a_id, b_id, _note in links:
        a, b = _find(s, a_id), _find(s, b_id)
        if a is None or b is None or a.id == b.id:
            continue
        recs = {int(r.id): r for r in person_records(s, [a.id, b.id])}  # type: ignore[arg-type]
        left, right = sorted((a.id, b.id))
        scored = scorer.score(scorer.prepare(recs[left]), scorer.prepare(recs[right]))
        outcome = store_candidate(s, log, model, scored, left_person_id=left, person_id=right).outcome
        made += outcome == "created"
    return made


def _ids(s: Session, checked: pfif_format.Checked) -> list[int]:
    out: list[int] = []
    for domain, recs in checked.records.items():
        src = s.scalar(select(Source).where(Source.name == _source_name(domain)))
        if src is not None and recs:
            out += s.scalars(
                select(Person.id).where(
                    Person.source_id == src.id, Person.source_record_id.in_([r.record_id for r in recs])
                )
            )
    return out


def _iso(dt: Any) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def export_id(person: Person, domain: str) -> str:
    """The PFIF person_record_id of a record: a partner's own id kept, ours made from source and record id
    (which its tombstone keeps too, so an erasure is written under the same id)."""
    return _export_id(person.source.name, person.source_record_id, domain)


def _export_id(source: str, record_id: str, domain: str) -> str:
    if source.startswith("pfif:"):
        return record_id
    return f"{domain}/{quote(source, safe='')}:{quote(record_id, safe='')}"


class _Writer:
    """PFIF elements of one version, in the order its specification lists them."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.ns = pfif_format.NS_PREFIX + version
        register_namespace("pfif", self.ns)
        register_namespace("kinlink", pfif_format.KINLINK_NS)
        self.root = Element(f"{{{self.ns}}}pfif")

    def record(
        self, parent: Element, kind: str, values: dict[str, Any], mandatory: tuple[str, ...]
    ) -> Element:
        el = SubElement(parent, f"{{{self.ns}}}{kind}")
        allowed = (pfif_format.PERSON_FIELDS if kind == "person" else pfif_format.NOTE_FIELDS)[self.version]
        for name in allowed:
            value = values.get(name)
            if (value is not None and value != "") or name in mandatory:
                SubElement(el, f"{{{self.ns}}}{name}").text = "" if value is None else str(value)
        for name, value in values.items():
            if name.startswith("kinlink:") and value:
                SubElement(el, f"{{{pfif_format.KINLINK_NS}}}{name[8:]}").text = str(value)
        return el


def export_xml(
    engine: Engine,
    actor: str,
    *,
    source: str | None = None,
    consented_only: bool = True,
    domain: str = DEFAULT_DOMAIN,
    version: str = "1.4",
) -> bytes:
    """Records as PFIF `version` (1.2 or 1.4), their history as notes, the erased records as expired
    placeholders (1.4; PFIF 1.2 has no expiry, so erasures are not written in it)."""
    if version not in EXPORT_VERSIONS:
        raise refuse(
            "invalid", "version", "PFIF %(known)s can be written", known=" or ".join(EXPORT_VERSIONS)
        )
    w = _Writer(version)
    count = 0
    with unit_of_work(engine) as s:
        deaths = {d.person_id: d for d in s.scalars(select(DeathDisclosure))}
        for person in every_person(s, source):
            death = deaths.get(person.id)
            if consented_only:
                if person.status == "dead":
                    if death is None or not death.disclose:
                        continue
                elif not person.consent_inform_family:
                    continue
            count += 1
            share_place = not consented_only or (
                death.include_place if person.status == "dead" and death else person.consent_share_location
            )
            _person_element(w, person, domain, consented_only, share_place)
        stones = 0
        if version != "1.2":
            q = select(Tombstone).where(Tombstone.entity == "person").order_by(Tombstone.id)
            if source:
                q = q.where(Tombstone.source == source)
            for stone in s.scalars(q):
                stones += 1
                when = _iso(stone.erased_at)
                w.record(
                    w.root,
                    "person",
                    {
                        "person_record_id": _export_id(stone.source, stone.key, domain),
                        "entry_date": when,
                        "source_date": when,
                        "expiry_date": when,
                    },
                    (),
                )
        log = AuditLog(s, actor)
        log.add(
            "export",
            "pfif",
            None,
            {
                "records": count,
                "erased": stones,
                "source": source,
                "consented_only": consented_only,
                "version": version,
            },
        )
        log.flush()
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(w.root, encoding="unicode")).encode()


def _person_element(w: _Writer, person: Person, domain: str, consented_only: bool, share_place: bool) -> None:
    pid = export_id(person, domain)
    primary = person.names[0] if person.names else None
    alternates = [n.full_name for n in person.names[1:]]
    values: dict[str, Any] = {
        "person_record_id": pid,
        "entry_date": _iso(person.updated_at),
        "author_name": "kinlink",
        "source_name": person.source.name,
        "source_date": _iso(person.updated_at),
        "sex": SEX.get(person.sex or ""),
        "date_of_birth": person.birth_date,
        "age": person.age,
        "home_city": person.residence if share_place else None,
    }
    given = primary.given_names if primary else None
    family = primary.family_name if primary else None
    if w.version == "1.4":
        values.update(
            full_name=person.full_name,
            given_name=given,
            family_name=family,
            alternate_names="\n".join(alternates) or None,
            expiry_date=f"{person.expiry_date}T00:00:00Z"
            if person.expiry_date and len(person.expiry_date) == 10
            else None,
        )
        mandatory: tuple[str, ...] = ("person_record_id", "full_name")
    else:
        # 1.2 names a person by first and last name only: the full name as written, and the other forms,
        # go in `other`, which kinlink reads back.
        values.update(
            first_name=given or person.full_name,
            last_name=family or "",
            other="\n".join(
                [f"{pfif_format.FULL_NAME_IN_OTHER} {person.full_name}"]
                + ([f"{pfif_format.ALTERNATES_IN_OTHER} {' | '.join(alternates)}"] if alternates else [])
            )
            or None,
        )
        mandatory = ("person_record_id", "first_name", "last_name")
    el = w.record(w.root, "person", values, mandatory)
    for ev in person.events:
        if consented_only and (ev.kind in HEALTH_EVENTS or ev.kind not in EVENT_TO_STATUS):
            continue  # health never; what is not a status (a transfer, a note) only to agencies
        status = EVENT_TO_STATUS.get(ev.kind)
        full_date = ev.date if ev.date and len(ev.date) == 10 else None
        note = {
            "note_record_id": ev.ref or f"{domain}/note.{ev.id}",
            "person_record_id": pid,
            "entry_date": _iso(ev.created_at),
            # Who wrote a note (a relative, a neighbour) is theirs to share: only to agencies.
            "author_name": (ev.author or "kinlink") if not consented_only else "kinlink",
            "source_date": f"{full_date}T00:00:00Z" if full_date else _iso(ev.created_at),
            "status": status,
            "last_known_location": ev.place if share_place else None,
            "text": (ev.note or "") if not consented_only else (status or "").replace("_", " "),
            "kinlink:event": ev.kind,
            "kinlink:date": ev.date,
            "kinlink:confirmation": ev.confirmation,
        }
        w.record(el, "note", note, ("note_record_id", "author_name", "source_date", "text"))
