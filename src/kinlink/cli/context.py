"""What the global options set, shared by every command group."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine

from kinlink.errors import Refused
from kinlink.tracing.mail import MailSettings, send_pending

console = Console()
# Errors name files and fields: never break them across lines, so they can be read and searched whole.
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class CliState:
    db_url: str | None = None
    actor: str | None = None

    def who(self) -> str:
        return self.actor or os.environ.get("KINLINK_ACTOR") or f"cli:{getpass.getuser()}"


state = CliState()


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[red]{message}[/]", highlight=False)
    raise typer.Exit(code)


def refused(e: Refused, code: int = 2) -> NoReturn:
    """A refusal of the domain, in English, each problem with its field."""
    fail("; ".join(f"{p.field}: {p.text()}" if p.field else p.text() for p in e.problems) or e.kind, code)


def deliver(engine: Engine, ids: list[int], secrets: dict[int, str] | None = None) -> None:
    """Send what an action queued for the enquirers, now that it has committed (KINLINK_SMTP_*)."""
    if ids:
        send_pending(engine, MailSettings(), ids, secrets)
