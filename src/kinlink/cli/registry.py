"""Registry commands: init, import registry, records list/show, export registry, audit verify."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kinlink.cli.context import console, deliver, err_console, fail, state
from kinlink.cli.db import open_engine
from kinlink.errors import Refused
from kinlink.matching.model import load_model
from kinlink.person.confirmation import LABELS as LEVEL_WORDS
from kinlink.person.fields import to_row
from kinlink.person.notes import note_english
from kinlink.private_files import open_private
from kinlink.registry import erasure, lists, people
from kinlink.registry.files import FORMATS, FileFormatError
from kinlink.registry.search import keys_outdated, rebuild_search_keys
from kinlink.store import audit, schema
from kinlink.store.db import database_url, make_engine, redacted, unit_of_work
from kinlink.store.models import Person
from kinlink.tracing.continuous import Matching

import_app = typer.Typer(no_args_is_help=True, help="Import files into kinlink.")
export_app = typer.Typer(no_args_is_help=True, help="Export from kinlink.")
records_app = typer.Typer(no_args_is_help=True, help="Read person records.")
audit_app = typer.Typer(no_args_is_help=True, help="The audit log.")


def init() -> None:
    """Create the database, or upgrade it to this version's schema."""
    url = database_url(state.db_url)
    engine = make_engine(url, pooled=False)
    before = schema.current_revision(engine)
    schema.upgrade(engine)
    after = schema.current_revision(engine)
    if before == after:
        console.print(f"Database {redacted(url)} is up to date (schema {after}).")
    else:
        console.print(f"Database {redacted(url)} set up: schema {before or 'none'} -> {after}.")
    with unit_of_work(engine) as session:
        stale = keys_outdated(session)
    if stale:
        # Keys written by an older kinlink would not meet new queries: searches would miss people.
        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task("Rebuilding the matching keys", total=None)
            n = rebuild_search_keys(engine, lambda done, total: bar.update(task, completed=done, total=total))
        console.print(f"Matching keys rebuilt for {n:,} records (this kinlink derives them differently).")


@import_app.command("registry")
def import_registry(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="CSV, JSON Lines, XLSX, XLS or ODS file."
    ),
    source: str = typer.Option(..., "--source", help="Name of the registry the file comes from."),
    fmt: str = typer.Option(None, "--format", help="csv, jsonl, xlsx, xls or ods (default: from the name)."),
    mapping_file: Path = typer.Option(
        None,
        "--mapping",
        exists=True,
        dir_okay=False,
        help='JSON {"heading as written": "field", or "" to leave it out}; saved for the source once the '
        "import is written, and reused for its next lists (headings in English, Russian or Ukrainian are "
        "recognised without one).",
    ),
    sheet: str = typer.Option(None, "--sheet", help="The sheet to read (default: the first)."),
    preview_only: bool = typer.Option(
        False, "--preview", help="Check every row and name every bad cell; write nothing."
    ),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Write the good rows, report the bad."),
    match: bool = typer.Option(
        True,
        "--match/--no-match",
        help="Match the new and changed records against the open requests after the import (default); "
        "--no-match for a bulk load followed by `kinlink match`.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Import a registrar's file. Same file twice changes nothing; a changed row updates its record."""
    engine = open_engine()
    try:
        mapping = lists.read_mapping_file(mapping_file) if mapping_file else None
    except FileFormatError as e:
        _fail(f"{mapping_file}: {e}", json_output)
    if preview_only:
        _preview(engine, file, source.strip(), fmt, mapping, sheet, json_output)
        return
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=json_output or not err_console.is_terminal,
        transient=True,
        # Drawn as each chunk is written, by no thread of its own: a large first import's rows are checked
        # by a forked process only from a process with one thread (kinlink.registry.checking_process).
        auto_refresh=False,
    ) as bar:
        task = bar.add_task(f"Importing {file.name}", total=None)
        try:
            report = lists.import_list(
                engine,
                file,
                source.strip(),
                state.who(),
                fmt=fmt,
                mapping=mapping,
                sheet=sheet,
                skip_invalid=skip_invalid,
                progress=lambda n: bar.update(task, advance=n, refresh=True),
                matching=Matching(load_model()) if match else None,
            )
        except FileFormatError as e:
            _fail(f"{file}: {e}", json_output)
    outcome = {
        "file": str(file),
        "source": report.source,
        "written": report.written,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "invalid": report.invalid,
        "erased": report.erased,
        "errors": report.errors,
        "bad_cells": [
            {
                "sheet": c.sheet,
                "row": c.row,
                "column": c.letter,
                "heading": c.heading,
                "field": c.field,
                "reason": c.text,
            }
            for c in report.bad_cells
        ],
        "matched": report.matched,
    }
    deliver(engine, report.notifications)
    if json_output:
        print(json.dumps(outcome, ensure_ascii=False))
    else:
        for line in report.errors:
            err_console.print(f"[red]{line}[/]", highlight=False)
        if report.written:
            console.print(
                f"{file.name}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged"
                + (f", {report.invalid} bad rows skipped" if report.invalid else "")
            )
        else:
            err_console.print(
                f"{file.name}: {report.invalid} bad row(s); nothing was written. "
                "Fix them, or pass --skip-invalid to import the good rows."
            )
    if not report.written:
        raise typer.Exit(1)


def _preview(
    engine: Any,
    file: Path,
    source: str,
    fmt: str | None,
    mapping: dict[str, str] | None,
    sheet: str | None,
    json_output: bool,
) -> None:
    with unit_of_work(engine) as session:
        try:
            seen = lists.preview(session, state.who(), file, source, mapping, sheet, fmt=fmt)
        except FileFormatError as e:
            _fail(f"{file}: {e}", json_output)
    lines = [c.render(file.name) for c in seen.bad_cells]
    if json_output:
        print(json.dumps({"rows": seen.rows, "good": seen.good, "errors": lines}, ensure_ascii=False))
    else:
        for line in lines:
            err_console.print(f"[red]{line}[/]", highlight=False)
        console.print(
            f"{file.name}: {seen.rows} row(s), {seen.good} good, {seen.bad_rows} bad; nothing written."
        )
    if seen.bad_cells:
        raise typer.Exit(1)


def _fail(message: str, json_output: bool) -> None:
    if json_output:
        print(json.dumps({"written": False, "errors": [message]}, ensure_ascii=False))
    else:
        err_console.print(f"[red]{message}[/]", highlight=False)
    raise typer.Exit(1)


def _summary(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "source": p.source.name,
        "source_record_id": p.source_record_id,
        "name": p.full_name,
        "sex": p.sex,
        "birth_date": p.birth_date,
        "age": p.age,
        "age_as_of": p.age_as_of,
        "rank": p.rank,
        "unit": p.unit,
        "status": p.status,
        "status_date": p.status_date,
    }


@records_app.command("list")
def records_list(
    status: str = typer.Option(None, "--status", help="Only this current status (captured, dead, ...)."),
    source: str = typer.Option(None, "--source", help="Only records of this source."),
    limit: int = typer.Option(100, "--limit", help="At most this many (0: all)."),
    offset: int = typer.Option(0, "--offset"),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    """List person records."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        found, total = people.read_people(
            session,
            state.who(),
            "cli records list",
            status=status,
            source=source,
            limit=limit or None,
            offset=offset,
        )
        rows = [_summary(p) for p in found]
    if json_output:
        print(json.dumps({"total": total, "records": rows}, ensure_ascii=False))
        return
    # Readable at 80 columns: dates and ids are never cut; the name and the source wrap; the source's own
    # record id goes under the source, the rank (longest, least used) is left to `records show`.
    table = Table(title=f"{len(rows)} of {total} record(s)", caption="kinlink records show ID")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("name", ratio=3, overflow="fold")
    table.add_column("born", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("since", no_wrap=True)
    table.add_column("source / record", ratio=2, overflow="fold")
    for r in rows:
        born = r["birth_date"] or (f"{r['age']} y" if r["age"] is not None else "")
        table.add_row(
            str(r["id"]),
            r["name"],
            born,
            r["status"] or "",
            r["status_date"] or "",
            f"{r['source']}\n{r['source_record_id']}",
        )
    console.print(table)


@records_app.command("show")
def records_show(
    ref: str = typer.Argument(..., help="kinlink id (42) or source:record_id"),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    """Show one record with its names and history."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        try:
            person = people.read_person_ref(session, state.who(), ref, "cli records show")
        except Refused:
            err_console.print(f"[red]No record '{ref}'.[/] Give a kinlink id or source:record_id.")
            raise typer.Exit(1) from None
        data = people.record_of(person)
        detail = {
            **_summary(person),
            **{
                k: v for k, v in to_row(data).items() if k not in ("events", "status", "status_date", "place")
            },
            "names": [
                {
                    k: getattr(n, k)
                    for k in ("full_name", "family_name", "given_names", "patronymic", "script", "language")
                }
                for n in person.names
            ],
            "events": [
                {
                    "kind": e.kind,
                    "date": e.date,
                    "place": e.place,
                    "source": e.source.name if e.source else None,
                    "note": e.note or note_english(e.note_message),
                    "confirmation": e.confirmation,
                    "author": e.author,
                }
                for e in person.events
            ],
        }
    if json_output:
        print(json.dumps(detail, ensure_ascii=False, default=str))
        return
    table = Table(show_header=False, title=f"Record {person.id}: {person.full_name}")
    table.add_column("field", style="bold")
    table.add_column("value")
    for k, v in detail.items():
        if k in ("names", "events") or v in (None, "", []):
            continue
        table.add_row(k, str(v))
    console.print(table)
    names = Table(title="Names")
    for col in ("full_name", "family_name", "given_names", "patronymic", "script", "language"):
        names.add_column(col)
    for n in detail["names"]:
        names.add_row(
            *[
                n[c] or ""
                for c in ("full_name", "family_name", "given_names", "patronymic", "script", "language")
            ]
        )
    console.print(names)
    events = Table(title="History")
    for col in ("date", "event", "place", "source", "how it is known"):
        events.add_column(col)
    for e in detail["events"]:
        events.add_row(
            e["date"] or "?",
            e["kind"],
            e["place"] or "",
            e["source"] or "",
            LEVEL_WORDS.get(e["confirmation"], ""),
        )
    console.print(events)


@records_app.command("erase")
def records_erase(
    ref: str = typer.Argument(..., help="kinlink id (42) or source:record_id"),
    reason: str = typer.Option("on_request", "--reason", help="on_request, expired, duplicate, error ..."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase a record with its names, history and sightings, leaving a tombstone for partners."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        person = people.find_person(session, ref)
        if person is None:
            err_console.print(f"[red]No record '{ref}'.[/]")
            raise typer.Exit(1)
        if not yes and not typer.confirm(
            f"Erase record {person.id} ({person.source.name}:{person.source_record_id})?"
        ):
            raise typer.Exit(1)
        stone = erasure.erase_record(session, state.who(), person, reason)
        console.print(f"Erased {stone.source}:{stone.key}; a tombstone keeps only that, and why ({reason}).")


@records_app.command("tombstones")
def records_tombstones(json_output: bool = typer.Option(False, "--json")) -> None:
    """What was erased, and when: for partners to erase their copies too."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        rows = [
            {
                "entity": t.entity,
                "source": t.source,
                "key": t.key,
                "reason": t.reason,
                "erased_at": t.erased_at.isoformat(),
            }
            for t in erasure.tombstones(session)
        ]
    if json_output:
        print(json.dumps({"tombstones": rows}, ensure_ascii=False))
        return
    table = Table(title=f"{len(rows)} tombstone(s)")
    for col in ("entity", "source", "key", "reason", "erased_at"):
        table.add_column(col)
    for r in rows:
        table.add_row(*[r[c] for c in ("entity", "source", "key", "reason", "erased_at")])
    console.print(table)


def retention(
    today: str = typer.Option(None, "--today", help="Run as of this date (YYYY-MM-DD; default: today)."),
) -> None:
    """Erase the records whose expiry_date has passed, leaving tombstones."""
    as_of = date.fromisoformat(today) if today else date.today()
    engine = open_engine()
    with unit_of_work(engine) as session:
        erased = erasure.erase_expired(session, state.who(), as_of)
    console.print(f"{erased} expired record(s) erased as of {as_of.isoformat()}.")


@export_app.command("registry")
def export_registry(
    fmt: str = typer.Option("csv", "--format", help="csv or jsonl"),
    source: str = typer.Option(None, "--source", help="Only records of this source."),
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
) -> None:
    """Export records in the import format (the history goes in the `events` column)."""
    if fmt not in FORMATS:
        err_console.print(f"[red]--format: '{fmt}' is not one of {', '.join(FORMATS)}[/]")
        raise typer.Exit(2)
    engine = open_engine()
    with unit_of_work(engine) as session:
        out = open_private(output, "w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            n = people.export_registry(session, state.who(), fmt, out, source)  # type: ignore[arg-type]
        finally:
            if output:
                out.close()
    if output:
        err_console.print(f"{n} record(s) written to {output}")


@audit_app.command("verify")
def audit_verify(
    anchor: str = typer.Option(
        None,
        "--anchor",
        help="The heads printed earlier by `kinlink audit anchor` (COUNT:HASH[,CHAIN=COUNT:HASH...]).",
    ),
) -> None:
    """Check the audit log's keyed hash chains: any edited or deleted entry is found; with --anchor, that
    the chains still hold those heads unchanged (nothing before them changed or was removed)."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        try:
            problems = audit.verify(session, anchor)
        except ValueError as e:
            fail(f"--anchor: {e}")
        count = audit.entry_count(session)
    if problems:
        for p in problems:
            err_console.print(f"[red]{p}[/]")
        raise typer.Exit(1)
    suffix = " and holds the anchored head" if anchor else ""
    console.print(f"Audit log intact: {count} entries, chain verified{suffix}.")


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Print the chains' heads (COUNT:HASH of the first, then CHAIN=COUNT:HASH of each other one that has
    entries), to keep outside this machine for `verify --anchor`."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        chains = audit.heads(session)
    console.print(audit.format_anchor(chains), soft_wrap=True, highlight=False)
