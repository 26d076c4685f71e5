"""A batch's keying (`kinlink.tracing.batch_keys`): the rows record-by-record keying writes, in workers or
not, in one transaction or a transaction per block, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import DropIndex

from kinlink.demo import DEMO_REGISTRY
from kinlink.matching import build_keys
from kinlink.matching import names_bridge as nb
from kinlink.matching.index import CandidateIndex
from kinlink.matching.keys import record_keys
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.registry import erasure, imports
from kinlink.store import match_keys, schema
from kinlink.store.db import make_engine, unit_of_work
from kinlink.store.match_records import person_records
from kinlink.store.models import Person
from kinlink.store.tracing_models import MatchKey
from kinlink.tracing import batch_keys
from kinlink.tracing.batch_keys import key_records
from tests.matching.test_index_build import SETTINGS, records

ACTOR = "test:batch"


def _defined_keys(r: MatchRecord) -> set[str]:
    """A person's keys as the key table defines them: its names' blocking keys and service number's key
    (`record_keys`), and its name's term-frequency keys (`nb.tf_keys`), each cut to 200 characters."""
    keys = record_keys(r)
    if r.name:
        for prefix, key in zip(match_keys.TF_PREFIX.values(), nb.tf_keys(r.name), strict=True):
            if key:
                keys.add(prefix + key)
    return {k[:200] for k in keys}


@SETTINGS
@given(records())
def test_a_persons_keys_are_those_the_key_table_defines(r: MatchRecord) -> None:
    assert match_keys._all_keys(r, with_tf=True) == _defined_keys(r)


def _rows(engine: Engine) -> list[tuple[int, str, int, str]]:
    with unit_of_work(engine) as s:
        return [
            tuple(row)  # type: ignore[misc]
            for row in s.execute(
                select(MatchKey.id, MatchKey.entity, MatchKey.entity_id, MatchKey.key).order_by(MatchKey.id)
            )
        ]


def test_keying_in_workers_writes_the_rows_record_by_record_keying_defines(
    engine: Engine, tmp_path: Path
) -> None:
    from bench.registry.data import generate

    path = tmp_path / "registry.csv"
    generate(path, 1200)
    assert imports.import_registry(engine, path, "big", ACTOR).written
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR).written  # other names
    with unit_of_work(engine) as s:
        expected = [("p", int(r.id), k) for r in person_records(s) for k in sorted(_defined_keys(r))]  # type: ignore[arg-type]
        first = s.scalar(select(MatchKey.id).order_by(MatchKey.id.desc()).limit(1)) or 0

    # A first keying: one transaction, the lookup index dropped and built again.
    key_records(engine, chunk=250, processes=2)
    rows = _rows(engine)
    assert [r[1:] for r in rows] == expected
    assert [r[0] for r in rows] == list(range(rows[0][0], rows[0][0] + len(rows))) and rows[0][0] > first
    assert "ix_match_keys_lookup" in {i["name"] for i in inspect(engine).get_indexes("match_keys")}

    # Fewer records without keys than with them: a transaction per block, the same rows for them.
    with unit_of_work(engine) as s:
        gone = [
            int(i) for i in s.scalars(select(MatchKey.entity_id).distinct().order_by(MatchKey.entity_id))
        ][100:400]
        match_keys.drop_keys(s, "p", gone)
        assert match_keys.missing_keys(s) == gone
    key_records(engine, chunk=120, processes=2)
    assert sorted(r[1:] for r in _rows(engine)) == sorted(expected)

    # Nothing left to key: nothing written.
    before = _rows(engine)
    key_records(engine, processes=2)
    assert _rows(engine) == before


@pytest.mark.parametrize("entity", ["p", "r"])
def test_keys_written_in_bulk_are_the_rows_written_one_by_one(engine: Engine, entity: str) -> None:
    """`write_key_columns(in_bulk=True)` (SQLite: its own executemany, the entity in the statement;
    PostgreSQL: COPY) writes the rows, ids and order the ORM's insert writes, replacing a block's keys."""
    columns = (
        [3, 3, 5, 9, 9, 9, 9, 9, 9, 9, 9],
        ["a", "b", "tf:f:x", "c", "d" * 200, "é", "123", 'q"uote', "back\\slash\\u0041", "new\nline", "😀"],
    )
    got = []
    for in_bulk in (False, True):
        with unit_of_work(engine) as s:
            s.execute(MatchKey.__table__.delete())
            s.execute(MatchKey.__table__.insert(), [{"entity": entity, "entity_id": 5, "key": "old"}])
        with unit_of_work(engine) as s:
            match_keys.write_key_columns(s, entity, [3, 5, 9], columns, in_bulk=in_bulk)
        got.append([row[1:] for row in _rows(engine)])
    assert got[0] == got[1] == [(entity, o, k) for o, k in zip(*columns, strict=True)]


@pytest.mark.parametrize("entity", ["p", "r"])
def test_keys_written_in_bulk_keep_their_order_where_an_owners_rows_come_apart(
    engine: Engine, entity: str
) -> None:
    """SQLite's bulk rows go as runs of one owner's keys (`match_keys._runs`): an owner whose rows come
    apart keeps them apart, each row written in its place, so the ids follow the rows' order as given
    (a run an owner would have written 3's rows together, before 5's)."""
    columns = ([3, 3, 5, 3, 7, 7, 5], ["b", "a", "x", "c", "z", "y", "w"])
    with unit_of_work(engine) as s:
        match_keys.write_key_columns(s, entity, [3, 5, 7], columns, in_bulk=True)
    assert [row[1:] for row in _rows(engine)] == [(entity, o, k) for o, k in zip(*columns, strict=True)]


def test_a_key_with_a_nul_is_written_whole_on_sqlite(tmp_path: Path) -> None:
    """SQLite's bulk rows go as one JSON text, whose NUL SQLite would cut: such a block is bound row by
    row."""
    engine = make_engine(f"sqlite:///{tmp_path / 'nul.db'}")
    schema.upgrade(engine)
    with unit_of_work(engine) as s:
        match_keys.write_key_columns(s, "p", [4, 7], ([4, 7], ["a\x00b", "c"]), in_bulk=True)
    assert [r[1:] for r in _rows(engine)] == [("p", 4, "a\x00b"), ("p", 7, "c")]
    engine.dispose()


def test_a_record_keyed_after_its_block_was_read_keeps_its_own_keys(engine: Engine) -> None:
    """The workers read a block's records ahead of the writing: a record keyed meanwhile (an edit keys it
    from what it wrote) keeps those keys, not the older reading's; the rest of the block is keyed."""
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR).written
    with unit_of_work(engine) as s:
        ids = match_keys.missing_keys(s)
        expected = {int(r.id): sorted(_defined_keys(r)) for r in person_records(s)}  # type: ignore[arg-type]
    late = ids[len(ids) // 2]
    # Blocks derived before anything is written: the block holding `late` was read before it was keyed.
    derived = list(batch_keys._derived(engine, [ids], 1))
    with unit_of_work(engine) as s:
        match_keys.write_key_columns(s, "p", [late], ([late], ["edited:key"]))
    with unit_of_work(engine) as s:
        batch_keys._write_unkeyed(s, ids, derived[0])
    by_record: dict[int, list[str]] = {}
    for _id, _entity, owner, key in _rows(engine):
        by_record.setdefault(owner, []).append(key)
    assert by_record.pop(late) == ["edited:key"]
    assert {i: sorted(k) for i, k in by_record.items()} == {i: k for i, k in expected.items() if i != late}


def _import(engine: Engine, tmp_path: Path, n: int) -> list[tuple[str, int, str]]:
    """A generated registry of n records and the demo's (records of several names), not keyed; the rows
    record-by-record keying defines for them, in order."""
    from bench.registry.data import generate

    path = tmp_path / "registry.csv"
    generate(path, n)
    assert imports.import_registry(engine, path, "big", ACTOR).written
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR).written
    with unit_of_work(engine) as s:
        return [("p", int(r.id), k) for r in person_records(s) for k in sorted(_defined_keys(r))]  # type: ignore[arg-type]


def _lookup_there(engine: Engine) -> bool:
    return "ix_match_keys_lookup" in {i["name"] for i in inspect(engine).get_indexes("match_keys")}


@contextmanager
def _keys_from_build(session: Session) -> Iterator[batch_keys.HandedKeys | None]:
    """As `BuildKeying` sets up a build where a first keying is pending (else None), for a keying written
    after the build instead of beside it."""
    if not batch_keys.first_pending(session):
        yield None
        return
    handed = batch_keys.HandedKeys()
    with build_keys.handing_keys(handed.wanted()):
        yield handed
    handed.close()


@pytest.mark.parametrize("processes", [1, 2])
def test_a_first_keying_writes_the_rows_an_index_build_hands_out(
    engine: Engine, tmp_path: Path, processes: int
) -> None:
    """The keys of a first keying come from the index build (`HandedKeys`, written here after the build),
    the records of several names derived from the database: the same rows, in the same order, as keying
    record by record."""
    expected = _import(engine, tmp_path, 900)
    with unit_of_work(engine) as s, _keys_from_build(s) as handed:
        CandidateIndex.build(load_model(), person_records(s), processes=processes)
        ids = match_keys.missing_keys(s)  # as `match_all` finds them, after the build
    assert handed is not None
    # A record erased after that gets no keys: nothing derived from its names is left behind.
    erased = expected[len(expected) // 2][1]
    with unit_of_work(engine) as s:
        erasure.erase_record(s, ACTOR, s.get(Person, erased), "test")  # type: ignore[arg-type]
    key_records(engine, ids, chunk=250, handed=handed)
    assert handed.records_derived and handed.records_handed > handed.records_derived  # most handed out
    rows = _rows(engine)
    assert [r[1:] for r in rows] == [r for r in expected if r[1] != erased]
    assert _lookup_there(engine)
    # Every record keyed: the next build hands nothing out.
    with unit_of_work(engine) as s, _keys_from_build(s) as again:
        assert again is None


def _keyed(engine: Engine) -> int:
    with unit_of_work(engine) as s:
        return len(set(s.scalars(select(MatchKey.entity_id).where(MatchKey.entity == "p"))))


def test_a_first_keying_writes_its_blocks_while_the_build_goes_on(engine: Engine, tmp_path: Path) -> None:
    """`BuildKeying`: a first keying's blocks are written while the index build is still running (its
    first block handed out, the next being prepared), the same rows in the same order as record by record;
    the records of several names derived from the database."""
    expected = _import(engine, tmp_path, 2500)  # two blocks of the build with two workers
    other = make_engine(engine.url.render_as_string(hide_password=False))
    seen: list[int] = []

    def tick(_n: int) -> None:  # the build's progress, after each block: wait for the keying's first blocks
        if not seen:
            deadline = time.monotonic() + 60
            while not _keyed(other) and time.monotonic() < deadline:
                time.sleep(0.05)
        seen.append(_keyed(other))

    keying = batch_keys.BuildKeying(engine, chunk=250)
    assert keying.beside
    with unit_of_work(engine) as s, keying.build():
        CandidateIndex.build(load_model(), person_records(s), progress=tick, processes=2)
    keying.finish([], 0, 2)
    other.dispose()
    assert len(seen) == 2 and 0 < seen[0] <= 2000  # written during the build, of its first block only
    assert [r[1:] for r in _rows(engine)] == expected
    assert _lookup_there(engine)
    again = batch_keys.BuildKeying(engine)
    assert not again.beside  # every record keyed: the next build hands nothing out


def test_a_build_that_fails_stops_the_keying_beside_it(engine: Engine, tmp_path: Path) -> None:
    """A build that fails while a first keying writes beside it: the build's error is raised, the keying
    stops with its lookup index built and the blocks it wrote kept, and the next keying keys the rest."""
    expected = _import(engine, tmp_path, 2500)
    other = make_engine(engine.url.render_as_string(hide_password=False))

    def tick(_n: int) -> None:
        deadline = time.monotonic() + 60
        while not _keyed(other) and time.monotonic() < deadline:
            time.sleep(0.05)
        raise KeyboardInterrupt  # the build stopped after its first block

    keying = batch_keys.BuildKeying(engine, chunk=250)
    with pytest.raises(KeyboardInterrupt), unit_of_work(engine) as s, keying.build():
        CandidateIndex.build(load_model(), person_records(s), progress=tick, processes=2)
    other.dispose()
    assert 0 < _keyed(engine) <= 2000
    assert _lookup_there(engine)
    key_records(engine, chunk=250)  # the next `kinlink match`: the rest
    assert sorted(r[1:] for r in _rows(engine)) == sorted(expected)


def test_a_keying_left_with_only_its_lookup_index_to_build_asks_the_build_for_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    """Every record keyed but the lookup index still dropped (a keying killed as it built it): the build
    hands out no rows (they would be written for nothing), and the keying builds the index."""
    expected = _import(engine, tmp_path, 300)
    key_records(engine, chunk=200)
    with unit_of_work(engine) as s:
        s.execute(DropIndex(batch_keys._LOOKUP))
    asked: list[object] = []
    keying = batch_keys.BuildKeying(engine)
    with unit_of_work(engine) as s, keying.build():
        CandidateIndex.build(
            load_model(), person_records(s), progress=lambda _n: asked.append(build_keys.WANTED)
        )
    keying.finish([], 0, 1)
    assert asked == [None]
    assert _lookup_there(engine)
    assert [r[1:] for r in _rows(engine)] == expected


def test_a_first_keying_commits_block_by_block(engine: Engine, tmp_path: Path) -> None:
    """Between a first keying's blocks another connection sees the blocks written and writes keys itself
    (one transaction held SQLite's write lock, and PostgreSQL's dropped index, for the whole keying); the
    record it keyed keeps its keys. A keying that fails has its lookup index built all the same, and the
    next keys the rest."""
    expected = _import(engine, tmp_path, 900)
    other = make_engine(engine.url.render_as_string(hide_password=False))
    ids = sorted({owner for _e, owner, _k in expected})
    late = ids[-1]
    seen: list[int] = []

    def between(done: int, total: int) -> None:
        with unit_of_work(other) as s:
            s.execute(text("SET LOCAL lock_timeout = '5s'" if _pg(other) else "PRAGMA busy_timeout = 5000"))
            seen.append(len(set(s.scalars(select(MatchKey.entity_id).where(MatchKey.entity == "p")))))
            if len(seen) == 1:
                match_keys.write_key_columns(s, "p", [late], ([late], ["edited:key"]))
        if len(seen) == 3:
            raise KeyboardInterrupt  # the keying stopped half-way

    with pytest.raises(KeyboardInterrupt):
        key_records(engine, chunk=200, progress=between)
    other.dispose()
    assert seen == [200, 401, 601]  # the records keyed so far, `late` among them
    assert _lookup_there(engine)
    key_records(engine, chunk=200)  # the next `kinlink match`: the rest
    rows = [r[1:] for r in _rows(engine)]
    assert sorted(rows) == sorted([r for r in expected if r[1] != late] + [("p", late, "edited:key")])
    assert _lookup_there(engine)


def test_a_keying_killed_half_way_is_resumed_and_its_lookup_index_built(
    engine: Engine, tmp_path: Path
) -> None:
    """A keying killed between blocks leaves its records partly keyed and the lookup index dropped: the
    next one (fewer records left than keyed: not a first keying) keys the rest and builds the index."""
    expected = _import(engine, tmp_path, 900)
    with unit_of_work(engine) as s:
        ids = match_keys.missing_keys(s)
    key_records(engine, ids[: len(ids) * 2 // 3], chunk=200)
    with unit_of_work(engine) as s:  # as the killed keying left it
        s.execute(DropIndex(batch_keys._LOOKUP))
    assert not _lookup_there(engine)
    key_records(engine, chunk=200)
    assert [r[1:] for r in _rows(engine)] == expected
    assert _lookup_there(engine)


def _pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def test_a_records_handed_rows_are_a_set_cut_to_the_columns_width_and_sorted() -> None:
    """`build_keys.stored_rows` as `match_keys._all_keys` keys a record: a service number's key that is also
    one of its name's keys once, keys cut to the width and then sorted; records of several names left out."""
    wanted = build_keys.KeysWanted(("tf:f:", "tf:g:", "tf:p:"), 5, lambda _records, _pieces: None)
    infos = [(None, ("sn:12", "zz", "abcdefgh"), ("fam", None, None)), (None, ("x",), (None, None, None))]
    distinct, codes, counts = build_keys.stored_rows(wanted, infos, [0, 0, 1], ["12", None, "7"], 1)
    rows = [distinct[c] for c in codes.tolist()]
    assert counts.tolist() == [4, 4, -1]
    assert rows == sorted(["sn:12", "zz", "abcde", "tf:f:"]) * 2
