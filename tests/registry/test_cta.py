"""Lists to the Central Tracing Agency (issue 21, item 3): `kinlink export cta` writes every record new or
changed since the last list with its history, the erasure tombstones and a manifest; the list imported
into another, fresh kinlink gives the same records, events and tombstones (XLSX and CSV)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.store import schema
from kinlink.store.db import make_engine
from kinlink.store.models import Person, Tombstone

ROWS = (
    "record_id,full_name,sex,birth_date,unit,status,status_date,place,consent_inform_family,notes\n"
    "RU-1,Пактышев Леонид Андреевич,m,1993,=1+1 рота,captured,2022-02-27,Київська область,yes,\n"
    'RU-2,Коваль Игорь Петрович,m,1966-05,,missing,2022-03,,no,"two\nlines"\n'
    "RU-3,Савченко Надія,f,1981-05-11,,captured,2022-04-01,Маріуполь,no,\n"
)


def state(url: str) -> tuple[set, set, set]:
    """Records (source, id, name, fields), events (source, id, kind, date, place), tombstones."""
    engine = make_engine(url)
    with Session(engine) as s:
        people = s.scalars(select(Person).options(selectinload(Person.events), selectinload(Person.names)))
        records, events = set(), set()
        for p in people:
            key = (p.source.name, p.source_record_id)
            records.add((*key, p.full_name, p.sex, p.birth_date, p.unit, p.status, p.status_date, p.notes,
                         p.consent_inform_family, tuple(n.full_name for n in p.names)))  # fmt: skip
            events.update((*key, e.kind, e.date, e.place) for e in p.events)
        stones = {(t.source, t.key, t.reason) for t in s.scalars(select(Tombstone))}
    engine.dispose()
    return records, events, stones


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_elsewhere_round_trips(cli, write, db_url, tmp_path, fmt) -> None:
    def load(name: str, rows: str, source: str) -> None:
        cli("import", "registry", str(write(name, rows)), "--source", source)

    load("a.csv", ROWS, "ru-bureau")
    load("b.csv", "record_id,full_name\nUA-9,Іваненко Петро\n", "ua")
    first = tmp_path / f"cta-1.{fmt}"
    manifest = cli.json("export", "cta", "--format", fmt, "-o", str(first))
    assert (manifest["records"], manifest["events"], manifest["tombstones"]) == (4, 3, 0)
    assert manifest["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    on_disk = json.loads((tmp_path / f"cta-1.{fmt}.manifest.json").read_text())
    assert on_disk["bureau"] and on_disk["sha256"] == manifest["sha256"] and on_disk["since"] is None

    # The Agency's kinlink: a fresh database (SQLite whatever this test's backend is).
    elsewhere = f"sqlite:///{tmp_path / 'agency.db'}"
    engine = make_engine(elsewhere)
    schema.upgrade(engine)
    engine.dispose()
    runner = CliRunner()

    def agency(*args: str) -> dict:
        result = runner.invoke(app, ["--db", elsewhere, "--as", "test:agency", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert agency("import", "cta", str(first), "--no-match")["written"]
    assert state(elsewhere) == state(db_url)

    # Since the last list: an event added, a record erased, a new record; only those go in the next one.
    load("c.csv", ROWS.replace(",missing,2022-03,", ",captured,2022-06-01,"), "ru-bureau")
    cli("records", "erase", "ru-bureau:RU-3", "--yes")
    load("d.csv", "record_id,full_name\nUA-10,Петренко Ольга\n", "ua")
    second = tmp_path / f"cta-2.{fmt}"
    manifest = cli.json("export", "cta", "--format", fmt, "-o", str(second))
    assert (manifest["records"], manifest["tombstones"]) == (2, 1), manifest
    assert manifest["since"] is not None
    assert agency("import", "cta", str(second), "--no-match")["erased"] == 1
    assert state(elsewhere) == state(db_url)
    # The same list twice changes nothing.
    again = agency("import", "cta", str(second), "--no-match")
    assert again["erased"] == 0 and all(s["created"] == s["updated"] == 0 for s in again["sources"].values())
    assert state(elsewhere) == state(db_url)


def test_a_list_whose_hash_is_not_its_manifests_is_refused(cli, write, tmp_path) -> None:
    cli("import", "registry", str(write("a.csv", ROWS)), "--source", "ru-bureau")
    out = tmp_path / "cta.csv"
    cli("export", "cta", "--format", "csv", "-o", str(out))
    out.write_text(out.read_text(encoding="utf-8").replace("Пактышев", "Пактишев"), encoding="utf-8")
    result = cli("import", "cta", str(out), ok=False)
    assert result.exit_code != 0 and "SHA-256" in result.output
