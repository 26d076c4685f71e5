"""Lists to the Central Tracing Agency: `kinlink export cta` and, where such a list arrives, `kinlink
import cta`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import typer

from kinlink.cli.context import console, err_console, fail, state
from kinlink.cli.db import open_engine
from kinlink.errors import Refused
from kinlink.matching.model import load_model
from kinlink.registry import cta
from kinlink.store.db import unit_of_work
from kinlink.tracing.continuous import Matching


def export_cta(
    output: Path = typer.Option(..., "--output", "-o", help="The list to write (manifest beside it)."),
    fmt: str = typer.Option("xlsx", "--format", help="xlsx or csv"),
    since: str = typer.Option(
        None, "--since", help="From this date (YYYY-MM-DD, UTC); default: where the last list ended."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Every record new or changed since the last list, with its history, and the erasure tombstones, for
    the Central Tracing Agency (GC III Art. 122-123); a manifest beside it (counts, period, SHA-256)."""
    start = None
    if since:
        try:
            start = datetime.combine(date.fromisoformat(since), datetime.min.time(), UTC)
        except ValueError:
            fail(f"--since: '{since}' is not a date (YYYY-MM-DD)")
    engine = open_engine()
    with unit_of_work(engine) as session:
        try:
            manifest = cta.export_cta(session, state.who(), output, fmt, start)
        except Refused as e:
            fail(str(e))
    if json_output:
        print(json.dumps(manifest.__dict__, ensure_ascii=False))
        return
    console.print(
        f"{output}: {manifest.records} record(s) with {manifest.events} event(s), "
        f"{manifest.tombstones} tombstone(s), since {manifest.since or 'the beginning'}; "
        f"SHA-256 {manifest.sha256}; manifest {cta.manifest_path(output)}",
        soft_wrap=True,
        highlight=False,
    )


def import_cta(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    match: bool = typer.Option(True, "--match/--no-match", help="Match the open requests afterwards."),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    """Import a list made by `kinlink export cta` (records by their own sources, then the tombstones)."""
    engine = open_engine()
    try:
        done = cta.import_cta(engine, file, state.who(), Matching(load_model()) if match else None)
    except Refused as e:
        fail(f"{file}: {e}")
    outcome = {
        "written": done.written,
        "sources": {
            r.source: {"created": r.created, "updated": r.updated, "unchanged": r.unchanged}
            for r in done.reports
        },
        "erased": done.erased,
        "tombstones": done.tombstones,
        "errors": done.errors,
    }
    if json_output:
        print(json.dumps(outcome, ensure_ascii=False))
    else:
        for line in done.errors:
            err_console.print(f"[red]{line}[/]", highlight=False)
        console.print(json.dumps(outcome, ensure_ascii=False, indent=1))
    if not done.written:
        raise typer.Exit(1)
