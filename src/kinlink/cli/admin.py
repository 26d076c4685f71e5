"""Administration: backup and restore."""

from __future__ import annotations

from pathlib import Path

import typer

from kinlink.cli.context import console, err_console, state
from kinlink.cli.db import open_engine
from kinlink.store import audit
from kinlink.store import backup as backups
from kinlink.store.db import unit_of_work


def backup(target: Path = typer.Argument(..., help="File to write the snapshot to.")) -> None:
    """Write a consistent snapshot of the database (SQLite backup API, or pg_dump)."""
    engine = open_engine()
    try:
        backups.backup(state.db_url, target)
    except backups.BackupError as e:
        err_console.print(f"[red]{e}[/]")
        raise typer.Exit(1) from None
    with unit_of_work(engine) as session:
        audit.record(session, state.who(), "backup", "database", None, {"file": target.name})
    console.print(f"Backup written to {target}")


def restore(
    source: Path = typer.Argument(..., help="A file written by `kinlink backup`."),
    yes: bool = typer.Option(False, "--yes", help="Replace the database's content without asking."),
) -> None:
    """Replace the database's content with a backup."""
    if not yes and not typer.confirm(f"Replace everything in the database with {source}?"):
        raise typer.Exit(1)
    try:
        backups.restore(state.db_url, source)
    except backups.BackupError as e:
        err_console.print(f"[red]{e}[/]")
        raise typer.Exit(1) from None
    engine = open_engine()
    with unit_of_work(engine) as session:
        audit.record(session, state.who(), "restore", "database", None, {"file": source.name})
    console.print(f"Database restored from {source}")
