"""Helpers shared by tests: the real CLI against one database, and row counts."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.matching.model import load_model
from kinlink.registry import records
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry, Event, Person, PersonName
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing import intake
from kinlink.tracing.continuous import Matching
from kinlink.tracing.decisions import decide
from kinlink.tracing.intake import Filer
from kinlink.tracing.verification import record_verification


class Cli:
    """Runs the real `kinlink` command in process against one database."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = self.runner.invoke(app, ["--db", self.db_url, "--as", "test:registrar", *args])
        if ok and result.exit_code != 0:
            raise AssertionError(f"kinlink {' '.join(args)} failed ({result.exit_code}):\n{result.output}")
        return result

    def json(self, *args: str) -> dict:
        return json.loads(self(*args, "--json").stdout)


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Person, PersonName, Event, AuditEntry)
        }


MODEL = load_model()
MATCHING = Matching(MODEL)
NO_MATCHING = Matching(MODEL, on_write=False)


def add_record(session: Session, actor: str, values: dict, *, match: bool = False) -> Person:
    """A record written as the registrar's form writes it (matched only when asked)."""
    return records.create_record(session, actor, values, matching=MATCHING if match else NO_MATCHING).person


def file_request(
    session: Session, actor: str, values: dict, *, match: bool = True
) -> tuple[TracingRequest, str]:
    """A family's request filed by staff, as `kinlink request add` files it: the request and its secret."""
    filed = intake.file_request(session, Filer(actor), values, matching=MATCHING if match else NO_MATCHING)
    return filed.request, filed.secret


def dead_reported_by_the_public(engine: Engine) -> tuple[str, str, int]:
    """A death the registrar decided to tell, known only from a member of the public (died at Оленівка on
    2024-02-01); the family's request matched to it and its enquirer verified: (reference, secret,
    person id)."""
    with unit_of_work(engine) as s:
        person = add_record(
            s,
            "test",
            {
                "full_name": "Мельник Андрій Іванович",
                "birth_date": "1991-04-02",
                "events": [
                    {"kind": "captured", "date": "2024-01-10", "confirmation": "detaining_power"},
                    {"kind": "died", "date": "2024-02-01", "place": "Оленівка", "confirmation": "public"},
                ],
            },
        )
        records.set_death_disclosure(s, "test", person.id, True, True)
        req, secret = file_request(
            s,
            "test",
            {
                "full_name": "Мельник Андрей Иванович",
                "birth_date": "1991",
                "enquirer_name": "Мельник Ольга",
                "agree": True,
            },
        )
        cand = s.scalar(select(MatchCandidate).where(MatchCandidate.request_id == req.id))
        assert cand is not None and cand.person_id == person.id
        decide(s, "test", cand.id, "confirmed", "same birth date", cand.version, model=MODEL)
        record_verification(s, "test", req.id, "call_back", "дружина")
        return req.reference, secret, person.id


def statements_run(
    engine: Engine, work: Callable[[], object], keep: Callable[[str], bool]
) -> list[tuple[str, object]]:
    """The statements (and their parameters) `work` sends through `engine` that `keep` keeps, for EXPLAIN: on
    PostgreSQL as psycopg's cursors run them (SQLAlchemy's and `kinlink.store.driver.DriverRead`'s alike), on
    SQLite as SQLAlchemy sends them and `DriverRead`'s as SQLite's trace gives them (`_sqlite_statements`)."""
    if engine.dialect.name == "postgresql":
        return _psycopg_statements(engine, work, keep)
    if engine.dialect.name == "sqlite":
        return _sqlite_statements(engine, work, keep)
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if keep(statement):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


def _sqlite_statements(
    engine: Engine, work: Callable[[], object], keep: Callable[[str], bool]
) -> list[tuple[str, object]]:
    """SQLAlchemy's statements with their parameters (its events); on each connection taken from the pool
    while `work` runs, the others (`store.driver.DriverRead`'s, run by sqlite3 itself) as SQLite's trace
    gives them: their values written into the text, parameters None. On a connection taken before (a
    session's), SQLAlchemy's alone, as on PostgreSQL (`_psycopg_statements`)."""
    seen: list[tuple[str, object]] = []
    in_sqlalchemy: set[int] = set()  # connections (id) on which SQLAlchemy is running a statement

    def taken(dbapi_conn, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        key = id(dbapi_conn)

        def trace(statement: str) -> None:  # (also for SQLAlchemy's, and the driver's own BEGIN: not kept)
            if key not in in_sqlalchemy and keep(statement):
                seen.append((statement, None))

        dbapi_conn.set_trace_callback(trace)

    def given_back(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.set_trace_callback(None)

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        in_sqlalchemy.add(id(cursor.connection))
        if keep(statement):
            seen.append((statement, parameters))

    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        in_sqlalchemy.discard(id(cursor.connection))

    def failed(context) -> None:  # type: ignore[no-untyped-def]
        if context.cursor is not None:
            in_sqlalchemy.discard(id(context.cursor.connection))

    listeners = [
        ("checkout", taken),
        ("checkin", given_back),
        ("before_cursor_execute", before),
        ("after_cursor_execute", after),
        ("handle_error", failed),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        work()
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
    return seen


def _psycopg_statements(
    engine: Engine, work: Callable[[], object], keep: Callable[[str], bool]
) -> list[tuple[str, object]]:
    """The statements run on the engine's connections while `work` runs: told by a cursor class of psycopg's
    own (its `cursor_factory`) on each connection taken from the pool meanwhile (taken back when it returns),
    which sees `DriverRead`'s reads too; on a connection taken before (a session's), SQLAlchemy's alone."""
    import psycopg

    seen: list[tuple[str, object]] = []

    class Recording(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query, params=None, **kw):  # type: ignore[no-untyped-def,override]
            if keep(str(query)):
                seen.append((str(query), params))
            return super().execute(query, params, **kw)

        def executemany(self, query, params_seq, **kw):  # type: ignore[no-untyped-def,override]
            params_seq = list(params_seq)
            if keep(str(query)):
                seen.append((str(query), params_seq))
            return super().executemany(query, params_seq, **kw)

    def taken(dbapi_conn, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.cursor_factory = Recording

    def given_back(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.cursor_factory = psycopg.Cursor

    def by_sqlalchemy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not isinstance(cursor, Recording) and keep(statement):
            seen.append((statement, parameters))

    event.listen(engine, "checkout", taken)
    event.listen(engine, "checkin", given_back)
    event.listen(engine, "before_cursor_execute", by_sqlalchemy)
    try:
        work()
    finally:
        event.remove(engine, "checkout", taken)
        event.remove(engine, "checkin", given_back)
        event.remove(engine, "before_cursor_execute", by_sqlalchemy)
    return seen


def sent_statements(
    engine: Engine,
    work: Callable[[], object],
    keep: Callable[[str], bool],
    warm: Callable[[], object] | None = None,
) -> list[tuple[str, object]]:
    """The statements `work` sends to the database: on SQLite as the driver runs them (its trace), since the
    status check's reads are run by the driver itself there (`kinlink.store.driver.DriverRead`), not through
    SQLAlchemy; elsewhere as SQLAlchemy sends them. On SQLite the pool's connections are made again first,
    traced, by `warm` (else `work` itself) run once before."""
    if engine.dialect.name != "sqlite":
        return statements_run(engine, work, keep)
    seen: list[tuple[str, object]] = []

    def trace(statement: str) -> None:
        if keep(statement) and statement.lstrip().upper().startswith(
            ("SELECT", "INSERT", "UPDATE", "DELETE")
        ):
            seen.append((statement, None))

    def traced(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.set_trace_callback(trace)

    event.listen(engine, "connect", traced)
    engine.dispose()  # the pool's connections made again, traced
    try:
        (warm or work)()  # the new connections made (and their pragmas run) before what is counted
        seen.clear()
        work()
    finally:
        event.remove(engine, "connect", traced)
        engine.dispose()
    return seen
