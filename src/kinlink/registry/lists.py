"""Official lists as they arrive (CSV, XLSX, XLS, ODS; English, Russian or Ukrainian headings): the
mapping of a source's columns to kinlink's fields, saved once per source and reused; the preview naming
every bad cell; and the import, which is the registry importer's (same validation, all or nothing,
idempotent by (source, record_id))."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kinlink.person.headings import IGNORE, check_mapping, resolve
from kinlink.person.text import message_id
from kinlink.registry.files import FileFormatError, detect_format, headings_of, open_list, sha256_file
from kinlink.registry.imports import (
    BadCell,
    ImportReport,
    Progress,
    bad_cell,
    import_registry,
    validate_rows,
)
from kinlink.store.audit import AuditLog
from kinlink.store.db import unit_of_work
from kinlink.store.list_models import ColumnMapping
from kinlink.store.models import utcnow
from kinlink.tracing.continuous import Matching


def _unknown_fields(unknown: list[str]) -> FileFormatError:
    message = message_id("the mapping names fields kinlink does not know: %(fields)s")
    return FileFormatError(message, fields=", ".join(unknown))


def saved_mapping(session: Session, source: str) -> dict[str, str]:
    found = session.get(ColumnMapping, source)
    return dict(found.mapping) if found else {}


def save_mapping(session: Session, actor: str, source: str, mapping: Mapping[str, str]) -> dict[str, str]:
    """Remember how this source names its columns (merged over what was saved before); audited."""
    unknown = check_mapping(mapping)
    if unknown:
        raise FileFormatError(
            message_id("the mapping names fields kinlink does not know: %(fields)s"),
            fields=", ".join(unknown),
        )
    audit = AuditLog(session, actor)
    row = session.get(ColumnMapping, source)
    merged = {**(dict(row.mapping) if row else {}), **mapping}
    if row is None:
        row = ColumnMapping(source=source, mapping=merged, updated_by=actor)
        session.add(row)
    else:
        row.mapping, row.updated_by, row.updated_at = merged, actor, utcnow()
    session.flush()
    audit.add("update", "column_mapping", None, {"source": source, "mapping": dict(mapping)})
    audit.flush()
    return merged


def read_mapping_file(path: Path) -> dict[str, str]:
    """A mapping file: a JSON object {heading as written: field, or "" to leave the column out}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FileFormatError("the mapping file is not JSON: %(why)s", why=str(e)) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in data.items()
    ):
        raise FileFormatError('the mapping file must be a JSON object {"heading": "field", ...}')
    mapping = {k: v or IGNORE for k, v in data.items()}
    unknown = check_mapping(mapping)
    if unknown:
        raise FileFormatError(
            message_id("the mapping names fields kinlink does not know: %(fields)s"),
            fields=", ".join(unknown),
        )
    return mapping


@dataclass
class Proposal:
    """A list's columns and the field proposed for each (saved mapping first, then the headings)."""

    sheet: str | None
    sheets: list[str]
    headings: list[str]
    fields: list[str | None]
    unknown: list[str]


def propose(session: Session, path: Path, source: str, sheet: str | None = None) -> Proposal:
    """What the registrar maps: the headings, each with its proposed field, and a few rows."""
    fmt = detect_format(path)
    name, headings = headings_of(path, fmt, sheet)
    resolved = resolve(headings, saved_mapping(session, source))
    sheets: list[str] = []
    if name is not None:
        from kinlink.registry.sheets import sheet_names

        sheets = sheet_names(path)
    return Proposal(name, sheets, headings, list(resolved.fields), list(resolved.unknown))


PREVIEW_STEP = 500  # rows checked between two reports of the preview's progress


@dataclass
class Preview:
    """What an import would do, before anything is written: rows read, how many are good, every bad cell."""

    file: str
    sheet: str | None
    rows: int = 0
    good: int = 0
    bad_cells: list[BadCell] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({c.row for c in self.bad_cells})


def merged_mapping(session: Session, source: str, mapping: Mapping[str, str] | None) -> dict[str, str]:
    return {**saved_mapping(session, source), **(mapping or {})}


def preview(
    session: Session,
    actor: str,
    path: Path,
    source: str,
    mapping: Mapping[str, str] | None = None,
    sheet: str | None = None,
    today: date | None = None,
    fmt: str | None = None,
    progress: Progress | None = None,
) -> Preview:
    """Check every row as the import will (its own validation), writing nothing but the audit entry;
    `progress` is told of every PREVIEW_STEP rows checked."""
    layout, rows = open_list(path, detect_format(path, fmt), merged_mapping(session, source, mapping), sheet)
    out = Preview(path.name, layout.sheet if layout else None)
    for _line, result in validate_rows(rows, today):
        out.rows += 1
        if isinstance(result, list):
            out.bad_cells.extend(bad_cell(layout, e) for e in result)
        else:
            out.good += 1
        if progress is not None and out.rows % PREVIEW_STEP == 0:
            progress(PREVIEW_STEP)
    if progress is not None and out.rows % PREVIEW_STEP:
        progress(out.rows % PREVIEW_STEP)
    audit = AuditLog(session, actor)
    audit.add(
        "preview",
        "import_file",
        None,
        {"source": source, "file": path.name, "sha256": sha256_file(path), "rows": out.rows,
         "bad_rows": out.bad_rows},
    )  # fmt: skip
    audit.flush()
    return out


def import_list(
    engine: Engine,
    path: Path,
    source: str,
    actor: str,
    *,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    sheet: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    matching: Matching | None = None,
    today: date | None = None,
) -> ImportReport:
    """Import a list with the source's saved mapping under `mapping`; once written, `mapping` is saved
    for the source's next lists."""
    with unit_of_work(engine) as session:
        full = merged_mapping(session, source, mapping)
    report = import_registry(
        engine, path, source, actor, fmt=fmt, mapping=full, sheet=sheet, skip_invalid=skip_invalid,
        progress=progress, matching=matching, today=today,
    )  # fmt: skip
    if report.written and mapping:
        with unit_of_work(engine) as session:
            save_mapping(session, actor, source, mapping)
    return report
