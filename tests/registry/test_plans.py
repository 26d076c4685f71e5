"""After a bulk import, the queries families and staff wait on read their indexes (issue 19).

On PostgreSQL, a table loaded in bulk has no statistics until it is analysed, and a server may run with
autovacuum off: the planner then guesses, and reads a table of a million names whole to find ten. kinlink
analyses what it bulk-loads; this test asks PostgreSQL's own planner (EXPLAIN) how it would run every
statement of a family's status check and of a staff search by name, on a database fresh from an import.
It checks plans, never timing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.registry.data import generate
from sqlalchemy import Connection, Engine, text

from kinlink.registry.imports import import_registry
from kinlink.registry.search import search_records
from kinlink.store import schema
from kinlink.store.db import make_engine, unit_of_work
from kinlink.tracing.batch import match_all
from kinlink.tracing.family_access import family_view
from tests.conftest import BACKENDS, PG_ADMIN_URL, _pg_admin
from tests.support import MODEL, file_request, statements_run

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL's planner is the subject")

# The tables that grow with the registry: a sequential scan of one of these is what users wait on.
LARGE = ("persons", "person_names", "events", "match_keys", "audit_log")
ROWS = 3000
# The number of records (term frequencies' population): counted whole, but once a minute per process
# (`kinlink.tracing.matcher.search_scorer`), not per search.
WHOLE_COUNT = re.compile(r"^SELECT count\(persons\.id\) AS \w+\s+FROM persons\s*$")


@pytest.fixture
def fresh_pg() -> Iterator[Engine]:
    """A database of its own, never analysed (the suite's shared one keeps statistics between tests)."""
    name = f"kinlink_plans_{os.getpid()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    schema.upgrade(engine)
    yield engine
    engine.dispose()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _statements(engine: Engine, work) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    return statements_run(
        engine,
        work,
        lambda statement: (
            statement.lstrip().upper().startswith(("SELECT", "WITH")) and not WHOLE_COUNT.match(statement)
        ),
    )


def _plan(conn: Connection, statement: str, parameters: object, analyze: bool = False) -> str:
    how = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " if analyze else "EXPLAIN "
    return "\n".join(r[0] for r in conn.exec_driver_sql(how + statement, parameters))  # type: ignore[arg-type]


def _scans_of_large_tables(engine: Engine, statements: list[tuple[str, object]]) -> list[str]:
    found = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = _plan(conn, statement, parameters)
            for table in re.findall(r"Seq Scan on (\w+)", plan):
                if table in LARGE:
                    found.append(f"{table}: {statement[:300]}\n{plan}")
    return found


def test_status_check_and_name_search_use_their_indexes_after_a_bulk_import(
    fresh_pg: Engine, tmp_path: Path
) -> None:
    engine = fresh_pg
    path = tmp_path / "registry.csv"
    generate(path, ROWS)
    report = import_registry(engine, path, "bulk", "test")
    assert report.created == ROWS
    match_all(engine, "test", dedup=False)  # the key table searches read, written in bulk too
    with engine.connect() as conn:
        name = conn.execute(
            text("SELECT full_name FROM persons ORDER BY id OFFSET 1234 LIMIT 1")
        ).scalar_one()
    with unit_of_work(engine) as s:
        req, _secret = file_request(s, "test", {"full_name": name, "enquirer_name": "Олена", "agree": True})
        request_id = req.id

    def status_check() -> None:
        with unit_of_work(engine) as s:
            assert family_view(s, request_id, "web") is not None

    def staff_search() -> None:
        with unit_of_work(engine) as s:
            assert search_records(s, "staff", "test", name.split()[0], model=MODEL, limit=50)

    for work in (status_check, staff_search):
        statements = _statements(engine, work)
        assert statements, work.__name__
        assert _scans_of_large_tables(engine, statements) == [], work.__name__


def test_the_key_table_is_read_from_its_covering_index_alone_after_a_bulk_load(
    fresh_pg: Engine, tmp_path: Path
) -> None:
    """Every search counts and reads postings of the key table through its (key, entity, entity_id) index.
    The index covers those reads, but PostgreSQL answers from it alone only for pages marked all-visible,
    which vacuuming does; with autovacuum off, the bulk load has to. Otherwise each posting costs a read
    of the table (a thousand pages a search on a large registry)."""
    engine = fresh_pg
    path = tmp_path / "registry.csv"
    generate(path, ROWS)
    import_registry(engine, path, "bulk", "test")
    match_all(engine, "test", dedup=False)
    with engine.connect() as conn:
        key = conn.execute(
            text("SELECT key FROM match_keys WHERE entity = 'p' GROUP BY key ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
        # The planner's choice between an index-only and a bitmap read depends on costs; forbidding the
        # bitmap one asks only whether the index alone can answer, then how many rows the table was read for.
        conn.exec_driver_sql("SET enable_bitmapscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                text(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                    "SELECT entity_id FROM match_keys WHERE key = :k AND entity = 'p'"
                ),
                {"k": key},
            )
        )
    assert "Index Only Scan using ix_match_keys_lookup" in plan, plan
    assert re.search(r"Heap Fetches: 0\b", plan), plan


def test_every_page_a_bulk_import_wrote_is_all_visible(fresh_pg: Engine, tmp_path: Path) -> None:
    """The import vacuums what it loaded: every page of each table must come out all-visible, or the
    covering indexes a search reads fetch every row from the table again. The suite's other sessions'
    read entries, committed asynchronously, once kept a vacuum from marking any (kinlink.store.db)."""
    engine = fresh_pg
    path = tmp_path / "registry.csv"
    for rows in (ROWS, ROWS // 3):  # a first import, then a second into the same tables
        generate(path, rows, seed=rows)
        import_registry(engine, path, "bulk", f"test{rows}")
        with engine.connect() as conn:
            pages = conn.execute(
                text(
                    "SELECT relname, relpages, relallvisible FROM pg_class "
                    "WHERE relname IN ('persons', 'person_names', 'events', 'audit_log') ORDER BY relname"
                )
            ).all()
        assert len(pages) == 4
        assert [(t, n) for t, n, visible in pages if n == 0 or visible != n] == [], pages


def test_a_search_looks_up_the_beginning_of_a_name_from_its_index_alone(
    fresh_pg: Engine, tmp_path: Path
) -> None:
    """A staff search also looks its text up as the beginning of a name: the records' ids come from the
    folded name's index (which includes them, migration 0023), not from a read of each name's row, which for
    a short text was a thousand pages a search on a large registry."""
    engine = fresh_pg
    path = tmp_path / "registry.csv"
    generate(path, ROWS)
    import_registry(engine, path, "bulk", "test")
    with engine.connect() as conn:
        name = conn.execute(
            text("SELECT full_name FROM persons ORDER BY id OFFSET 1234 LIMIT 1")
        ).scalar_one()

    def staff_search(typed: str) -> None:
        with unit_of_work(engine) as s:
            search_records(s, "staff", "test", typed, model=MODEL, limit=10)

    for typed in (name, name[:3]):  # a whole name, and the beginning of one
        found = [
            (st, p)
            for st, p in _statements(engine, lambda: staff_search(typed))  # noqa: B023 (called at once)
            if "person_names.folded >=" in st
        ]
        assert len(found) == 1
        with engine.connect() as conn:
            plan = _plan(conn, *found[0], analyze=True)
        assert "Index Only Scan using ix_person_names_folded" in plan, plan
        assert not re.search(r"Heap Fetches: [1-9]", plan), plan
