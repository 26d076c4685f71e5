"""Statements built once and run by the driver itself (sqlite3, psycopg), not through SQLAlchemy's execution.

A statement a request runs every time (who is asking, a family's page, a search's stamp and listed rows, the
audit entry every search writes) is compiled once for the engine's dialect; its parameters and its rows are
converted by the columns' own processors, as SQLAlchemy converts them (the same values, hence the same
stored rows); the driver's errors are raised as SQLAlchemy raises them (`DBAPIError.instance`: SQLite's
"database is locked" is the web's busy answer). What is saved is SQLAlchemy's execution context and result
set-up a statement (issue 19): on SQLite ~3 us a read against ~23, ~5-11 us a write against ~35-60; on
PostgreSQL (the same text, so the same statement psycopg prepares on the connection) ~20 us of client CPU
against ~50. The statements run on the caller's connection, in its transaction. SQLAlchemy's events do not
see them.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Delete, Insert, Select, Update
from sqlalchemy.exc import DBAPIError


class _Plan(NamedTuple):
    sql: str
    binds: list[tuple[str, Callable[[Any], Any] | None]]  # each parameter's name and processor, in order
    fixed: dict[str, Any]  # values the statement binds itself (a literal())
    processors: list[Callable[[Any], Any] | None]  # each returned column's
    row: Any  # the named tuple's class of the returned columns (None if none)
    dialect: Any  # the dialect it was compiled for (its processors are that dialect's)
    positional: bool  # parameters by position (SQLite's qmark), else by name (psycopg's pyformat)


class _DriverStatement:
    def __init__(self, statement: Any, returns: Sequence[ColumnElement[Any]]) -> None:
        self.statement = statement
        self.returns = list(returns)  # the columns it returns, in order
        self._plan: _Plan | None = None

    def _plan_for(self, conn: Connection) -> _Plan:
        plan = self._plan
        if plan is None or plan.dialect is not conn.dialect:  # (compiled for the engine's own dialect)
            plan = self._plan = self._compile(conn)
        return plan

    def _compile(self, conn: Connection) -> _Plan:
        dialect = conn.dialect
        compiled = self.statement.compile(dialect=dialect)
        assert not compiled.literal_execute_params and not compiled.post_compile_params  # none expanded
        # SQLite's qmark parameters are positional; psycopg's pyformat ones are named (each once)
        names = compiled.positiontup if compiled.positional else list(compiled.bind_names.values())
        binds = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names or ()
        ]
        fixed = {name: b.effective_value for name, b in compiled.binds.items() if not b.required}
        processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in self.returns]
        keys = [c.key for c in self.returns]
        row = namedtuple("Row", keys, rename=True) if keys else None  # type: ignore[misc]
        return _Plan(str(compiled), binds, fixed, processors, row, dialect, bool(compiled.positional))

    @staticmethod
    def _args(plan: _Plan, params: Mapping[str, Any]) -> Any:
        values = {**plan.fixed, **params} if plan.fixed else params
        if plan.positional:
            return [values[name] if proc is None else proc(values[name]) for name, proc in plan.binds]
        return {name: values[name] if proc is None else proc(values[name]) for name, proc in plan.binds}

    @staticmethod
    def _run(conn: Connection, plan: _Plan, args: Any, many: bool = False) -> list[Any]:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if many:
                cursor.executemany(plan.sql, args)
                return []
            cursor.execute(plan.sql, args)
            return cursor.fetchall() if plan.row is not None else []
        except conn.dialect.loaded_dbapi.Error as e:
            raise DBAPIError.instance(
                plan.sql, args, e, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from e
        finally:
            cursor.close()

    @staticmethod
    def _rows(plan: _Plan, fetched: list[Any]) -> list[Any]:
        make, processors = plan.row._make, plan.processors
        if not any(processors):
            return [make(r) for r in fetched]
        return [make([v if p is None else p(v) for p, v in zip(processors, r, strict=True)]) for r in fetched]


class DriverRead(_DriverStatement):
    """A SELECT built once, read by the driver on SQLite and PostgreSQL (through SQLAlchemy elsewhere).
    Rows are named tuples of the statement's column keys."""

    def __init__(self, statement: Select[Any]) -> None:
        super().__init__(statement, list(statement.selected_columns))

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        if conn.dialect.name not in ("sqlite", "postgresql"):
            return list(conn.execute(self.statement, params))
        plan = self._plan_for(conn)
        return self._rows(plan, self._run(conn, plan, self._args(plan, params)))

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row, or None."""
        rows = self.all(conn, params)
        return rows[0] if rows else None


class DriverWrite(_DriverStatement):
    """An INSERT, UPDATE or DELETE built once, run by SQLite's driver (`run` one set of parameters, with the
    rows of its RETURNING `returns` as named tuples; `run_many` an executemany). Only for SQLite."""

    def __init__(
        self, statement: Insert | Update | Delete, returns: Sequence[ColumnElement[Any]] = ()
    ) -> None:
        super().__init__(statement, returns)

    def run(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        plan = self._sqlite_plan(conn)
        fetched = self._run(conn, plan, self._args(plan, params))
        return self._rows(plan, fetched) if plan.row is not None else []

    def run_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        plan = self._sqlite_plan(conn)
        self._run(conn, plan, [self._args(plan, p) for p in params], many=True)

    def _sqlite_plan(self, conn: Connection) -> _Plan:
        assert conn.dialect.name == "sqlite"
        return self._plan_for(conn)


def read_rows(conn: Connection, statement: Select[Any], params: Mapping[str, Any]) -> list[Any]:
    """The rows of a SELECT built once (kept by its builder, so the same object each time), by the driver
    (`DriverRead`), whose SQLAlchemy set-up a statement was most of a search's reads' client CPU on
    PostgreSQL and on SQLite (issue 19)."""
    return _driver_read(statement).all(conn, params)


@lru_cache(maxsize=1024)
def _driver_read(statement: Select[Any]) -> DriverRead:
    return DriverRead(statement)
