"""The reads every request makes, run by the driver itself (`store.driver.DriverRead`, `read_rows`), give
the same rows as SQLAlchemy's execution of the same statement; a reading unit that wrote nothing ends without
a commit, one that wrote commits what it wrote (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, bindparam, column, event, literal, select, table, text
from sqlalchemy.exc import DBAPIError

from kinlink.store.db import reading_unit, unit_of_work
from kinlink.store.driver import DriverRead, read_rows
from kinlink.store.match_keys import _KEY_COUNTS
from kinlink.store.match_records import _VERSIONS_AND_NAMES, for_dialect
from kinlink.store.models import Source
from kinlink.store.shortlist import _sizes_stmt
from kinlink.store.tracing_models import MatchKey, TracingRequest
from kinlink.tracing import matcher
from kinlink.tracing.family_access import _RECENT_ANSWERS, _VIEW
from tests.support import add_record, statements_run
from tests.tracing.test_usual_wait_sql import _answer_row, _insert, _request_row


def _same(engine: Engine, statement, params) -> list[tuple]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        through_sqlalchemy = [tuple(r) for r in conn.execute(statement, params)]
        by_driver = DriverRead(statement).all(conn, params)
        assert [tuple(r) for r in by_driver] == through_sqlalchemy
        assert [type(v) for r in by_driver for v in r] == [type(v) for r in through_sqlalchemy for v in r]
        return through_sqlalchemy


def test_driver_reads_give_sqlalchemys_rows(engine: Engine) -> None:
    """Datetimes (microseconds, zones given), NULLs, a literal's own value, several rows and none, named
    columns, on both stores."""
    filed = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    requests = [_request_row(n, filed + timedelta(days=n)) for n in (2, 3, 4)]
    answers = [_answer_row(n, 0, "confirmed", filed + timedelta(days=2 * n, microseconds=n)) for n in (2, 3)]
    answers.append(_answer_row(4, 0, "pending", filed))
    with engine.begin() as conn:
        _insert(conn, requests, answers)
    rows = _same(engine, _VIEW, {"request_id": 3})
    assert isinstance(rows[0][5], datetime)
    assert _same(engine, _VIEW, {"request_id": 10**9}) == []
    assert len(_same(engine, _RECENT_ANSWERS, {"since": filed})) == 2
    assert _same(engine, _RECENT_ANSWERS, {"since": filed + timedelta(days=7)}) == []
    flagged = select(TracingRequest.id, literal(7).label("seven"), TracingRequest.enquirer_contact)
    assert _same(engine, flagged.where(TracingRequest.id >= bindparam("lo")), {"lo": 3}) == [
        (3, 7, None),
        (4, 7, None),
    ]
    named = DriverRead(select(TracingRequest.id, TracingRequest.reference).where(TracingRequest.id >= 2))
    with engine.connect() as conn:
        first = named.first(conn, {})
    assert (first.id, first.reference) == (2, "W2")


def test_a_reading_unit_commits_only_what_was_written(engine: Engine) -> None:
    with unit_of_work(engine) as s:
        s.add(Source(name="before", kind="registry"))
    with reading_unit(engine) as s:  # reads only: nothing to commit, and nothing is left open
        assert s.execute(select(Source.name)).scalars().all() == ["before"]
        conn = s.connection()
    assert not conn.in_transaction()
    with reading_unit(engine) as s:  # an ORM object added: flushed and committed at the end
        s.add(Source(name="added", kind="registry"))
    with reading_unit(engine) as s:  # a statement that writes
        s.execute(text("UPDATE sources SET kind = 'archive' WHERE name = 'before'"))
    with pytest.raises(RuntimeError), reading_unit(engine) as s:  # rolled back on an error, as before
        s.add(Source(name="undone", kind="registry"))
        s.flush()
        raise RuntimeError("undo")
    with unit_of_work(engine) as s:
        assert sorted(s.execute(select(Source.name, Source.kind)).all()) == [
            ("added", "registry"),
            ("before", "archive"),
        ]


def test_driver_reads_are_run_by_the_driver_on_both_stores(engine: Engine) -> None:
    """Not through SQLAlchemy's execution (whose events see every statement it runs): on PostgreSQL too, by
    psycopg on the connection, with the text SQLAlchemy would send (so the same prepared statement)."""
    statement = select(Source.name).where(Source.id >= bindparam("lo"))
    with unit_of_work(engine) as s:
        s.add(Source(name="seen", kind="registry"))
    through_sqlalchemy: list[str] = []

    def seen(conn, cursor, text_, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        through_sqlalchemy.append(text_)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with engine.connect() as conn:
            assert [tuple(r) for r in DriverRead(statement).all(conn, {"lo": 0})] == [("seen",)]
            assert conn.execute(statement, {"lo": 0}).all() == [("seen",)]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(through_sqlalchemy) == 1  # the second read's alone
    if engine.dialect.name == "postgresql":
        sent = statements_run(engine, lambda: _run(engine, statement), lambda text_: "sources" in text_)
        assert [text_ for text_, _ in sent] == through_sqlalchemy


def _run(engine: Engine, statement) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        DriverRead(statement).all(conn, {"lo": 0})


def test_a_searchs_fixed_reads_are_run_by_the_driver_with_sqlalchemys_rows(engine: Engine) -> None:
    """`read_rows` (a search's versions, versions and names, key counts and sizes) on both stores: the rows
    and value types SQLAlchemy's execution gives, none of them run through SQLAlchemy, and seen by
    `statements_run` (the tests that count a search's statements)."""
    with unit_of_work(engine) as s:
        ids = [add_record(s, "test", {"full_name": n}, match=True).id for n in NAMES]
    with engine.connect() as conn:
        keys = sorted(conn.execute(select(MatchKey.key).where(MatchKey.entity == "p").distinct()).scalars())
        reads = [
            (for_dialect(conn, matcher._VERSIONS), {"ids": [*ids, 10**9]}),
            (for_dialect(conn, _VERSIONS_AND_NAMES), {"ids": ids, "known": ids[:1]}),
            (for_dialect(conn, _KEY_COUNTS), {"keys": [*keys, "absent"]}),
            (_sizes_stmt(2, True), {"entity": "p", "cap": 2, "k0": keys[0], "k1": "absent"}),
        ]
        seen: list[str] = []

        def by_sqlalchemy(conn, cursor, text_, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            seen.append(text_)

        for statement, params in reads:
            through_sqlalchemy = [tuple(r) for r in conn.execute(statement, params)]
            assert through_sqlalchemy, statement
            event.listen(engine, "before_cursor_execute", by_sqlalchemy)
            try:
                by_driver = [tuple(r) for r in read_rows(conn, statement, params)]
            finally:
                event.remove(engine, "before_cursor_execute", by_sqlalchemy)
            assert seen == []
            assert by_driver == through_sqlalchemy
            assert [type(v) for r in by_driver for v in r] == [type(v) for r in through_sqlalchemy for v in r]

    def counted() -> None:
        with engine.connect() as conn:
            read_rows(conn, for_dialect(conn, matcher._VERSIONS), {"ids": ids})

    assert len(statements_run(engine, counted, lambda text_: "persons.version" in text_)) == 1


NAMES = ["Иванов Иван Иванович", "Иванов Пётр Сергеевич", "Петров Иван Петрович"]


def test_a_driver_reads_error_is_the_one_sqlalchemy_raises(engine: Engine) -> None:
    """The driver's error wrapped as SQLAlchemy wraps it (its OperationalError, ProgrammingError...), so that
    what catches SQLAlchemy's (the web's busy answer to SQLite's "database is locked") catches it too."""
    statement = select(column("name")).select_from(table("absent")).where(column("id") >= bindparam("lo"))
    with engine.connect() as conn:
        with pytest.raises(DBAPIError) as through_sqlalchemy:
            conn.execute(statement, {"lo": 0})
        conn.rollback()  # (PostgreSQL's transaction is aborted by the error)
        with pytest.raises(DBAPIError) as by_driver:
            DriverRead(statement).all(conn, {"lo": 0})
        conn.rollback()
    assert type(by_driver.value) is type(through_sqlalchemy.value)
    assert type(by_driver.value.orig) is type(through_sqlalchemy.value.orig)
