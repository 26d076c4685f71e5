"""Lists to the Central Tracing Agency (GC III Art. 122-123, GC IV Art. 137, 140): every record new or
changed since the last list, with its whole history, and the erasure tombstones of the same period, so that
the Agency erases its copies too; beside the list a manifest (counts, the period, the bureau, the file's
SHA-256). The list is kinlink's own import format with each record's source, so another kinlink (or the
Agency's) imports it with `kinlink import cta`: same records, same events, same tombstones.

XLSX: sheets "records", "tombstones" and "manifest". CSV: one table whose `entry` column says which rows are
records and which tombstones. The manifest's hash cannot be inside the file it hashes: it is written beside
it, as FILE.manifest.json.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session, selectinload

from kinlink.bureau import Bureau
from kinlink.cells import neutralised, plain
from kinlink.errors import refuse
from kinlink.person.fields import COLUMNS, to_row
from kinlink.private_files import open_private
from kinlink.registry.erasure import erase_person
from kinlink.registry.files import sha256_file
from kinlink.registry.imports import ImportReport, import_registry
from kinlink.registry.people import record_of
from kinlink.registry.sheets import Sheet, SheetError
from kinlink.store.audit import AuditLog
from kinlink.store.db import unit_of_work
from kinlink.store.list_models import CtaExport
from kinlink.store.models import Event, Person, Source, Tombstone, utcnow
from kinlink.tracing.continuous import Matching

CTA_FORMATS = ("xlsx", "csv")
RECORD_COLUMNS = ("source", *COLUMNS)
TOMBSTONE_COLUMNS = ("source", "record_id", "reason", "erased_at")
CSV_COLUMNS = ("entry", *RECORD_COLUMNS, "reason", "erased_at")


@dataclass
class Manifest:
    bureau: str
    file: str
    format: str
    since: str | None
    until: str
    records: int = 0
    events: int = 0
    tombstones: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    sha256: str = ""


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def last_export(session: Session) -> CtaExport | None:
    return session.scalar(select(CtaExport).order_by(CtaExport.id.desc()).limit(1))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def changed_people(session: Session, since: datetime | None) -> Iterator[Person]:
    """Records new or changed since then (a field, a name, or an event added), with names and history."""
    q = select(Person).options(selectinload(Person.names), selectinload(Person.events)).order_by(Person.id)
    if since is not None:
        with_new_events = select(Event.person_id).where(Event.created_at >= since)
        q = q.where(
            or_(Person.updated_at >= since, Person.created_at >= since, Person.id.in_(with_new_events))
        )
    yield from session.scalars(q.execution_options(yield_per=1000))


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A record's row as cells: names joined by |, the history as JSON, yes/no, empty for none."""
    out = dict(row)
    out["alternate_names"] = "|".join(row.get("alternate_names") or [])
    out["events"] = json.dumps(row["events"], ensure_ascii=False) if row.get("events") else ""
    for k, v in out.items():
        if v is None:
            out[k] = ""
        elif isinstance(v, bool):
            out[k] = "yes" if v else "no"
    return out


def export_cta(
    session: Session,
    actor: str,
    path: Path,
    fmt: str,
    since: datetime | None = None,
    bureau: Bureau | None = None,
) -> Manifest:
    """Write the list and its manifest; remember it, so that the next list starts where this one ended.
    Without `since`, the list starts where the last one ended (the first list holds everything)."""
    if fmt not in CTA_FORMATS:
        raise refuse("invalid", "format", "'%(value)s' is not one of xlsx, csv", value=fmt)
    bureau = bureau or Bureau()
    if since is None:
        last = last_export(session)
        since = last.until if last else None
    since = _utc(since) if since else None
    until = utcnow()
    manifest = Manifest(bureau.name, path.name, fmt, since.isoformat() if since else None, until.isoformat())
    audit = AuditLog(session, actor)
    audit.lock()  # nothing is written between reading the records and remembering the list

    def records() -> Iterator[dict[str, Any]]:
        for person in changed_people(session, since):
            manifest.records += 1
            manifest.events += len(person.events)
            manifest.sources[person.source.name] = manifest.sources.get(person.source.name, 0) + 1
            audit.add("export", "person", person.id, {"to": "cta"})
            yield {"source": person.source.name, **_flat(to_row(record_of(person)))}

    stones_q = select(Tombstone).where(Tombstone.entity == "person").order_by(Tombstone.id)
    if since is not None:
        stones_q = stones_q.where(Tombstone.erased_at >= since)
    stones = [
        {"source": t.source, "record_id": t.key, "reason": t.reason, "erased_at": _utc(t.erased_at).isoformat()}  # noqa: E501
        for t in session.scalars(stones_q)
    ]  # fmt: skip
    manifest.tombstones = len(stones)
    if fmt == "xlsx":
        _write_xlsx(path, records(), stones, manifest)
    else:
        _write_csv(path, records(), stones)
    manifest.sha256 = sha256_file(path)
    with open_private(manifest_path(path), "w", encoding="utf-8") as f:
        json.dump(asdict(manifest), f, ensure_ascii=False, indent=2)
    session.add(
        CtaExport(
            since=since, until=until, file_name=path.name, format=fmt, sha256=manifest.sha256,
            records=manifest.records, events=manifest.events, tombstones=manifest.tombstones, actor=actor,
        )
    )  # fmt: skip
    session.flush()
    audit.add("export", "cta", None, {k: v for k, v in asdict(manifest).items() if k != "sources"})
    audit.flush()
    return manifest


def _write_xlsx(
    path: Path, records: Iterator[dict[str, Any]], stones: list[dict], manifest: Manifest
) -> None:
    import xlsxwriter

    # Cells are written as strings: a string cell is never a formula, whatever it begins with.
    with open_private(path, "wb") as f:
        book = xlsxwriter.Workbook(f, {"constant_memory": True, "strings_to_formulas": False})
        sheet = book.add_worksheet("records")
        sheet.write_row(0, 0, RECORD_COLUMNS)
        n = 0
        for n, row in enumerate(records, 1):
            for c, key in enumerate(RECORD_COLUMNS):
                if row[key] != "":
                    sheet.write_string(n, c, str(row[key]))
        sheet = book.add_worksheet("tombstones")
        sheet.write_row(0, 0, TOMBSTONE_COLUMNS)
        for r, stone in enumerate(stones, 1):
            for c, key in enumerate(TOMBSTONE_COLUMNS):
                sheet.write_string(r, c, stone[key])
        sheet = book.add_worksheet("manifest")
        for r, (key, value) in enumerate(asdict(manifest).items()):
            if key not in ("sha256", "sources"):
                sheet.write_string(r, 0, key)
                sheet.write_string(r, 1, "" if value is None else str(value))
        book.close()


def _write_csv(path: Path, records: Iterator[dict[str, Any]], stones: list[dict]) -> None:
    with open_private(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(CSV_COLUMNS), lineterminator="\r\n")
        writer.writeheader()
        for row in records:
            writer.writerow({"entry": "record", **{k: _cell(v) for k, v in row.items()}})
        for stone in stones:
            writer.writerow({"entry": "tombstone", **{k: _cell(v) for k, v in stone.items()}})


def _cell(value: Any) -> Any:
    return neutralised(value) if isinstance(value, str) else value


# --- the list imported elsewhere -------------------------------------------------------------------------


@dataclass
class CtaImport:
    reports: list[ImportReport] = field(default_factory=list)
    erased: int = 0  # records erased by the list's tombstones
    tombstones: int = 0  # tombstones recorded (whether or not the record was here)

    @property
    def written(self) -> bool:
        return all(r.written for r in self.reports)

    @property
    def errors(self) -> list[str]:
        return [e for r in self.reports for e in r.errors]


def read_cta(path: Path) -> tuple[dict[str, list[tuple[int, dict[str, Any]]]], list[dict[str, str]]]:
    """The list's records by source (row number, row) and its tombstones."""
    by_source: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    stones: list[dict[str, str]] = []
    known = set(COLUMNS)

    def add(n: int, row: dict[str, Any]) -> None:
        source = str(row.pop("source", "") or "").strip()
        by_source.setdefault(source, []).append((n, {k: v for k, v in row.items() if k in known}))

    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            for n, row in enumerate(csv.DictReader(f), 2):
                row = {k: plain(v or "") for k, v in row.items() if k is not None}
                if row.get("entry") == "tombstone":
                    stones.append({k: row.get(k, "") for k in TOMBSTONE_COLUMNS})
                elif row.get("entry") == "record":
                    add(n, row)
        return by_source, stones
    try:
        records = Sheet(path, "records")
        for n, values in records.rows():
            add(n, dict(zip(records.headings, values, strict=False)))
        tombs = Sheet(path, "tombstones")
        for _n, values in tombs.rows():
            stones.append({k: str(v or "") for k, v in zip(tombs.headings, values, strict=False)})
    except SheetError as e:
        raise refuse("invalid", "file", "%(why)s", why=str(e)) from None
    return by_source, stones


def import_cta(engine: Engine, path: Path, actor: str, matching: Matching | None = None) -> CtaImport:
    """Import a list made by export_cta: each source's records through the registry importer (all or
    nothing per source, idempotent), then its tombstones (the record erased here too, if it is here).
    A manifest beside the file must name the file's hash."""
    mpath = manifest_path(path)
    if mpath.exists():
        expected = json.loads(mpath.read_text(encoding="utf-8")).get("sha256")
        if expected != sha256_file(path):
            raise refuse("invalid", "file", "the file's SHA-256 is not the one its manifest names")
    by_source, stones = read_cta(path)
    out = CtaImport()
    for source, rows in sorted(by_source.items()):
        if not source:
            raise refuse("invalid", "source", "a record of the list names no source")
        report = import_registry(engine, path, source, actor, rows=iter(rows), matching=matching)
        out.reports.append(report)
        if not report.written:
            return out
    with unit_of_work(engine) as session:
        audit = AuditLog(session, actor)
        for stone in stones:
            source, key = stone["source"], stone["record_id"]
            person = session.scalar(
                select(Person).join(Source).where(Source.name == source, Person.source_record_id == key)
            )
            if person is not None:
                erase_person(session, audit, person, stone["reason"] or "cta")
                out.erased += 1
                out.tombstones += 1
            elif (
                session.scalar(
                    select(Tombstone).where(
                        Tombstone.entity == "person", Tombstone.source == source, Tombstone.key == key
                    )
                )
                is None
            ):
                session.add(
                    Tombstone(entity="person", source=source, key=key, reason=stone["reason"] or "cta",
                              erased_by=actor)
                )  # fmt: skip
                audit.add("erase", "tombstone", None, {"source": source, "record_id": key})
                out.tombstones += 1
        audit.flush()
    return out
