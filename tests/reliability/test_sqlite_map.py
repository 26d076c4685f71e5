"""A SQLite engine reads its file through a memory map (`store.db._sqlite_pragmas`, issue 19): each of its
connections, and what one connection commits the others read at once (WAL's frames, then the checkpointed
file under the map)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from kinlink.store.db import make_engine


def test_every_sqlite_connection_reads_through_a_map_and_sees_the_others_commits(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'mapped.db'}")
    try:
        with engine.connect() as a, engine.connect() as b:
            for conn in (a, b):
                assert conn.exec_driver_sql("PRAGMA mmap_size").scalar_one() > 0
            a.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
            a.commit()
            for n in range(3):
                a.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 5000 * (n + 1)})
                a.commit()
                assert b.execute(text("SELECT count(*), sum(length(v)) FROM t")).one() == (
                    n + 1,
                    5000 * (n + 1) * (n + 2) // 2,
                )
                b.rollback()
            a.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            assert b.execute(text("SELECT sum(length(v)) FROM t")).scalar_one() == 30000
    finally:
        engine.dispose()
