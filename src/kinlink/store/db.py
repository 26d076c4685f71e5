"""Engine and session handling: which database, how to open it, how to migrate it."""

from __future__ import annotations

import logging
import os
import re
import select
import time
import weakref
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from kinlink.private_files import make_private

DEFAULT_SQLITE_FILE = "kinlink.db"
ENV_VAR = "KINLINK_DATABASE_URL"
_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open on the connection


def database_url(explicit: str | None = None) -> str:
    """The URL from --db, else KINLINK_DATABASE_URL, else a SQLite file in the working folder."""
    url = explicit or os.environ.get(ENV_VAR) or DEFAULT_SQLITE_FILE
    if "://" not in url:  # a bare path means a SQLite file
        url = f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    # WAL lets readers go on while an import writes; foreign keys are off by default in SQLite.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # The file read through a memory map (up to the build's limit, 2 GB for Python's SQLite): a page is read
    # where it lies in the OS's cache, not copied by a system call into each connection's own 2 MB cache,
    # which at a million records holds a few of a search's pages (its reads cost about half; issue 19).
    # Writes still go through the journal; the map is the OS's page cache, shared by every connection.
    cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP}")
    cur.close()


SQLITE_MMAP = 1 << 34  # asked; SQLite caps it at its build's SQLITE_MAX_MMAP_SIZE


def make_engine(url: str | None = None, *, pooled: bool = True) -> Engine:
    """An engine for the URL. pooled=False (one command's run) closes each server connection when it is
    given back, instead of keeping it open until the engine is collected: commands run in-process (tests,
    scripts) would otherwise pile up idle connections against the server's limit."""
    url = database_url(url)
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
    elif pooled:
        engine = create_engine(url)
        _check_on_checkout(engine, PING_AFTER_IDLE)
    else:
        engine = create_engine(url, poolclass=NullPool)
    return engine


# A pooled PostgreSQL connection is pinged (one round trip) before use only when it sat in the pool this
# long: a server's or a firewall's idle timeout drops connections left unused, not one given back a moment
# ago. Pinging every checkout (pool_pre_ping) cost each web request two round trips of its ten to twenty
# (issue 19).
PING_AFTER_IDLE = 10.0


def _check_on_checkout(engine: Engine, ping_after: float) -> None:
    """Before a pooled PostgreSQL connection is used: one the server has closed is replaced, for free; one
    idle for `ping_after` seconds or more is pinged first, as pool_pre_ping pings every one.

    A server that ends a connection (a restart, pg_terminate_backend, idle_session_timeout) sends it an
    error and closes it: the socket of a connection idle in the pool then has something to read, which a
    healthy idle connection never has (kinlink neither LISTENs nor runs anything in the background on
    it). Seeing that costs a poll, no round trip. A connection dropped silently on the way (no message,
    no close) is caught by the ping after idling, or fails its first statement as without a pre-ping.
    """

    @event.listens_for(engine, "checkin")
    def _given_back(dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        since = record.info.get("idle_since")
        if since is None:
            return  # just connected
        try:
            poll = select.poll()
            poll.register(dbapi_conn.pgconn.socket, select.POLLIN)
            if poll.poll(0) or time.monotonic() - since >= ping_after:
                engine.dialect.do_ping(dbapi_conn)  # fails on a connection the server has closed
        except (OSError, engine.dialect.loaded_dbapi.Error) as e:
            # Every pooled connection made before now is dropped: a server restart ends them all.
            raise InvalidatePoolError(f"connection lost ({type(e).__name__})") from e


@contextmanager
def read_only_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for a read of one statement (who is asking, on every request): on PostgreSQL in
    autocommit, as one statement is its own transaction anyway, so without the BEGIN and the ROLLBACK
    round trips around it. A ROLLBACK also makes psycopg forget the statements it prepared on the
    connection, so that with one on every request none was ever prepared. SQLite begins no transaction for
    a read by itself: there the connection is left as it is."""
    conn = engine.connect()
    try:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn
    finally:
        conn.close()


# A statement that only reads: a SELECT without a locking clause. Anything else (a write, a lock, a WITH,
# which may write) is taken for a write; a locking clause's words in a string literal only begin a
# transaction where none was needed.
_READS_ONLY = re.compile(
    r"\s*SELECT\b(?!.*\bFOR\s+(?:UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b)", re.I | re.S
)
_BEGIN_ON_WRITE = "kinlink_begin_on_write"  # the execution option of a `reading_unit`'s connection
_ALONE = "kinlink_alone"  # ... and of a statement that is a whole transaction by itself there
ALONE = {_ALONE: True}  # (the execution options to give such a statement)
_BEGINNING: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines with the listener below


def _begin_before_writing(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
    # A reading unit's connection is in autocommit: BEGIN before its first statement that writes or locks,
    # so that what it writes from there on is one transaction, committed (or rolled back) whole at its end.
    if (
        context is not None
        and context.execution_options.get(_BEGIN_ON_WRITE)
        and not context.execution_options.get(_ALONE)
        and cursor.connection.pgconn.transaction_status == _IDLE
        and not _READS_ONLY.match(statement)
    ):
        cursor.execute("BEGIN")


def outside_transaction(conn: Connection) -> bool:
    """A reading unit's connection on which no statement has begun a transaction yet: a statement given
    `ALONE` runs there as its own transaction, committed (its WAL flushed) before it returns."""
    if not conn.get_execution_options().get(_BEGIN_ON_WRITE):
        return False
    return conn.connection.dbapi_connection.pgconn.transaction_status == _IDLE  # type: ignore[union-attr]


@contextmanager
def reading_unit(engine: Engine) -> Iterator[Session]:
    """A unit of work that mostly only reads (a family's status page, which records a disclosure only when
    it tells something new): as `unit_of_work`, but on PostgreSQL no transaction is begun until a statement
    writes or locks, so that a visit that only reads costs no BEGIN and no COMMIT round trip (issue 19),
    as the SQLite driver begins its transaction at the first write. Reads before the first write each see
    what was committed when they ran, as in a READ COMMITTED transaction (PostgreSQL's default, which
    kinlink's engines keep); from the first write to the end it is one transaction, committed or rolled
    back whole."""
    session = session_factory(engine)()
    try:
        if engine.dialect.name == "postgresql":
            if engine not in _BEGINNING:
                event.listen(engine, "before_cursor_execute", _begin_before_writing)
                _BEGINNING.add(engine)
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT", _BEGIN_ON_WRITE: True})
        yield session
        if _wrote(session):
            session.commit()  # COMMIT (or ROLLBACK below) only if a statement began a transaction
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _wrote(session: Session) -> bool:
    """Whether a reading unit has anything to commit: ORM changes not flushed yet, or a transaction begun on
    its connection (a statement that wrote or locked). When not, the unit ends without SQLAlchemy's commit
    (on either store a commit of nothing: SQLite's driver begins a transaction at the first write only), and
    its connection is given back as after a commit: a status check that only read (issue 19)."""
    if session.new or session.dirty or session.deleted or session.info or not session.in_transaction():
        # (session.info: a note for a commit hook, such as store.match_keys' marker of changed keys; a unit
        # that never used a connection commits as before: nothing to skip)
        return True
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        return bool(dbapi.in_transaction)  # type: ignore[union-attr]
    if conn.get_execution_options().get(_BEGIN_ON_WRITE):
        return dbapi.pgconn.transaction_status != _IDLE  # type: ignore[union-attr]
    return True


def _private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file 0600 before SQLite does (with the umask's mode)."""
    parsed = make_url(url)
    path = parsed.database
    if not path or path == ":memory:" or path.startswith("file:") or parsed.query.get("mode") == "memory":
        return
    if not Path(path).exists() and Path(path).parent.is_dir():
        make_private(Path(path))


_FACTORIES: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = weakref.WeakKeyDictionary()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # One per engine: each sessionmaker makes a Session subclass, whose event set-up costs more than a
    # simple query, and the web application opens a session or two per request.
    factory = _FACTORIES.get(engine)
    if factory is None:
        factory = _FACTORIES[engine] = sessionmaker(engine, expire_on_commit=False)
    return factory


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed whole on success, rolled back whole on any error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def analyze(engine: Engine, tables: Iterable[str]) -> None:
    """Refresh the query planner's statistics of tables just bulk-loaded.

    A server may run with autovacuum off, and SQLite never gathers statistics by itself: a freshly loaded
    table then has none, and PostgreSQL plans a lookup by a list of ids as a scan of the whole table
    (issue 19: searches read `events` and `person_names` whole although their indexes exist). SQLite
    samples (analysis_limit) so that this stays cheap on large tables.

    PostgreSQL also vacuums them (what autovacuum does after inserts): that marks their pages all-visible,
    without which an index that covers a query (the key table's (key, entity, entity_id), which every
    search reads) still fetches each row from the table to check it; a search then read a thousand
    table pages instead of about ten. VACUUM cannot run in a transaction, hence autocommit. Several tables
    are done on two connections at once: each is a server process of its own, so that two cores share the
    work (a first import's four tables: 0.5 s on one, issue 19).
    """
    if engine.dialect.name == "postgresql":
        tables = list(tables)
        todo = iter(tables)  # shared: each connection takes the next table once done with one
        n = min(ANALYZE_CONNECTIONS, len(tables))
        if n < 2:
            _vacuum_analyze(engine, todo)
            return
        with ThreadPoolExecutor(n, thread_name_prefix="kinlink-analyze") as pool:
            for done in [pool.submit(_vacuum_analyze, engine, todo) for _ in range(n)]:
                done.result()
        return
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            for table in tables:
                conn.exec_driver_sql(f'ANALYZE "{table}"')  # our own table names, never input
    except OperationalError as e:
        # The load is committed: statistics are an optimisation, and a busy database (SQLite's write lock
        # held by the next import past its timeout) must not turn a done import into a failure.
        logging.getLogger(__name__).warning("statistics not refreshed (%s)", type(e.orig).__name__)


ANALYZE_CONNECTIONS = 2  # PostgreSQL: tables analysed at once (kinlink.store.db.analyze)


# A vacuum marks a page all-visible only once its rows' commits are hinted, and PostgreSQL hints a commit only
# when the WAL of every asynchronous commit among its 32 neighbouring transaction ids is on disk. Another
# session's read entry (committed asynchronously, kinlink.store.audit) beside the load's id so kept a vacuum
# run at once from marking any page of the tables loaded (test_plans: 1 run in 4 under the suite's load). The
# WAL writer flushes those within three wal_writer_delay (0.6 s by default): vacuum again after a pause, at
# least this long after the vacuum before.
VACUUM_AGAIN_AFTER = (0.3, 1.0)


class _Unmarked(NamedTuple):
    """A table whose last vacuum left pages not all-visible: vacuumed again once `due` (time.monotonic)."""

    due: float
    tries: int  # vacuums again so far
    table: str


def _all_visible(conn: Connection, table: str) -> bool:
    """Whether the last vacuum of `table` left every page all-visible (its counts in pg_class)."""
    pages, visible = conn.execute(
        text("SELECT relpages, relallvisible FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
    ).one()
    return bool(visible >= pages)


def _vacuum_analyze(engine: Engine, tables: Iterator[str]) -> None:
    """PostgreSQL: VACUUM (ANALYZE) the tables taken from this iterator (shared with other threads: next()
    on a list's iterator is atomic), on a connection of its own, in autocommit.

    A table left with pages not all-visible waits for its pause while the connection takes the next table:
    the pause costs an import's clock only once no other table is left (issue 19: 2 of 14 first imports of
    the bench's 100,000 rows slept 0.3 and 0.6 s under the night's load, before another table's vacuum)."""
    unmarked: list[_Unmarked] = []
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')  # our own table names, never input
                if not _all_visible(conn, table):
                    unmarked.append(_Unmarked(time.monotonic() + VACUUM_AGAIN_AFTER[0], 0, table))
                unmarked = _vacuum_again(conn, unmarked, wait=False)
            while unmarked:
                unmarked = _vacuum_again(conn, unmarked, wait=True)
    except OperationalError as e:  # as below: the load is committed already
        logging.getLogger(__name__).warning("statistics not refreshed (%s)", type(e.orig).__name__)


def _vacuum_again(conn: Connection, unmarked: list[_Unmarked], *, wait: bool) -> list[_Unmarked]:
    """Vacuum again the tables whose pause is over (with `wait`, the first one's after waiting for it);
    those still to do, with the next pause of each still unmarked (none once VACUUM_AGAIN_AFTER is spent)."""
    left = []
    for i, (due, tries, table) in enumerate(unmarked):
        if time.monotonic() < due:
            if not (wait and i == 0):
                left.append(_Unmarked(due, tries, table))
                continue
            time.sleep(max(0.0, due - time.monotonic()))
        conn.exec_driver_sql(f'VACUUM "{table}"')
        tries += 1
        if tries < len(VACUUM_AGAIN_AFTER) and not _all_visible(conn, table):
            left.append(_Unmarked(time.monotonic() + VACUUM_AGAIN_AFTER[tries], tries, table))
    return sorted(left)


def grown_enough(written: int, before: int) -> bool:
    """Whether `written` rows change a table of `before` rows enough to analyse it again: autovacuum's own
    rule (50 rows plus 10 % of the table), for servers where it is off."""
    return written > 0 and written >= 50 + 0.1 * before
