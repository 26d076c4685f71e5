"""`kinlink ingest PATH... [--json]`: read reports, extract sightings and mentions, store them.

Each document is stored in a transaction of its own, so a crash loses at most the one being written,
and a rerun skips what is stored already (documents are known by their content hash).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kinlink.cli.context import console, err_console, state
from kinlink.cli.db import open_engine
from kinlink.ingest.model import ExtractionResult
from kinlink.ingest.pipeline import process_items
from kinlink.ingest.readers import iter_folder, read_paths
from kinlink.matching.model import load_model
from kinlink.registry.reports import StoredDocument, store_report
from kinlink.store.db import unit_of_work
from kinlink.tracing.continuous import Matching

app = typer.Typer(no_args_is_help=True)


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("expected YYYY-MM-DD") from exc


@app.command("ingest")
def ingest(
    paths: list[Path] = typer.Argument(
        ..., help="Text or HTML files, folders, Telegram result.json exports."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object with every document."),
    date: str = typer.Option(
        None, "--date", help="Document date (YYYY-MM-DD) for files that carry none, to resolve 'yesterday'."
    ),
    store: bool = typer.Option(True, "--store/--no-store", help="Store documents and sightings (default)."),
) -> None:
    """Extract people reported captured, killed, wounded, missing or released from reports."""
    default_date = _parse_date(date)
    saver = _Saver() if store else None
    # A progress bar only when there is a folder to walk and a terminal to draw on.
    total = sum(len(iter_folder(p)) if p.is_dir() else 1 for p in paths)
    show_progress = any(p.is_dir() for p in paths) and err_console.is_terminal
    results: list[ExtractionResult] = []
    items = read_paths(paths, default_date=default_date)
    if show_progress:
        with Progress(
            TextColumn("ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
        ) as progress:
            task = progress.add_task("ingest", total=total)
            last_file = None
            for result in process_items(items):
                results.append(result)
                if saver:
                    saver.save(result)
                file = result.path.split("#", 1)[0]
                if file != last_file:
                    progress.advance(task)
                    last_file = file
    else:
        for result in process_items(items):
            results.append(result)
            if saver:
                saver.save(result)

    errors = [r for r in results if r.error]
    if json_output:
        payload = {"documents": [saver.annotate(r) if saver else r.to_json() for r in results]}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_table(results)
        if saver:
            console.print(saver.summary())
    for r in errors:
        err_console.print(f"[yellow]skipped[/] {r.path}: {r.error}")
    if not json_output:
        for hint in undated_hints(results):
            err_console.print(f"[yellow]note[/] {hint}", highlight=False)
    if errors and len(errors) == len(results):
        raise typer.Exit(code=1)


class _Saver:
    """Stores each processed document as it comes, then matches its sightings against open requests."""

    def __init__(self) -> None:
        self.engine = open_engine()
        self.matching = Matching(load_model())
        self.stored: dict[str, StoredDocument] = {}

    def save(self, result: ExtractionResult) -> None:
        if result.error or result.document is None:
            return
        with unit_of_work(self.engine) as session:
            stored = store_report(session, state.who(), result, matching=self.matching)
        self.stored[result.path] = stored

    def annotate(self, result: ExtractionResult) -> dict[str, object]:
        out = result.to_json()
        stored = self.stored.get(result.path)
        if stored:
            out.update(document_id=stored.document_id, new=stored.new, record_ids=stored.person_ids)
        return out

    def summary(self) -> str:
        new = [s for s in self.stored.values() if s.new]
        sightings = sum(len(s.person_ids) for s in new)
        return (
            f"Stored {len(new)} new document(s) with {sightings} sighting(s); "
            f"{len(self.stored) - len(new)} were stored before and added nothing."
        )


def undated_hints(results: list[ExtractionResult]) -> list[str]:
    """For each document whose sightings say when only relative to its own date ("duminică dimineața",
    "вчера") while it carries no date: how to give that date."""
    out = []
    for r in results:
        if r.error or r.document is None or r.document.date is not None:
            continue
        said = sorted({s.date_text for s in r.sightings if s.date is None and s.date_text})
        if said:
            name = Path(r.path.split("#", 1)[0]).name
            quoted = ", ".join(f"'{t}'" for t in said)
            out.append(
                f"{name}: {quoted} is relative to the day the document was published, which it does not "
                f"say; give that day with --date YYYY-MM-DD to date the sighting."
            )
    return out


def _print_table(results: list[ExtractionResult]) -> None:
    table = Table(title="Sightings", show_lines=False)
    for col in ("document", "lang", "name", "status", "age", "rank", "date"):
        table.add_column(col)
    mentions = 0
    for r in results:
        mentions += len(r.mentions)
        for s in r.sightings:
            table.add_row(
                Path(r.path.split("#", 1)[0]).name + (f"#{r.path.split('#', 1)[1]}" if "#" in r.path else ""),
                r.language or "",
                s.name,
                s.status,
                str(s.age or ""),
                s.rank or "",
                s.date.isoformat() if s.date else (s.date_text or ""),
            )
    console.print(table)
    ok = sum(1 for r in results if not r.error)
    sightings = sum(len(r.sightings) for r in results)
    console.print(f"{ok} documents read, {sightings} sightings, {mentions} people in other roles.")
