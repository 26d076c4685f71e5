"""PFIF 1.4, the People Finder Interchange Format of Google Person Finder and Sahana: import and export.

Import maps each PFIF person to a registry row (source `pfif:<domain>`, record id the PFIF
person_record_id) and each note's status to an event, then writes them with the registry's own importer:
the same validation, idempotency and audit as any registrar's file. XML is parsed with defusedxml.

Export writes records as PFIF persons with one note per event. By default only what a family could
be told is exported: persons who consented to inform the family (or whose death the registrar decided
to disclose), their location only with consent. Health is never exported.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from sqlalchemy import Engine, select

from kinlink.errors import Refused, refuse
from kinlink.registry.imports import import_registry
from kinlink.registry.people import every_person
from kinlink.store.audit import record as audit
from kinlink.store.casework_models import DeathDisclosure
from kinlink.store.db import unit_of_work
from kinlink.store.models import Person, Source
from kinlink.tracing.continuous import Matching

NS = "http://zesty.ca/pfif/1.4"
PERSON_FIELDS = (
    "person_record_id",
    "entry_date",
    "expiry_date",
    "author_name",
    "author_email",
    "author_phone",
    "source_name",
    "source_date",
    "source_url",
    "full_name",
    "given_name",
    "family_name",
    "alternate_names",
    "description",
    "sex",
    "date_of_birth",
    "age",
    "home_street",
    "home_neighborhood",
    "home_city",
    "home_state",
    "home_postal_code",
    "home_country",
    "photo_url",
    "profile_urls",
)
NOTE_FIELDS = (
    "note_record_id",
    "person_record_id",
    "linked_person_record_id",
    "entry_date",
    "author_name",
    "author_email",
    "author_phone",
    "source_date",
    "author_made_contact",
    "status",
    "email_of_found_person",
    "phone_of_found_person",
    "last_known_location",
    "text",
    "photo_url",
)
# PFIF note status -> our event. information_sought records a search, not a fact about the person.
STATUS_TO_EVENT = {
    "believed_alive": "found",
    "is_note_author": "found",
    "believed_missing": "missing",
    "believed_dead": "died",
}
# Our event -> PFIF note status. A transfer says nothing of life or death and gives no note status.
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
SEX = {"female": "f", "male": "m"}
DEFAULT_DOMAIN = os.environ.get("KINLINK_PFIF_DOMAIN", "kinlink.invalid")


def _bad(message: str, **values: object) -> Refused:
    return refuse("invalid", "body", message, **values)


@dataclass
class PfifImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # ids, to send after the import

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("person_ids")
        d.pop("notifications")
        return d


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fields(elem: Any) -> dict[str, str]:
    out = {}
    for child in elem:
        name = _local(child.tag)
        if name != "note" and child.text and child.text.strip():
            out[name] = child.text.strip()
    return out


def parse(data: bytes) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """PFIF persons (each with its nested notes under 'notes') and the top-level notes."""
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as e:
        raise _bad("the document uses forbidden XML features (%(what)s)", what=type(e).__name__) from None
    except SafeET.ParseError as e:
        raise _bad("not well-formed XML: %(why)s", why=str(e)) from None
    if _local(root.tag) != "pfif":
        raise _bad("the root element must be pfif:pfif")
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if ns and not ns.startswith("http://zesty.ca/pfif/"):
        raise _bad("unknown namespace %(ns)s", ns=ns)
    persons, notes = [], []
    for child in root:
        kind = _local(child.tag)
        if kind == "person":
            p: dict[str, Any] = _fields(child)
            p["notes"] = [_fields(n) for n in child if _local(n.tag) == "note"]
            persons.append(p)
        elif kind == "note":
            notes.append(_fields(child))
    return persons, notes


def _age(text: str | None) -> int | None:
    if text and text.isdigit():
        return int(text)
    return None


def person_row(p: dict[str, Any], notes: list[dict[str, str]]) -> dict[str, Any]:
    """One PFIF person as a registry row."""
    name = p.get("full_name") or " ".join(x for x in (p.get("given_name"), p.get("family_name")) if x)
    home = ", ".join(
        p[k]
        for k in (
            "home_street",
            "home_neighborhood",
            "home_city",
            "home_state",
            "home_postal_code",
            "home_country",
        )
        if p.get(k)
    )
    remarks = [
        f"PFIF {p['person_record_id']}",
        *(
            f"{label}: {p[k]}"
            for k, label in (("source_name", "source"), ("source_url", "url"), ("author_name", "author"))
            if p.get(k)
        ),
        *([f"home: {home}"] if home else []),
        *([f"age: {p['age']}"] if p.get("age") and _age(p.get("age")) is None else []),
        *([p["description"]] if p.get("description") else []),
    ]
    events = []
    for n in sorted(notes, key=lambda n: n.get("source_date") or n.get("entry_date") or ""):
        kind = STATUS_TO_EVENT.get(n.get("status", ""))
        if kind is None:
            continue
        when = (n.get("source_date") or n.get("entry_date") or "")[:10] or None
        events.append(
            {
                k: v
                for k, v in {
                    "kind": kind,
                    "date": when,
                    "place": n.get("last_known_location"),
                    "note": (n.get("text") or "")[:1000] or None,
                }.items()
                if v
            }
        )
    age = _age(p.get("age"))
    return {
        "record_id": p["person_record_id"],
        "full_name": name or None,
        "given_names": p.get("given_name"),
        "family_name": p.get("family_name"),
        "alternate_names": [a for a in (p.get("alternate_names") or "").splitlines() if a.strip()],
        "sex": SEX.get(p.get("sex", "")),
        "birth_date": p.get("date_of_birth"),
        "age": age,
        "age_as_of": (p.get("source_date") or p.get("entry_date") or "")[:10] or None
        if age is not None
        else None,
        "notes": "\n".join(remarks)[:4000],
        "events": events,
    }


def import_xml(
    engine: Engine, data: bytes, actor: str, *, matching: Matching | None = None
) -> PfifImportResult:
    """Persons and notes from a partner, through the registry's importer (one source per PFIF domain);
    with `matching`, the new and changed records are matched against the open requests afterwards."""
    persons, loose = parse(data)
    by_person: dict[str, list[dict[str, str]]] = defaultdict(list)
    for n in loose:
        if n.get("person_record_id"):
            by_person[n["person_record_id"]].append(n)
    result = PfifImportResult()
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in persons:
        rid = p.get("person_record_id")
        if not rid or "/" not in rid:
            result.skipped.append(f"a person without a valid person_record_id ({rid or 'none'})")
            continue
        groups[rid.split("/", 1)[0]].append(person_row(p, [*p["notes"], *by_person.get(rid, [])]))
    with tempfile.TemporaryDirectory(prefix="kinlink-pfif-") as tmp:
        for domain, rows in groups.items():
            path = Path(tmp) / f"{domain.replace('/', '_')}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
            source = f"pfif:{domain}"
            report = import_registry(
                engine, path, source, actor, fmt="jsonl", kind="partner", skip_invalid=True, matching=matching
            )
            result.notifications.extend(report.notifications)
            result.created += report.created
            result.updated += report.updated
            result.unchanged += report.unchanged
            result.skipped.extend(e.replace(path.name, source) for e in report.errors)
            with unit_of_work(engine) as s:
                src = s.scalar(select(Source).where(Source.name == source))
                if src is not None:
                    ids = {r["record_id"] for r in rows}
                    result.person_ids.extend(
                        s.scalars(
                            select(Person.id).where(
                                Person.source_id == src.id, Person.source_record_id.in_(ids)
                            )
                        )
                    )
    return result


def _text(parent: Element, name: str, value: Any) -> None:
    if value is not None and value != "":
        SubElement(parent, f"{{{NS}}}{name}").text = str(value)


def _iso(dt: Any) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def export_xml(
    engine: Engine,
    actor: str,
    *,
    source: str | None = None,
    consented_only: bool = True,
    domain: str = DEFAULT_DOMAIN,
) -> bytes:
    from xml.etree.ElementTree import register_namespace

    register_namespace("pfif", NS)
    root = Element(f"{{{NS}}}pfif")
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
            src_name = person.source.name
            pid = person.source_record_id if src_name.startswith("pfif:") else f"{domain}/person.{person.id}"
            el = SubElement(root, f"{{{NS}}}person")
            primary = person.names[0] if person.names else None
            _text(el, "person_record_id", pid)
            _text(el, "entry_date", _iso(person.updated_at))
            _text(el, "author_name", "kinlink")
            _text(el, "source_name", src_name)
            _text(el, "source_date", _iso(person.updated_at))
            _text(el, "full_name", person.full_name)
            _text(el, "given_name", primary.given_names if primary else None)
            _text(el, "family_name", primary.family_name if primary else None)
            _text(el, "alternate_names", "\n".join(n.full_name for n in person.names[1:]) or None)
            _text(el, "sex", {"m": "male", "f": "female"}.get(person.sex or ""))
            _text(el, "date_of_birth", person.birth_date)
            _text(el, "age", person.age)
            for ev in person.events:
                status = EVENT_TO_STATUS.get(ev.kind)
                if status is None or (
                    consented_only and ev.kind in ("wounded", "hospitalised", "seriously_ill")
                ):
                    continue
                note = SubElement(el, f"{{{NS}}}note")
                _text(note, "note_record_id", f"{domain}/note.{ev.id}")
                _text(note, "person_record_id", pid)
                _text(note, "entry_date", _iso(ev.created_at))
                _text(note, "author_name", "kinlink")
                _text(note, "source_date", f"{ev.date}T00:00:00Z" if ev.date and len(ev.date) == 10 else None)
                _text(note, "status", status)
                _text(note, "last_known_location", ev.place if share_place else None)
                _text(note, "text", ev.kind if not consented_only else status.replace("_", " "))
        audit(
            s,
            actor,
            "export",
            "pfif",
            None,
            {"records": count, "source": source, "consented_only": consented_only},
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode")).encode()
