"""A search's reads of its shortlisted records come from the covering indexes of migration 0019 (issue 19).

A search reads each shortlisted record's pre-rank columns (sex, birth, version, creation time) where its
query has a sex or a birth date, else the version and creation time of the chosen few, and for the best few
their other names and capture events. PostgreSQL is asked (EXPLAIN, after a bulk import that
analyses and vacuums what it loads) how it runs each of those statements: from the index alone, never a
wide row of the table. Plans are checked, never timing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.registry.data import generate
from sqlalchemy import Engine, text

from kinlink.matching.record import MatchRecord
from kinlink.registry.imports import import_registry
from kinlink.registry.search import search_records
from kinlink.store import schema
from kinlink.store.db import analyze, make_engine, unit_of_work
from kinlink.tracing import matcher, prepared
from kinlink.tracing.batch import match_all
from tests.conftest import BACKENDS, PG_ADMIN_URL, _pg_admin
from tests.support import MODEL, statements_run

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL's planner is the subject")
ROWS = 3000


@pytest.fixture
def loaded_pg(tmp_path: Path) -> Iterator[Engine]:
    name = f"kinlink_search_plans_{os.getpid()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    schema.upgrade(engine)
    path = tmp_path / "registry.csv"
    generate(path, ROWS)
    import_registry(engine, path, "bulk", "test")
    match_all(engine, "test", dedup=False)
    analyze(engine, ["persons", "person_names", "events"])  # what an import does after a bulk load
    yield engine
    engine.dispose()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _statements(engine: Engine, work) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    return statements_run(engine, work, lambda statement: statement.lstrip().upper().startswith("SELECT"))


def test_a_search_reads_its_shortlist_from_the_covering_indexes(loaded_pg: Engine) -> None:
    engine = loaded_pg
    with engine.connect() as conn:
        name, sex, born = conn.execute(
            text("SELECT full_name, sex, birth_date FROM persons ORDER BY id OFFSET 1234 LIMIT 1")
        ).one()

    def staff_search(limit: int = 10) -> None:  # a name alone: the chosen few's versions and names, by id
        with unit_of_work(engine) as s:
            assert search_records(s, "staff", "test", name, model=MODEL, limit=limit)

    def matching() -> None:  # with a sex and a birth date: every shortlisted row's pre-rank columns
        with unit_of_work(engine) as s:
            assert matcher.search(s, MatchRecord(None, name, sex=sex or "m", birth_date=born or "1990"))

    def with_a_unit() -> None:  # more than names, ranked by the keys alone: the versions and records whole
        with unit_of_work(engine) as s:
            assert matcher.search(s, MatchRecord(None, name, unit="200-я отдельная бригада"))

    _cold()  # the staff search's records new to the process: read by their names with their versions
    first = _statements(engine, lambda: staff_search(9))
    again = _statements(engine, staff_search)  # another list of the same records, all prepared now
    _cold()
    whole = _statements(engine, with_a_unit)
    plans = {}
    with engine.connect() as conn:
        for statement, parameters in first + again + _statements(engine, matching) + whole:
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            plans[statement] = plan
    shortlisted = [p for s, p in plans.items() if "persons.age_as_of" in s and "anon_1.shared" in s]
    versions_alone = r"SELECT persons.id, persons.version, CAST\([^)]*\) AS created_at\s+FROM"
    versions = [p for s, p in plans.items() if re.match(versions_alone, s)]
    named = [p for s, p in plans.items() if "person_names.full_name AS other " in s]
    # (On PostgreSQL columns of the records' read, `match_records._records_whole`, and of the versions' read
    # of records not prepared yet, `match_records._versions_and_records`.)
    others = [p for s, p in plans.items() if "AS others" in s]
    assert len(shortlisted) == 1 and len(versions) == 1 and len(named) == 1 and len(others) == 2, list(plans)
    # The pre-rank columns of the shortlisted ids, and the chosen ones' versions: from the index, not the
    # wide persons rows.
    for plan in (shortlisted[0], versions[0]):
        assert "Index Only Scan using ix_persons_prerank on persons" in plan, plan
    # The other names and the capture events of the best: from their covering indexes.
    for plan in others:
        assert "Index Only Scan using ix_person_names_other on person_names" in plan, plan
        assert "Index Only Scan using ix_events_captures on events" in plan, plan
    assert "Index Only Scan using ix_person_names_other on person_names" in named[0], named[0]


def _cold() -> None:
    """This process has prepared none of the records, whole or by their names."""
    prepared.PREPARED.clear()
    prepared.NAMED.clear()


def test_a_search_sends_the_same_statement_texts_whatever_its_lists_length(loaded_pg: Engine) -> None:
    """On PostgreSQL a list of ids or keys is one array parameter (= ANY), not an IN list whose length makes
    a statement text of its own: psycopg prepares each text run often, an IN list of a new length is parsed
    and planned afresh. Searches whose lists differ in length send the same texts."""
    with loaded_pg.connect() as conn:
        spread = text("SELECT full_name FROM persons WHERE id % 500 = 7 ORDER BY id")
        names = list(conn.execute(spread).scalars())
    texts: set[str] = set()
    _cold()
    for name in names:

        def staff_search(name: str = name) -> None:
            with unit_of_work(loaded_pg) as s:
                search_records(s, "staff", "test", name, model=MODEL, limit=10)
                # A staff list of a full name reads no record whole (ids_only): a search that shows
                # its hits' records does, of those it scores.
                matcher.search(s, MatchRecord(None, name), model=MODEL, limit=10, reasons=False)

        texts |= {statement for statement, _ in statements_run(loaded_pg, staff_search, lambda s: True)}
    lists = [s for s in texts if "= ANY (" in s]
    assert not [s for s in texts if re.search(r"\bIN \(", s)], texts
    # The chosen records' versions with the rows of those not prepared yet (their other names and captures),
    # the versions alone (every record prepared), the name counts, the listed rows: one text each, whatever
    # the searches' lengths.
    kinds: dict[str, list[str]] = {
        "AS others": [],  # the records scored, whole
        "AS other ": [],  # the chosen records' versions and names
        "persons.version, CAST": [],
        "count(*)": [],
        "found.pid": [],
    }
    for listed in lists:
        kind = next(k for k in kinds if k in listed)
        kinds[kind].append(listed)
    assert all(len(t) <= 1 for t in kinds.values()), lists
    assert kinds["AS others"] and kinds["AS other "] and kinds["found.pid"], lists
