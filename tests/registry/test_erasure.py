"""Erasure on request and by expiry: the record goes, a tombstone without personal data stays."""

from __future__ import annotations

from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kinlink.store import schema
from kinlink.store.models import AuditEntry, Person
from kinlink.store.tracing_models import MatchKey
from tests.support import counts

ROWS = (
    "record_id,full_name,birth_date,status,status_date,expiry_date\n"
    "RU-1,Пактышев Леонид Андреевич,1993,captured,2022-02-27,\n"
    "RU-2,Иванов Иван Иванович,1990,missing,2022-03-01,2024-06\n"
    "RU-3,Петров Пётр Петрович,1991,missing,2022-03-01,2031\n"
)


def test_erase_leaves_a_tombstone_and_old_files_do_not_bring_it_back(cli, write, engine) -> None:
    path = write("reg.csv", ROWS)
    cli("import", "registry", str(path), "--source", "bureau")
    cli("records", "erase", "bureau:RU-1", "--reason", "on_request", "--yes")
    assert cli("records", "show", "bureau:RU-1", ok=False).exit_code == 1
    stones = cli.json("records", "tombstones")["tombstones"]
    assert [(t["source"], t["key"], t["reason"]) for t in stones] == [("bureau", "RU-1", "on_request")]
    with Session(engine) as s:
        erase = s.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
        assert "Пактышев" not in str(erase.changes)  # the audit keeps the fact, not the person
    again = cli.json("import", "registry", str(path), "--source", "bureau")
    assert (again["created"], again["erased"], again["unchanged"]) == (0, 1, 2)
    assert cli.json("records", "list")["total"] == 2
    assert cli("audit", "verify").exit_code == 0


def test_retention_erases_only_what_has_expired(cli, write, engine) -> None:
    cli("import", "registry", str(write("reg.csv", ROWS)), "--source", "bureau")
    n = counts(engine)["persons"]
    out = cli("retention", "--today", "2024-06-30")
    assert "0 expired" in out.output  # a month-precision expiry lasts to the month's end
    out = cli("retention", "--today", "2024-07-01")
    assert "1 expired" in out.output
    assert counts(engine)["persons"] == n - 1
    assert [t["key"] for t in cli.json("records", "tombstones")["tombstones"]] == ["RU-2"]


def test_expiry_date_may_be_in_the_future_but_must_be_a_date(cli, write, engine) -> None:
    bad = "record_id,full_name,expiry_date\nRU-1,Иван Петров,soon\n"
    result = cli("import", "registry", str(write("bad.csv", bad)), "--source", "b", ok=False)
    assert "bad.csv:2: expiry_date: 'soon' is not a date" in result.output
    assert counts(engine)["persons"] == 0


def _keys(s: Session, pid: int | None) -> int:
    return len(s.scalars(select(MatchKey.key).where(MatchKey.entity == "p", MatchKey.entity_id == pid)).all())


def test_an_erased_record_leaves_no_matching_keys(cli, write, engine) -> None:
    """Its blocking keys and name counts are derived from its names: they go with it, and a database where
    earlier erasures left them loses them on upgrade (migration 0021)."""
    cli("import", "registry", str(write("reg.csv", ROWS)), "--source", "bureau")
    cli("match")
    with Session(engine) as s:
        erased = s.scalar(select(Person.id).where(Person.source_record_id == "RU-1"))
        kept = s.scalar(select(Person.id).where(Person.source_record_id == "RU-2"))
        assert _keys(s, erased) and _keys(s, kept)
    cli("records", "erase", "bureau:RU-1", "--reason", "on_request", "--yes")
    with Session(engine) as s:
        assert _keys(s, erased) == 0 and _keys(s, kept)
        # An erasure of before: the record gone, its keys left.
        s.execute(
            insert(MatchKey), [{"entity": "p", "entity_id": 10_000_000, "key": k} for k in ("a", "tf:b")]
        )
        s.commit()
    cfg = schema.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0020")
    schema.upgrade(engine)
    with Session(engine) as s:
        assert _keys(s, 10_000_000) == 0 and _keys(s, kept)
    assert cli("audit", "verify").exit_code == 0
