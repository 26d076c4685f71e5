"""Bulk writes: COPY on PostgreSQL, the driver's executemany elsewhere (SQLite), with the ids drawn first.

COPY is the way PostgreSQL's documentation gives for loading many rows ("Populating a Database"), an order
of magnitude less work a row than INSERT statements; on SQLite the driver's own executemany skips
SQLAlchemy's per-row parameter processing, which cost more than SQLite's work (issue 19). Ids are drawn
before the rows are written, so that rows referring to them follow without a RETURNING round trip.

Rows are written in the caller's transaction, on its connection: all or nothing as ever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection


def copies(conn: Connection) -> bool:
    """Whether this connection loads with COPY (PostgreSQL through psycopg 3)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def next_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """n ids for new rows of the table, in order.

    PostgreSQL: drawn from the table's own sequence. SQLite: after the largest id, which is what SQLite
    itself gives (a rowid table without AUTOINCREMENT); the caller holds SQLite's write lock (writers take
    it first: `kinlink.store.audit.AuditLog.lock`), so no other writer can take the same ids.
    """
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%(t)s, 'id')) FROM generate_series(1, %(n)s)",
            {"t": table.name, "n": n},
        )
        return [r[0] for r in rows]
    last = conn.execute(select(func.max(table.c.id))).scalar_one() or 0
    return list(range(last + 1, last + 1 + n))


def write_rows(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert these rows (dicts with the same keys: columns of the table), as fast as the database allows.

    rows may be a generator: COPY sends rows as they come, and the server inserts them while the generator
    works out the next ones."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return
    columns = tuple(first)
    get = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    write_values(conn, table, columns, map(get, chain([first], it)))


def write_values(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert these rows, each a sequence of values in the order of `columns`: what `write_rows` does,
    without a dict a row (an import's writer builds its rows as tuples, issue 19)."""
    names = ", ".join(f'"{c}"' for c in columns)  # our own column names, never input
    if copies(conn):
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        finally:
            cursor.close()
        return
    if conn.dialect.paramstyle != "qmark":
        raise NotImplementedError(f"bulk writes on {conn.dialect.name}")
    # The column types' own conversions (SQLite: datetimes as text, booleans as integers), as SQLAlchemy
    # would apply them, but only to the columns that have one, and once per run of the same value (an
    # import's rows share one time: 500,000 conversions of it were a fifth of the writing, issue 19).
    processors = [table.c[c].type._cached_bind_processor(conn.dialect) for c in columns]
    converted = [(i, _repeats_once(p)) for i, p in enumerate(processors) if p is not None]
    if converted:
        values = []
        for row in rows:
            v = list(row)
            for i, p in converted:
                v[i] = p(v[i])
            values.append(tuple(v))
    else:
        values = list(map(tuple, rows))
    if not values:
        return  # (the driver takes an empty list for a statement without parameters)
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def _repeats_once(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, computed again only when its value is not the very object it was given last (for one
    write: the object is held meanwhile, so its identity cannot be another's)."""
    last: list[Any] = [_NOTHING, None]

    def once(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return once


_NOTHING = object()


@contextmanager
def page_cache(conn: Connection, kib: int) -> Iterator[None]:
    """SQLite: a page cache of `kib` KiB for this connection while inside, then the one it had (a no-op
    elsewhere).

    A bulk load writes into every index of its tables at once (persons has five, names three): with
    SQLite's default cache of 2 MiB their pages were read again and again, and 16 MiB took a quarter off
    SQLite's own time for 100,000 rows (4.7 -> 3.8 CPU-s), at 15 MiB more memory (issue 19). The cache is
    given back on the way out, so a pooled connection does not keep it.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection  # the driver's: the pragma is no statement of the transaction
    assert raw is not None
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={int(before)}")
