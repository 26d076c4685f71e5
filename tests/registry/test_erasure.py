"""Erasure on request and by expiry: the record goes, a tombstone without personal data stays."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.store.models import AuditEntry
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
