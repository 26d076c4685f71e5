"""Issue 19: on SQLite an audit entry's statements (chain 1's head taken, the entries, the head set) are run
by the driver itself, not through SQLAlchemy's execution, and store what SQLAlchemy's would: the same texts in
every column, a chain that verifies. On PostgreSQL they go through SQLAlchemy as before."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kinlink.actor import Actor
from kinlink.store import audit
from kinlink.store.db import reading_unit, unit_of_work
from kinlink.store.models import AuditEntry

COLUMNS = "at, actor, credential, action, entity, entity_id, changes, prev_hash, hash, chain"


def _write(engine: Engine) -> None:
    with unit_of_work(engine) as s:
        audit.record(s, "test", "update", "person", 7, {"name": "Іван", "n": [1, 2], "at": None})
        log = audit.AuditLog(s, Actor("web:staff", "token:3"))
        for i in range(3):
            log.add("create", "person", i, {"i": i, "ø": "ẞ"})
        log.add("delete", "person", None)
        log.flush()
        log.lock()
        log.add("import", "source", "s1", ["a", 1.5, True])
        log.flush()
    with reading_unit(engine) as s:
        audit.record_read(s, "web:staff", "person", [3, 1, 2], "api:search", {"q": "Іваненко", "limit": 10})


def test_sqlite_runs_an_entrys_statements_by_the_driver_storing_what_sqlalchemy_stores(
    engine: Engine,
) -> None:
    seen: list[str] = []

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "audit_" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", executed)
    try:
        _write(engine)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    sqlite = engine.dialect.name == "sqlite"
    assert (len(seen) == 0) if sqlite else (len(seen) >= 6)
    with unit_of_work(engine) as s:
        assert audit.verify(s) == []
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [e.action for e in entries] == [
            "update",
            "create",
            "create",
            "create",
            "delete",
            "import",
            "read",
        ]
        assert entries[1].changes == {"i": 0, "ø": "ẞ"} and entries[4].changes is None
        assert entries[1].credential == "token:3" and entries[-1].entity_id is None
        assert entries[-1].changes == {
            "view": "api:search",
            "filter": {"q": "Іваненко", "limit": 10},
            "count": 3,
            "ids": [3, 1, 2],
        }
    # Every entry written again by SQLAlchemy's own INSERT, from the values read back: the same stored texts.
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT {COLUMNS} FROM audit_log ORDER BY id")).all()
        table = AuditEntry.__table__
        for entry in entries:
            values = {c: getattr(entry, c) for c in COLUMNS.split(", ")}
            new_id = conn.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
            again = conn.execute(text(f"SELECT {COLUMNS} FROM audit_log WHERE id = :i"), {"i": new_id}).one()
            assert again == stored[entries.index(entry)]
        conn.rollback()


def test_a_driver_written_entrys_error_is_the_one_sqlalchemy_raises(engine: Engine) -> None:
    with engine.connect() as conn:
        # The heads' table renamed in a transaction rolled back after (SQLite's driver begins one at a write)
        conn.execute(text("UPDATE audit_head SET entries = entries"))
        conn.execute(text("ALTER TABLE audit_head RENAME TO audit_head_away"))
        # SQLAlchemy's error, not the driver's: on SQLite "database is locked" is then the busy answer
        with pytest.raises(DBAPIError), Session(bind=conn) as s:
            audit.record(s, "test", "update", "person", 7)
        conn.rollback()
    with unit_of_work(engine) as s:
        audit.record(s, "test", "update", "person", 7)
        assert audit.verify(s) == []
