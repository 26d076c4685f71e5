"""Engine and session handling: which database, how to open it, how to migrate it."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from kinlink.private_files import make_private

DEFAULT_SQLITE_FILE = "kinlink.db"
ENV_VAR = "KINLINK_DATABASE_URL"


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
    cur.close()


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
        engine = create_engine(url, pool_pre_ping=True)
    else:
        engine = create_engine(url, poolclass=NullPool)
    return engine


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
    table pages instead of about ten. VACUUM cannot run in a transaction, hence autocommit.
    """
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in tables:
                    conn.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')  # our own table names, never input
            return
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            for table in tables:
                conn.exec_driver_sql(f'ANALYZE "{table}"')  # our own table names, never input
    except OperationalError as e:
        # The load is committed: statistics are an optimisation, and a busy database (SQLite's write lock
        # held by the next import past its timeout) must not turn a done import into a failure.
        logging.getLogger(__name__).warning("statistics not refreshed (%s)", type(e.orig).__name__)


def grown_enough(written: int, before: int) -> bool:
    """Whether `written` rows change a table of `before` rows enough to analyse it again: autovacuum's own
    rule (50 rows plus 10 % of the table), for servers where it is off."""
    return written > 0 and written >= 50 + 0.1 * before
