"""A table an import's vacuum left with pages not all-visible is vacuumed again once its pause is over, and
not before: the connection meanwhile goes on with other tables (kinlink.store.db._vacuum_again, issue 19)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from kinlink.store.db import VACUUM_AGAIN_AFTER, _all_visible, _Unmarked, _vacuum_again

TABLE = "kl_vacuum_again"


@pytest.fixture
def loaded(pg: Engine) -> Iterator[Engine]:
    """A table of a thousand rows, never vacuumed."""
    with pg.begin() as conn:
        conn.exec_driver_sql(f'CREATE TABLE "{TABLE}" (id int PRIMARY KEY, note text)')
        conn.exec_driver_sql(
            f"INSERT INTO \"{TABLE}\" SELECT g, repeat('x', 50) FROM generate_series(1, 1000) g"
        )
    yield pg
    with pg.begin() as conn:
        conn.exec_driver_sql(f'DROP TABLE "{TABLE}"')


def _vacuums(engine: Engine) -> int:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        return int(
            conn.exec_driver_sql(
                "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = %(t)s", {"t": TABLE}
            ).scalar_one()
        )


def test_a_table_not_due_is_left_for_later(loaded: Engine) -> None:
    later = _Unmarked(time.monotonic() + 60, 0, TABLE)
    with loaded.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert _vacuum_again(conn, [later], wait=False) == [later]
    assert _vacuums(loaded) == 0


def test_a_due_table_is_vacuumed_and_marked(loaded: Engine) -> None:
    with loaded.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert _vacuum_again(conn, [_Unmarked(time.monotonic() + 0.05, 0, TABLE)], wait=True) == []
        assert _all_visible(conn, TABLE)
    assert _vacuums(loaded) == 1


def test_a_table_still_unmarked_gets_its_next_pause_then_is_given_up(loaded: Engine) -> None:
    # A snapshot older than the table's rows keeps a vacuum from marking any page of it.
    with loaded.connect() as holder:
        holder.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
        holder.exec_driver_sql("SELECT 1")
        with loaded.begin() as conn:
            conn.exec_driver_sql(f"UPDATE \"{TABLE}\" SET note = 'y'")  # rows the holder does not see
        with loaded.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            before = time.monotonic()
            left = _vacuum_again(conn, [_Unmarked(before, 0, TABLE)], wait=False)
            assert [(u.tries, u.table) for u in left] == [(1, TABLE)]
            assert left[0].due >= before + VACUUM_AGAIN_AFTER[1]
            assert not _all_visible(conn, TABLE)
            assert _vacuum_again(conn, [left[0]._replace(due=0.0)], wait=False) == []  # the last try
        holder.rollback()
    assert _vacuums(loaded) == 2
