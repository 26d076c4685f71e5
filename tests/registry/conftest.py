from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.store.models import AuditEntry, Event, Person, PersonName

HEADER = "record_id,full_name,sex,birth_date,rank,unit,status,status_date,place\n"


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


@pytest.fixture
def cli(db_url: str) -> Cli:
    return Cli(db_url)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def _write(name: str, content: str) -> Path:
        p = tmp_path / name
        p.write_text(content, encoding="utf-8")
        return p

    return _write


def counts(engine: Engine) -> dict[str, int]:
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Person, PersonName, Event, AuditEntry)
        }
