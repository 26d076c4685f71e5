"""What the global options set, shared by every command group."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from rich.console import Console

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
