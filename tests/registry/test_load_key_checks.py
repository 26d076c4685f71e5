"""A first PostgreSQL load's foreign keys to other tables (kinlink.store.bulk.DeferredIndexes): checked once
for all its rows before the commit instead of row by row, with the same outcome; and a re-import's stored
hashes read in one query (kinlink.registry.known), with the same outcome as looked up chunk by chunk."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from kinlink.registry import known
from kinlink.registry.imports import CHUNK, import_registry
from kinlink.store import bulk
from kinlink.store.models import Event, utcnow
from tests.support import counts

HEADER = "record_id,full_name,sex,birth_date,status,status_date\n"


def _row(i: int, status: str = "captured") -> str:
    return f"R{i},Иванов Пётр Сергеевич,m,1990,{status},2022-03-0{1 + i % 9}\n"


def _event(person_id: int, source_id: int | None = None) -> dict[str, object]:
    return {
        "person_id": person_id,
        "kind": "captured",
        "created_at": utcnow(),
        "confirmation": "registry",
        "source_id": source_id,
    }


def test_a_load_referring_to_no_row_fails_at_the_end(pg: Engine) -> None:
    with pg.connect() as conn, conn.begin():
        deferred = bulk.DeferredIndexes(conn, ["events"])
        deferred.wrote(1)
        bulk.write_rows(conn, Event.__table__, [_event(-1)])  # no person -1: not checked as it comes
        with pytest.raises(IntegrityError, match=r"events\.person_id: no persons row for \[-1\]"):
            deferred.restore()
        # The server's error: the transaction can only roll back, as after a row's own check.
        with pytest.raises(InternalError, match="current transaction is aborted"):
            conn.exec_driver_sql("SELECT 1")
    assert counts(pg)["events"] == 0


def test_rows_are_checked_as_they_come_again_after_a_load(pg: Engine) -> None:
    with pg.connect() as conn, conn.begin():
        deferred = bulk.DeferredIndexes(conn, ["events"])
        deferred.wrote(0)
        deferred.restore()
        assert conn.exec_driver_sql("SHOW session_replication_role").scalar() == "origin"
        with pytest.raises(IntegrityError, match="fk_events_person_id_persons"):
            conn.execute(Event.__table__.insert(), _event(-1))


def test_a_load_holds_the_rows_it_refers_to_until_it_commits(pg: Engine, write) -> None:  # type: ignore[no-untyped-def]
    # As each row's check would: the source a load's rows refer to cannot be deleted before it commits.
    import_registry(pg, write("a.csv", HEADER + _row(1)), "a", "tester")
    with pg.begin() as conn:
        conn.execute(text("DELETE FROM events"))
        pid, sid = conn.execute(text("SELECT id, source_id FROM persons")).one()
    with pg.connect() as conn, conn.begin():
        deferred = bulk.DeferredIndexes(conn, ["events"])
        deferred.wrote(1)
        bulk.write_rows(conn, Event.__table__, [_event(pid, sid)])
        deferred.restore()
        with pg.connect() as other, other.begin():
            other.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            with pytest.raises(OperationalError, match="lock timeout"):
                other.execute(text("DELETE FROM sources WHERE id = :s"), {"s": sid})
    assert counts(pg)["events"] == 1


@pytest.mark.parametrize("prefetch_max", [1, known.PREFETCH_MAX])
def test_a_reimport_over_chunks_compares_every_row_whether_or_not_hashes_are_read_at_once(
    engine: Engine, write, monkeypatch: pytest.MonkeyPatch, prefetch_max: int
) -> None:  # type: ignore[no-untyped-def]
    # More records than PREFETCH_MAX: the hashes are looked up chunk by chunk, as on SQLite.
    monkeypatch.setattr(known, "PREFETCH_MAX", prefetch_max)
    n = 2 * CHUNK + 100
    import_registry(engine, write("a.csv", HEADER + "".join(_row(i) for i in range(n))), "b", "tester")
    changed = (7, CHUNK + 7, 2 * CHUNK + 7)  # one in each chunk
    rows = [_row(i, "released" if i in changed else "captured") for i in range(n)]
    rows += [_row(i) for i in range(n, n + 50)] + [_row(CHUNK + 1)]  # new ones, and one repeated
    report = import_registry(engine, write("b.csv", HEADER + "".join(rows)), "b", "tester", skip_invalid=True)
    assert (report.created, report.updated, report.unchanged, report.invalid) == (50, 3, n - 3, 1)
    assert "appears twice in the file" in report.errors[0]
    assert counts(engine)["persons"] == n + 50
