"""SQLite: an audit entry's statements (take chain 1's head, insert the entries, set the head) run by the
driver itself (kinlink.store.audit).

Every search and every other audited read appends an entry, in three statements; through SQLAlchemy's
execution each cost ~35-60 us of CPU, against ~5-11 us by sqlite3 directly (issue 19, docs/web-cpu.md). As
`kinlink.store.db.DriverRead` does for reads: each statement is built once and compiled once for the
engine's dialect, its parameters converted by the columns' own bind processors (the values SQLAlchemy would
send, hence the same stored rows), its rows by their result processors, and the driver's errors raised as
SQLAlchemy raises them (`DBAPIError.instance`: SQLite's "database is locked" is the web's busy answer).
The statements run on the unit's own connection, in its transaction: sqlite3 begins it before the first
write as it does for SQLAlchemy's statements, and the unit's commit or rollback ends it. SQLAlchemy's
events do not see them.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Delete, Insert, Update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


class _Plan(NamedTuple):
    sql: str
    binds: list[tuple[str, Callable[[Any], Any] | None]]  # each positional parameter's name and processor
    fixed: dict[str, Any]  # values the statement binds itself (its literals)
    processors: list[Callable[[Any], Any] | None]  # each returned column's
    row: Any  # the named tuple of the returned columns (None without RETURNING)
    dialect: Any


class DriverWrite:
    """A write statement built once, run on SQLite by sqlite3 (`run` one set of parameters, `run_many` an
    executemany). Only for SQLite connections."""

    def __init__(
        self, statement: Insert | Update | Delete, returns: Sequence[ColumnElement[Any]] = ()
    ) -> None:
        self.statement = statement
        self.returns = list(returns)  # the columns of its RETURNING, in order
        self._plan: _Plan | None = None

    def _compile(self, conn: Connection) -> _Plan:
        dialect = conn.dialect
        compiled = self.statement.compile(dialect=dialect)
        assert (
            compiled.positional and not compiled.literal_execute_params and not compiled.post_compile_params
        )
        binds = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup or ()
        ]
        fixed = {name: b.effective_value for name, b in compiled.binds.items() if not b.required}
        returned = self.returns
        processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in returned]
        row = namedtuple("Row", [c.key for c in returned]) if returned else None  # type: ignore[misc]
        self._plan = _Plan(str(compiled), binds, fixed, processors, row, dialect)
        return self._plan

    def _args(self, plan: _Plan, params: Mapping[str, Any]) -> list[Any]:
        values = {**plan.fixed, **params} if plan.fixed else params
        return [values[name] if proc is None else proc(values[name]) for name, proc in plan.binds]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Run once; the rows it returns (RETURNING), as named tuples."""
        plan = self._plan_for(conn)
        args = self._args(plan, params)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            fetched = cursor.execute(plan.sql, args).fetchall()
        except conn.dialect.loaded_dbapi.Error as e:
            raise DBAPIError.instance(
                plan.sql, args, e, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from e
        finally:
            cursor.close()
        if plan.row is None:
            return []
        make = plan.row._make
        return [
            make([v if p is None else p(v) for p, v in zip(plan.processors, r, strict=True)]) for r in fetched
        ]

    def run_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Run once a set of parameters (executemany; no RETURNING)."""
        plan = self._plan_for(conn)
        args = [self._args(plan, p) for p in params]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(plan.sql, args)
        except conn.dialect.loaded_dbapi.Error as e:
            raise DBAPIError.instance(
                plan.sql, args, e, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from e
        finally:
            cursor.close()

    def _plan_for(self, conn: Connection) -> _Plan:
        assert conn.dialect.name == "sqlite"
        plan = self._plan
        if plan is None or plan.dialect is not conn.dialect:  # (compiled for the engine's own dialect)
            plan = self._compile(conn)
        return plan
