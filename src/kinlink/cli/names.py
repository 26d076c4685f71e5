"""`kinlink names ...` (issue 3: to be filled by the names work)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
