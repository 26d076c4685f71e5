"""SQLite databases are read through a memory map (issue 19): a million-record registry is gigabytes, and a
search's lookups by id then cost a page of the shared map instead of a read into each connection's small
cache. What one connection commits, the others read at once, map or not."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from kinlink.store.db import make_engine


def test_sqlite_connections_map_the_file_and_see_each_others_commits(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'mapped.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        with engine.connect() as reader, engine.connect() as writer:
            assert reader.execute(text("PRAGMA mmap_size")).scalar_one() > 0
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            reader.rollback()
            writer.execute(text("INSERT INTO t (v) VALUES ('x')"))
            writer.commit()
            assert reader.execute(text("SELECT v FROM t")).scalars().all() == ["x"]
    finally:
        engine.dispose()
