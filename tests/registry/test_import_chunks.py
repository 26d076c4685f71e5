"""Imports larger than one chunk (kinlink.registry.imports.CHUNK): a source's first import, which looks up
no existing records, and a later one, which does (kinlink.registry.known), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from kinlink.registry.imports import CHUNK, LOADED_TABLES, import_registry
from kinlink.store.bulk import Behind
from tests.support import counts, statements_run

HEADER = "record_id,full_name,sex,birth_date,status,status_date\n"


def _row(i: int, status: str = "captured") -> str:
    return f"R{i},Иванов Пётр Сергеевич,m,1990,{status},2022-03-0{1 + i % 9}\n"


def test_first_import_over_chunks_refuses_an_id_repeated_in_a_later_chunk(cli, write, engine) -> None:
    n = CHUNK + 100
    rows = [_row(i) for i in range(n)] + [_row(5, "missing")]  # R5 again, in the second chunk
    out = cli.json(
        "import", "registry", str(write("a.csv", HEADER + "".join(rows))), "--source", "b", "--skip-invalid"
    )
    assert (out["created"], out["invalid"]) == (n, 1)
    assert "appears twice in the file" in out["errors"][0]
    assert counts(engine)["persons"] == n
    assert cli("audit", "verify").exit_code == 0


def test_later_import_over_chunks_finds_the_source_records(cli, write, engine) -> None:
    n = CHUNK + 100
    first = write("a.csv", HEADER + "".join(_row(i) for i in range(n)))
    cli("import", "registry", str(first), "--source", "b")
    # Every record again: one changed in each chunk, the rest unchanged, and new ones after them.
    rows = [_row(i, "released" if i in (7, CHUNK + 7) else "captured") for i in range(n)]
    rows += [_row(i) for i in range(n, n + 50)]
    out = cli.json("import", "registry", str(write("b.csv", HEADER + "".join(rows))), "--source", "b")
    assert (out["created"], out["updated"], out["unchanged"]) == (50, 2, n - 2)
    assert counts(engine)["persons"] == n + 50
    assert cli("audit", "verify").exit_code == 0


def _index_definitions(engine: Engine) -> list[tuple[str, str]]:
    """Every index of the tables an import fills, as the database itself states it; on PostgreSQL also
    their foreign keys (kinlink.store.bulk.DeferredIndexes drops some of them with the indexes)."""
    tables = list(LOADED_TABLES)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t) "
                    "UNION ALL SELECT conname, pg_get_constraintdef(oid) || ' VALID ' || convalidated "
                    "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(:t) ORDER BY 1"
                ),
                {"t": tables},
            )
        else:
            rows = conn.execute(
                text(
                    "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name IN (" + ", ".join(f"'{t}'" for t in tables) + ") ORDER BY 1"
                )
            )
        return [(name, sql) for name, sql in rows]


def test_a_large_first_import_leaves_every_index_as_it_was(cli, write, engine) -> None:
    # Into empty tables: loaded without their secondary indexes (kinlink.store.bulk.DeferredIndexes),
    # which are built again before the commit, the same ones, and used by what follows.
    before = _index_definitions(engine)
    assert any(name == "ix_person_names_folded" for name, _ in before)
    n = 2 * CHUNK + 10
    out = cli.json(
        "import", "registry", str(write("a.csv", HEADER + "".join(map(_row, range(n))))), "--source", "b"
    )
    assert out["created"] == n
    assert _index_definitions(engine) == before
    assert counts(engine) == {"persons": n, "person_names": n, "events": n, "audit_log": n + 2}
    assert cli("audit", "verify").exit_code == 0
    # A second source's first import, smaller than the tables now: written with the indexes in place.
    out = cli.json(
        "import",
        "registry",
        str(write("c.csv", HEADER + "".join(map(_row, range(CHUNK + 1))))),
        "--source",
        "c",
    )
    assert out["created"] == CHUNK + 1
    assert _index_definitions(engine) == before


def test_a_refused_large_first_import_writes_nothing_and_keeps_the_indexes(cli, write, engine) -> None:
    # Two full chunks are written (and the indexes dropped) before the bad row stops the writing: the
    # rollback takes back the rows and the dropped indexes with them.
    before = _index_definitions(engine)
    rows = [_row(i) for i in range(2 * CHUNK + 10)] + ["R-bad,Иванов Пётр,m,1990,captured,2022-13-45\n"]
    result = cli(
        "import", "registry", str(write("a.csv", HEADER + "".join(rows))), "--source", "b", "--json", ok=False
    )
    out = json.loads(result.stdout)
    assert result.exit_code != 0 and not out["written"]
    assert out["errors"] == ["a.csv:4012: status_date: '2022-13-45' has no month 13"]
    assert counts(engine) == {"persons": 0, "person_names": 0, "events": 0, "audit_log": 0}
    assert _index_definitions(engine) == before


def test_a_first_import_failing_midway_writes_nothing_and_keeps_the_indexes(engine, tmp_path) -> None:
    # A file that cannot be read to its end (here: rows that stop with an error after two chunks).
    before = _index_definitions(engine)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for i in range(2 * CHUNK + 10):
            yield i + 2, {"record_id": f"R{i}", "full_name": "Иванов Пётр Сергеевич", "status": "captured"}
        raise OSError("the disk went away")

    path = tmp_path / "a.csv"
    path.write_text(HEADER)
    with pytest.raises(OSError, match="went away"):
        import_registry(engine, path, "b", "tester", rows=rows())
    assert counts(engine) == {"persons": 0, "person_names": 0, "events": 0, "audit_log": 0}
    assert _index_definitions(engine) == before


def test_a_first_import_into_a_live_postgresql_registry_keeps_its_indexes(write, engine) -> None:
    # On PostgreSQL a dropped index would lock its table against every search until the import commits,
    # so a registry that already holds records keeps its indexes; SQLite's readers keep their snapshot
    # (WAL), so there a load that at least doubles the tables goes without them.
    import_registry(engine, write("a.csv", HEADER + "".join(_row(i) for i in range(10))), "a", "tester")
    rows = HEADER + "".join(_row(i) for i in range(2 * CHUNK))
    dropped = statements_run(
        engine,
        lambda: import_registry(engine, write("b.csv", rows), "b", "tester"),
        lambda s: s.lstrip().upper().startswith("DROP INDEX"),
    )
    assert counts(engine)["persons"] == 10 + 2 * CHUNK
    assert bool(dropped) == (engine.dialect.name == "sqlite")


def test_a_large_first_postgresql_import_keeps_its_foreign_keys(write, pg) -> None:
    # The keys between the loaded tables (names and events to persons) go while the rows are written and
    # come back, checking them, before the commit; those to sources stay, as dropping one would lock sources
    # against its readers. The keys hold afterwards as before: a person's names and events go with it.
    before = _index_definitions(pg)
    assert any(name == "fk_events_person_id_persons" for name, _ in before)
    rows = HEADER + "".join(_row(i) for i in range(2 * CHUNK))
    dropped = statements_run(
        pg,
        lambda: import_registry(pg, write("a.csv", rows), "a", "tester"),
        lambda s: "DROP CONSTRAINT" in s.upper(),
    )
    assert sorted(s.split('"')[-2] for s, _ in dropped) == [
        "fk_events_person_id_persons",
        "fk_person_names_person_id_persons",
    ]
    assert _index_definitions(pg) == before
    with pg.begin() as conn:
        with pytest.raises(IntegrityError, match="fk_events_person_id_persons"), conn.begin_nested():
            conn.execute(
                text(
                    "INSERT INTO events (person_id, kind, created_at, confirmation) "
                    "VALUES (-1, 'captured', now(), 'registry')"
                )
            )
        conn.execute(text("DELETE FROM persons WHERE source_record_id = 'R7'"))
    assert counts(pg) == {
        "persons": 2 * CHUNK - 1,
        "person_names": 2 * CHUNK - 1,
        "events": 2 * CHUNK - 1,
        "audit_log": 2 * CHUNK + 2,
    }


def test_a_first_import_tells_its_progress_chunk_by_chunk(write, engine) -> None:
    # On PostgreSQL full chunks are written behind the reading (kinlink.store.bulk.Behind): each is told
    # once written, the last with the rest, so every row is told once.
    told: list[int] = []
    n = 3 * CHUNK + 10
    report = import_registry(
        engine, write("a.csv", HEADER + "".join(_row(i) for i in range(n))), "a", "t", progress=told.append
    )
    assert report.created == n
    assert told == [CHUNK, CHUNK, CHUNK, 10]


def test_a_write_behind_raises_its_error_in_the_caller() -> None:
    behind = Behind()
    done: list[int] = []
    behind.run(lambda: done.append(1))
    behind.run(lambda: 1 / 0)  # waits for the first
    assert done == [1]
    with pytest.raises(ZeroDivisionError):
        behind.join()
    behind.join()  # raised once
    behind.run(lambda: done.append(2))
    behind.join()
    assert done == [1, 2]
