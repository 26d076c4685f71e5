"""`kinlink import pfif` and `kinlink export pfif`: the People Finder Interchange Format (1.1-1.4 read,
1.2 or 1.4 written)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from kinlink.cli.context import console, deliver, err_console, fail, state
from kinlink.cli.db import open_engine
from kinlink.errors import Refused
from kinlink.matching.model import load_model
from kinlink.private_files import open_private
from kinlink.registry import pfif
from kinlink.tracing.continuous import Matching


def import_pfif(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="A PFIF 1.1, 1.2, 1.3 or 1.4 XML file."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Import persons and notes from PFIF; note statuses become events. Same file twice changes nothing."""
    engine = open_engine()
    try:
        result = pfif.import_xml(engine, file.read_bytes(), state.who(), matching=Matching(load_model()))
    except Refused as e:
        fail(f"{file.name}: nothing imported: {e}", 1)
    deliver(engine, result.notifications)
    if json_output:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        console.print(
            f"{file.name} (PFIF {result.version}): {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.erased} erased (expired at the partner), "
            f"{result.notes_added} notes added to records, {len(result.unknown_notes)} notes for persons "
            f"kinlink does not have, {result.links} records proposed as the same person, "
            f"{len(result.skipped)} skipped."
        )
        for line in [*result.unknown_notes, *result.skipped]:
            err_console.print(f"  {line}")


def export_pfif(
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
    source: str = typer.Option(None, "--source", help="Only the records of this source."),
    all_records: bool = typer.Option(
        False,
        "--all",
        help="Every record with its full history, for exchange between tracing agencies. Without it, only "
        "what families could be told (the persons' consent and the registrars' death decisions).",
    ),
    version: str = typer.Option("1.4", "--version", help="The PFIF version to write: 1.4 or 1.2."),
) -> None:
    """Export records as PFIF XML, their history as notes, erased records as expired placeholders."""
    try:
        xml = pfif.export_xml(
            open_engine(), state.who(), source=source, consented_only=not all_records, version=version
        )
    except Refused as e:
        fail(str(e), 2)
    if output:
        with open_private(output, "wb") as f:
            f.write(xml)
        err_console.print(f"Wrote {output}.")
    else:
        sys.stdout.buffer.write(xml)
