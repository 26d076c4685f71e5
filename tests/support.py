"""Helpers shared by tests: the real CLI against one database, and row counts."""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.matching.model import load_model
from kinlink.registry import records
from kinlink.store.models import AuditEntry, Event, Person, PersonName
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing import intake
from kinlink.tracing.continuous import Matching
from kinlink.tracing.intake import Filer


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


MODEL = load_model()
MATCHING = Matching(MODEL)
NO_MATCHING = Matching(MODEL, on_write=False)


def add_record(session: Session, actor: str, values: dict, *, match: bool = False) -> Person:
    """A record written as the registrar's form writes it (matched only when asked)."""
    return records.create_record(session, actor, values, matching=MATCHING if match else NO_MATCHING).person


def file_request(
    session: Session, actor: str, values: dict, *, match: bool = True
) -> tuple[TracingRequest, str]:
    """A family's request filed by staff, as `kinlink request add` files it: the request and its secret."""
    filed = intake.file_request(session, Filer(actor), values, matching=MATCHING if match else NO_MATCHING)
    return filed.request, filed.secret
