"""Helpers shared by tests: the real CLI against one database, and row counts."""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.store.models import AuditEntry, Event, Person, PersonName


class Cli:
    """Runs the real `kinlink` command in process against one database."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = self.runner.invoke(app, ["--db", self.db_url, "--as", "test:registrar", *args])
        if ok and result.exit_code != 0:
            raise AssertionError(f"kinlink {' '.join(args)} failed ({result.exit_code}):\n{result.output}")
        return result

    def json(self, *args: str) -> dict:
        return json.loads(self(*args, "--json").stdout)


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Person, PersonName, Event, AuditEntry)
        }
