"""Opening the database for a command, with messages a person can act on."""

from __future__ import annotations

import typer
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from kinlink.cli.context import err_console, state
from kinlink.store import schema
from kinlink.store.db import database_url, make_engine, redacted


def open_engine() -> Engine:
    """The database of --db / $KINLINK_DATABASE_URL, migrated; a new SQLite file is set up on first use."""
    url = database_url(state.db_url)
    engine = make_engine(url, pooled=False)
    try:
        if schema.is_current(engine):
            return engine
        empty = not inspect(engine).get_table_names()
    except OperationalError as e:
        err_console.print(f"[red]Cannot open the database {redacted(url)}:[/] {e.orig}")
        raise typer.Exit(2) from None
    if empty and engine.dialect.name == "sqlite":
        schema.upgrade(engine)
        return engine
    err_console.print(
        f"[red]The database {redacted(url)} is not set up for this kinlink version.[/] Run: kinlink init"
    )
    raise typer.Exit(2)
