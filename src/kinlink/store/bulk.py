"""Bulk writes: COPY on PostgreSQL, the driver's executemany elsewhere (SQLite), with the ids drawn first.

COPY is the way PostgreSQL's documentation gives for loading many rows ("Populating a Database"), an order
of magnitude less work a row than INSERT statements; on SQLite the driver's own executemany skips
SQLAlchemy's per-row parameter processing, which cost more than SQLite's work (issue 19). Ids are drawn
before the rows are written, so that rows referring to them follow without a RETURNING round trip.

Rows are written in the caller's transaction, on its connection: all or nothing as ever.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import chain
from operator import itemgetter
from threading import Thread
from typing import Any

from psycopg.types.datetime import DatetimeDumper
from sqlalchemy import BigInteger, Boolean, DateTime, Integer, SmallInteger, String, Table, func, select
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
        # One array, not a row an id: 2,000 result rows cost the client more than the server's work. The
        # sequence is found once (OFFSET 0 keeps the planner from putting the lookup back into each row's
        # nextval: found for each id, it was nine tenths of the statement's time, 6 ms of 7, issue 19).
        ids = conn.exec_driver_sql(
            "SELECT array_agg(nextval(s.seq) ORDER BY g) "
            "FROM (SELECT pg_get_serial_sequence(%(t)s, 'id')::regclass AS seq OFFSET 0) AS s, "
            "generate_series(1, %(n)s) AS g",
            {"t": table.name, "n": n},
        ).scalar_one()
        return list(ids or ())
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
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    stored: Collection[str] = (),
    typed: bool = False,
) -> None:
    """Insert these rows, each a sequence of values in the order of `columns`: what `write_rows` does,
    without a dict a row (an import's writer builds its rows as tuples, issue 19). stored: columns whose
    values come as SQLite stores them, converted already (executemany only). typed: each value is of its
    column's Python type (str for text, int for integers, an aware datetime for a time with zone): COPY
    then sends them in PostgreSQL's binary format (`_binary_types`), where their column types allow."""
    _copy_or_insert(conn, table, columns, rows, stored, _binary_types(table, columns) if typed else None)


def _copy_or_insert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    stored: Collection[str],
    binary: list[str] | None,
) -> None:
    names = ", ".join(f'"{c}"' for c in columns)  # our own column names, never input
    if copies(conn):
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.adapters.register_dumper(datetime, _SharedTimeDumper)
        binary_format = " (FORMAT BINARY)" if binary is not None else ""
        try:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN{binary_format}') as copy:
                if binary is not None:
                    copy.set_types(binary)
                write = copy.write_row
                for row in rows:
                    write(row)
        finally:
            cursor.close()
        return
    _executemany_only(conn)
    values = list(map(tuple, rows))
    if values:  # (the driver takes an empty list for a statement without parameters)
        _insert_columns(conn, table, columns, list(zip(*values, strict=True)), len(values), stored)


def write_columns(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    values: Sequence[Sequence[Any]],
    *,
    stored: Collection[str] = (),
    typed: bool = False,
) -> None:
    """`write_values` of rows given as their columns, each a sequence of one column's values in the order of
    `columns`: a writer that has its values by column (an import's chunk) sends them without building each
    row's tuple (issue 19). On SQLite a column that no row fills is then left out before any row is built.
    typed: as `write_values`' (a boolean column's values are checked: anything but True, False and None
    there is sent as text, as PostgreSQL reads it)."""
    if copies(conn):
        binary = _binary_types(table, columns, values) if typed else None
        _copy_or_insert(conn, table, columns, zip(*values, strict=True), stored, binary)
        return
    n = len(values[0]) if values else 0
    if n:
        _insert_columns(conn, table, columns, list(values), n, stored)


# psycopg's names of the types whose binary format COPY sends, by the column's type (the most derived first).
_BINARY = (
    (Boolean, "bool"),
    (SmallInteger, "int2"),
    (BigInteger, "int8"),
    (Integer, "int4"),
    (String, "text"),  # (varchar's binary format is text's; Text, Enum and Unicode are Strings too)
)
_TRUTHS = frozenset((True, False, None))


def _binary_types(
    table: Table, columns: Sequence[str], values: Sequence[Sequence[Any]] | None = None
) -> list[str] | None:
    """The types of the columns for a binary COPY of typed values, or None (COPY in text) where a column's
    type has no binary dumper here, or where a boolean column may hold anything but booleans: psycopg's
    binary dumper takes any object for a boolean by its truth (the text "false" as true), where PostgreSQL
    reads the text that the text format sends. Values of other types fail loudly in a binary dumper that
    does not take them. A binary COPY costs the client a fifth of a text one's CPU (psycopg escapes each
    text value for the text format) and the server a little less (0.27 against 0.31 CPU-s for 200,000
    event rows, issue 19)."""
    names = []
    for i, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, DateTime):
            if not column_type.timezone:
                return None  # (a naive datetime means the server's zone in text, UTC in binary)
            names.append("timestamptz")
            continue
        found = next((n for kind, n in _BINARY if isinstance(column_type, kind)), None)
        if found is None or (found == "bool" and (values is None or not _booleans(values[i]))):
            return None
        names.append(found)
    return names


def _booleans(values: Sequence[Any]) -> bool:
    try:
        return _TRUTHS.issuperset(values)
    except TypeError:  # (an unhashable value)
        return False


def _executemany_only(conn: Connection) -> None:
    if conn.dialect.paramstyle != "qmark":
        raise NotImplementedError(f"bulk writes on {conn.dialect.name}")


def _insert_columns(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    by_column: list[Sequence[Any]],
    n: int,
    stored: Collection[str],
) -> None:
    """The driver's executemany of n rows given by column (SQLite)."""
    _executemany_only(conn)
    # The column types' own conversions (SQLite: datetimes as text, booleans as integers), as SQLAlchemy
    # would apply them, but only to the columns that have one, a column at a time, and once per distinct
    # object in it (an import's rows share one time and two booleans: a call per value was a tenth of the
    # writing, issue 19).
    # A column that no row of these fills, without a conversion or a default of its own, is left out of the
    # statement: SQLite stores NULL there all the same, and the driver binds fewer values (an import's file
    # fills a dozen of a person's 38 columns: binding the others was a fifth of SQLite's time, issue 19).
    kept = []
    for i, name in enumerate(columns):
        column = table.c[name]
        process = None if name in stored else column.type._cached_bind_processor(conn.dialect)
        if process is not None:
            by_column[i] = _converted(by_column[i], process)
        elif column.default is None and column.server_default is None and by_column[i].count(None) == n:
            continue
        kept.append(i)
    names = ", ".join(f'"{columns[i]}"' for i in kept)
    marks = ", ".join("?" for _ in kept)
    values = list(zip(*[by_column[i] for i in kept], strict=True))
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


class _SharedTimeDumper(DatetimeDumper):
    """psycopg's text of a datetime, made once for a run of the same object: a load's rows share the time
    they were written at (an import: each person's two, each event's, each audit entry's), and psycopg's
    own dumper formatted each of them again, a twentieth of a first import's CPU (issue 19)."""

    _obj: datetime | None = None
    _text: bytes = b""

    def dump(self, obj: datetime) -> bytes:
        if obj is not self._obj:  # (the object held, so no other can take its id)
            self._obj, self._text = obj, super().dump(obj)  # type: ignore[assignment]
        return self._text


def _converted(column: Sequence[Any], process: Callable[[Any], Any]) -> Sequence[Any]:
    """process(value) for each value of a column, computed once per distinct object: keyed by identity,
    not equality (equal values may convert differently, 1 and True, datetimes in other zones), which is
    safe while the column holds every object, so that no id is another's."""
    ids = list(map(id, column))
    distinct = dict(zip(ids, column, strict=True))
    if len(distinct) * 2 > len(ids):
        return list(map(process, column))  # mostly distinct objects: nothing to share
    done = {key: process(value) for key, value in distinct.items()}
    return list(map(done.__getitem__, ids))


class Behind:
    """Writes of a load done by a thread of their own, one at a time, while the caller prepares the next.

    A chunk's writes wait for the server most of their time on PostgreSQL (it inserts the rows COPY sent,
    checks them, indexes them); the caller, meanwhile, reads and checks the next chunk's rows, which needs
    no database. psycopg lets other threads run while it waits (issue 19). The caller must not use the
    connection while a write is under way: `run` waits for the one before, and `join` (also on the way
    out of an error) before anything else is done on it. A write's error is raised by the next `run` or
    `join`: the transaction is then rolled back, all or nothing as ever.
    """

    def __init__(self) -> None:
        self._thread: Thread | None = None
        self._error: BaseException | None = None

    @staticmethod
    def helps(conn: Connection) -> bool:
        """Whether writes on this connection go behind (PostgreSQL; a SQLite connection is its thread's)."""
        return copies(conn)

    def run(self, write: Callable[[], object]) -> None:
        self.join()

        def work() -> None:
            try:
                write()
            except BaseException as e:  # raised in the caller's thread by the next run or join
                self._error = e

        self._thread = Thread(target=work, name="kinlink-load", daemon=True)
        self._thread.start()

    def join(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            try:
                thread.join()
            except BaseException:  # an interrupt: the connection is the caller's once the write is done
                thread.join()
                raise
        error, self._error = self._error, None
        if error is not None:
            raise error


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


class DeferredIndexes:
    """Secondary indexes of tables a large load fills, dropped while it writes and built again before it
    commits (issue 19: SQLite spent a third of a first import's time inserting each row into the tables'
    ten indexes one entry at a time, where building an index afterwards sorts its entries once).

    `wrote(n)` is told of the rows a load is about to write; once they reach the rows a table held before
    the load (its largest id: no more than a few rows' work to read, an overestimate after deletions), that
    table's indexes are dropped. `restore()` builds them again from their own definitions, as the database
    gave them. Both are statements of the caller's transaction (DDL is transactional on PostgreSQL and
    SQLite): a load that fails rolls back to the indexes as they were, with nothing written.

    Unique indexes and those of constraints stay: they check rows as they come. On PostgreSQL a dropped
    index locks its table against readers until the load commits (a search would wait for the whole
    import), so there only tables that held no rows go without their indexes: a new registry's first load.
    SQLite's readers keep reading the snapshot before the load (WAL), so there a load that at least
    doubles a table does.

    PostgreSQL also checks each row's foreign keys as it comes, a query a row (issue 19: the 200,000 events
    of 100,000 records cost the server 1.9 CPU-s with their two keys, 0.4 without). The keys between tables
    that both go without their indexes (names and events to persons) are dropped with them and added again
    after the indexes, which checks every row in one join. Those to other tables (sources) stay: dropping
    one would lock the other table against its readers too. Their checks, a query a row (200,000 events
    and 100,000 persons to their one source: a third of the server's work on a first import, issue 19),
    are instead left out where the connection may (`_skip_key_checks`) and made once for all the rows
    before the commit (`_check_keys`).
    """

    def __init__(self, conn: Connection, tables: Sequence[str]) -> None:
        self.conn = conn
        self.tables = tables
        self.rows = 0
        self._before: dict[str, int] | None = None
        self._dropped: dict[str, list[tuple[str, str]]] = {}
        self._keys: list[tuple[str, str, str]] | None = None  # (table, constraint, definition) dropped
        # (table, column, referenced table, its column) of the keys not checked row by row, and the
        # session_replication_role to go back to; None while every row is checked as it comes.
        self._unchecked: tuple[list[tuple[str, str, str, str]], str] | None = None

    def wrote(self, n: int) -> None:
        if self._before is None:
            self._before = {t: self._largest_id(t) for t in self.tables}
        self.rows += n
        readers_wait = self.conn.dialect.name == "postgresql"
        for table, before in self._before.items():
            if readers_wait and before:
                continue
            if table not in self._dropped and self.rows >= before:
                self._dropped[table] = self._drop(table)
        if readers_wait and self._keys is None:  # there every table goes at the first chunk, if at all
            self._keys = self._drop_keys(list(self._dropped))
            if self._dropped:
                self._unchecked = self._skip_key_checks(self.tables)

    def restore(self) -> None:
        if self._unchecked is not None:
            keys, role = self._unchecked
            self.conn.exec_driver_sql(
                "SELECT set_config('session_replication_role', %(r)s, true)", {"r": role}
            )
            self._unchecked = None
            self._check_keys(keys)
        for table in list(self._dropped):
            for _name, definition in self._dropped.pop(table):
                self.conn.exec_driver_sql(definition)
        # After the indexes: the check of each key's rows may use them.
        for table, name, definition in self._keys or ():
            self.conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        self._keys = None

    def _drop_keys(self, tables: list[str]) -> list[tuple[str, str, str]]:
        """PostgreSQL: drop the foreign keys among these tables; (table, name, definition) of each."""
        if not tables:
            return []
        rows = self.conn.exec_driver_sql(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE c.contype = 'f' AND c.conrelid = ANY(%(t)s::regclass[]) "
            "AND c.confrelid = ANY(%(t)s::regclass[]) ORDER BY 1, 2",
            {"t": [f'"{t}"' for t in tables]},
        ).fetchall()
        for table, name, _definition in rows:
            self.conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')  # the database's
        return [(table, name, definition) for table, name, definition in rows]

    def _skip_key_checks(self, tables: Sequence[str]) -> tuple[list[tuple[str, str, str, str]], str] | None:
        """PostgreSQL: stop checking the foreign keys of the loaded tables row by row, until `restore`,
        where the connection may set session_replication_role (a superuser's, or one granted it:
        PostgreSQL 15's GRANT SET ON PARAMETER) and the tables have no triggers but those of their keys;
        the keys (table, column, referenced table, its column) to check at the end, and the role to go
        back to. None (every row checked as it comes) otherwise, or where a key spans several columns.

        The role "replica" fires no trigger but those enabled ALWAYS: a foreign key's check is one."""
        allowed = self.conn.exec_driver_sql("SELECT current_setting('is_superuser') = 'on'").scalar()
        if not allowed and (self.conn.dialect.server_version_info or (0,)) >= (15,):
            allowed = self.conn.exec_driver_sql(
                "SELECT has_parameter_privilege('session_replication_role', 'SET')"
            ).scalar()
        regclasses = [f'"{t}"' for t in tables]
        others = self.conn.exec_driver_sql(
            "SELECT 1 FROM pg_trigger WHERE tgrelid = ANY(%(t)s::regclass[]) AND NOT tgisinternal",
            {"t": regclasses},
        ).first()
        if not allowed or others is not None:
            return None
        rows = self.conn.exec_driver_sql(
            "SELECT t.relname, r.relname, c.conkey, c.confkey, "
            "(SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = c.conkey[1]), "
            "(SELECT attname FROM pg_attribute WHERE attrelid = c.confrelid AND attnum = c.confkey[1]) "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_class r ON r.oid = c.confrelid "
            "WHERE c.contype = 'f' AND c.conrelid = ANY(%(t)s::regclass[]) ORDER BY t.relname, c.conname",
            {"t": regclasses},
        ).fetchall()
        if any(len(conkey) != 1 or len(confkey) != 1 for _t, _r, conkey, confkey, _c, _rc in rows):
            return None
        role = self.conn.exec_driver_sql("SELECT current_setting('session_replication_role')").scalar_one()
        self.conn.exec_driver_sql("SELECT set_config('session_replication_role', 'replica', true)")
        return [(table, column, ref, ref_column) for table, ref, _k, _f, column, ref_column in rows], role

    def _check_keys(self, keys: list[tuple[str, str, str, str]]) -> None:
        """What the foreign keys' checks do row by row, once for every row: the referenced rows are locked
        (FOR KEY SHARE, as each check locks its row, so that none is deleted before the commit), and a
        value referring to no row fails the load with the server's foreign_key_violation."""
        for table, column, ref, ref_column in keys:  # names as the database gave them
            # (Hashed: array_agg(DISTINCT) would sort every row's value.)
            distinct = f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
            values = self.conn.exec_driver_sql(distinct).scalars().all()
            if not values:
                continue
            found = self.conn.exec_driver_sql(
                f'SELECT "{ref_column}" FROM "{ref}" WHERE "{ref_column}" = ANY(%(v)s) FOR KEY SHARE',
                {"v": list(values)},
            ).fetchall()
            if len(found) != len(values):
                missing = sorted(set(values) - {v for (v,) in found})
                message = f"{table}.{column}: no {ref} row for {missing[:5]}".replace("'", "''")
                # Raised by the server, as a row's check would: the transaction can then only roll back.
                self.conn.exec_driver_sql(
                    f"DO $kl$ BEGIN RAISE foreign_key_violation USING MESSAGE = '{message}'; END $kl$"
                )

    def _largest_id(self, table: str) -> int:
        row = self.conn.exec_driver_sql(f'SELECT max(id) FROM "{table}"').first()  # our own table names
        return int(row[0] or 0) if row else 0

    def _drop(self, table: str) -> list[tuple[str, str]]:
        indexes = self._secondary(table)
        for name, _definition in indexes:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')  # names as the database gave them
        return indexes

    def _secondary(self, table: str) -> list[tuple[str, str]]:
        """(name, the statement that creates it) of the table's non-unique indexes, none of a constraint."""
        if self.conn.dialect.name == "postgresql":
            rows = self.conn.exec_driver_sql(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %(t)s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                "ORDER BY c.relname",
                {"t": f'"{table}"'},
            )
        elif self.conn.dialect.name == "sqlite":
            # Indexes of constraints have no statement of their own (sql IS NULL): they stay.
            rows = self.conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL ORDER BY name",
                (table,),
            )
        else:
            return []
        return [(name, sql) for name, sql in rows if not sql.lstrip().upper().startswith("CREATE UNIQUE")]
