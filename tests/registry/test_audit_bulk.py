"""Issue 19: an import's audit entries (`AuditLog.add_many`) and rows (`kinlink.store.bulk.write_values`)
are written by shorter paths than one entry or one ORM row at a time; what they store is what those store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, select, text

from kinlink.store import audit, bulk
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry

# Changes of text alone (the short path), with what JSON escapes, and others (the encoder's path).
CHANGES: list[Any] = [
    {"source": "bench", "record_id": "R1"},
    {"source": "Мінобороны «Z»", "record_id": 'a "quoted"\\ id\n\t\x01'},
    {"z": "last", "a": "first", "m": "ё"},
    {},
    {"count": 3, "ids": [1, 2]},
    {"nested": {"b": "x", "a": "y"}},
    None,
    ["a", "list"],
    {"emoji": "\U0001f600", "lone": "x"},
]


def test_add_many_hashes_and_stores_what_add_would(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        log = audit.AuditLog(session, "tester")
        log.add_many("create", "person", [(i, c) for i, c in enumerate(CHANGES * 60)])  # COPY/executemany
        log.flush()
        log.add_many("create", "person", [(i, c) for i, c in enumerate(CHANGES)])  # statement by statement
        log.flush()
    with unit_of_work(engine) as session:
        assert audit.verify(session) == []  # each hash is entry_hash's, as `add` computes it
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.changes for e in entries] == CHANGES * 61
        if engine.dialect.name == "sqlite":
            # The text SQLite holds is the JSON column's own conversion of each entry's changes.
            stored = session.execute(text("SELECT changes FROM audit_log ORDER BY id")).scalars().all()
            assert stored == [json.dumps(c) for c in CHANGES * 61]


# Changes of text under the same keys, each entry's (an import's rows): encoded a key's column at a time.
ALIKE: list[Any] = [
    {"source": "Мінобороны «Z» {x}", "record_id": f'R{i} "q"\\ \n\x01\U0001f600 {{}}'} for i in range(150)
]
BRACED: list[Any] = [{"{key}": f"v{i}", "a": "}"} for i in range(120)]


def test_add_many_of_changes_alike_hashes_and_stores_what_add_would(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        log = audit.AuditLog(session, "tester")
        log.add_many("create", "person", [(i, c) for i, c in enumerate(ALIKE)])
        log.flush()
        log.add_many("create", "person", [(None, c) for c in BRACED])
        log.add("update", "person", 1, {"x": "y"})
        log.add_many("create", "person", [(i, c) for i, c in enumerate(ALIKE[:3])])  # statement by statement
        log.flush()
    with unit_of_work(engine) as session:
        assert audit.verify(session) == []
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.changes for e in entries] == [*ALIKE, *BRACED, {"x": "y"}, *ALIKE[:3]]
        if engine.dialect.name == "sqlite":
            stored = session.execute(text("SELECT changes FROM audit_log ORDER BY id")).scalars().all()
            assert stored == [json.dumps(c) for c in [*ALIKE, *BRACED, {"x": "y"}, *ALIKE[:3]]]


def test_a_column_left_empty_keeps_null_not_its_default(tmp_path: Path) -> None:
    """A column no row fills is left out of the INSERT only when leaving it out stores NULL too."""
    engine = create_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    meta = MetaData()
    t = Table(
        "t",
        meta,
        Column("id", Integer, primary_key=True),
        Column("plain", String),
        Column("with_default", String, server_default="d"),
        Column("filled", String),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        bulk.write_values(
            conn, t, ("id", "plain", "with_default", "filled"), [(1, None, None, "x"), (2, None, None, "y")]
        )
        rows = conn.execute(select(t).order_by(t.c.id)).all()
    assert [tuple(r) for r in rows] == [(1, None, None, "x"), (2, None, None, "y")]
    engine.dispose()


def test_copied_rows_keep_their_times_shared_or_not(pg: Engine) -> None:
    # A time shared by a run of rows is formatted once for PostgreSQL's COPY (kinlink.store.bulk): each
    # row still stores its own, to the microsecond, in whatever zone it was given.
    shared = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    other = datetime(2024, 5, 6, 9, 8, 9, 654321, tzinfo=timezone(timedelta(hours=2)))
    times = [shared, shared, other, shared, datetime(2023, 1, 2, 3, 4, 5, 6, tzinfo=UTC), shared]
    with unit_of_work(pg) as session:
        conn = session.connection()
        cols = ("at", "actor", "action", "entity", "hash", "chain")
        bulk.write_values(conn, AuditEntry.__table__, cols, [(t, "a", "x", "e", "h", 1) for t in times])
        stored = session.scalars(select(AuditEntry.at).order_by(AuditEntry.id)).all()
    assert stored == times
