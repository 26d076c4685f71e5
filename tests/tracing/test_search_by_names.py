"""A search of names alone (a staff search) bounds its chosen records by their names and reads whole only
those that reach scoring (issue 19): the same hits, probabilities, evidence and notes as preparing every
chosen record whole, with the caches cold, warm, and after a record changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from kinlink.demo import DEMO_REGISTRY
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.registry import imports, records
from kinlink.store import match_keys, schema
from kinlink.store.db import make_engine, unit_of_work
from kinlink.store.match_records import person_records, reader, versions_and_names
from kinlink.store.models import Person
from kinlink.tracing import matcher, prepared
from kinlink.tracing.continuous import Matching

ACTOR = "test:by-names"
MODEL = load_model()
QUERIES = (
    "Марков Георгий",
    "Markov Georgii",
    "Гаврилов Архип Демидович",
    "Громов",  # a family name alone: the namesakes note reads the records' other fields
    "Пактышев Леонид",
    "Г. Марков",
    "Иван",
)


def _demo(engine: Engine) -> list[int]:
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo", ACTOR).written
    with unit_of_work(engine) as s:
        match_keys.ensure_keys(s)
        return list(s.scalars(select(Person.id).order_by(Person.id)))


def _cold() -> None:
    prepared.PREPARED.clear()
    prepared.NAMED.clear()


def _searches(engine: Engine, general: bool, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    out: list[object] = []
    with monkeypatch.context() as m:
        if general:
            m.setattr(matcher, "names_alone", lambda scorer, query: False)
        with unit_of_work(engine) as s:
            scorer = matcher.search_scorer(s, MODEL)
            for name in QUERIES:
                for limit, floor in ((1, 0.0), (3, 0.01), (10, 0.0), (10, 0.5), (60, 0.0)):
                    for reasons in (True, False):
                        hits = matcher.search(
                            s,
                            MatchRecord(None, name),
                            model=MODEL,
                            limit=limit,
                            scorer=scorer,
                            min_probability=floor,
                            reasons=reasons,
                        )
                        out.append([(rec, sc) for rec, sc in hits])
    return out


def test_the_versions_and_names_are_those_of_the_versions_and_the_records_read_whole(engine: Engine) -> None:
    ids = _demo(engine)
    asked = [*ids[::-1], max(ids) + 1000]  # any order, and an id of no record
    with unit_of_work(engine) as s:
        conn = reader(s)
        versions = {
            r[0]: (r[1], r[2])
            for r in conn.execute(matcher.for_dialect(conn, matcher._VERSIONS), {"ids": asked})
        }
        whole = {int(r.id): r for r in person_records(s, ids)}  # type: ignore[arg-type]
        assert any(r.other_names for r in whole.values())
        for known in ([], ids[::2], ids):
            got = versions_and_names(conn, asked, known)
            assert [r[0] for r in got] == ids  # in id order, those that exist
            assert {r[0]: (r[1], r[2]) for r in got} == versions
            for pid, _version, _created, names in got:
                want = tuple(n for n in whole[pid].all_names if n is not None)
                assert names == (None if pid in known else want)


def test_a_search_of_names_alone_gives_what_preparing_every_record_whole_gives(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _demo(engine)
    _cold()
    want = _searches(engine, True, monkeypatch)
    _cold()
    assert _searches(engine, False, monkeypatch) == want  # cold: most records prepared from their names
    assert _searches(engine, False, monkeypatch) == want  # warm: from the caches (both kinds)
    prepared.PREPARED.clear()
    assert _searches(engine, False, monkeypatch) == want  # named but not whole


def test_a_record_changed_since_its_names_were_read_is_scored_as_it_is_now(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record this process prepared at another version: its names are not read with the versions, and it
    is read whole."""
    _demo(engine)
    _cold()
    _searches(engine, False, monkeypatch)
    with unit_of_work(engine) as s:
        for pid in s.scalars(select(Person.id).where(Person.full_name.like("%Марков%"))):
            assert records.update_record(
                s, ACTOR, pid, {"unit": "200-я отдельная бригада"}, None, matching=Matching(MODEL)
            ).changed
    got = _searches(engine, False, monkeypatch)
    _cold()
    assert got == _searches(engine, True, monkeypatch)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite alone: PostgreSQL reads a search's records whole with their versions, in one statement
    (`versions_and_records`), and takes no names-alone path."""
    eng = make_engine(f"sqlite:///{tmp_path / 'kinlink.db'}")
    schema.upgrade(eng)
    yield eng
    eng.dispose()


def test_a_search_of_names_alone_reads_whole_only_the_records_it_scores(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sqlite_engine
    _demo(engine)
    _cold()
    asked: list[list[int]] = []
    read = prepared.person_records

    def counted(session, ids):  # type: ignore[no-untyped-def]
        asked.append(list(ids))
        return read(session, asked[-1])

    monkeypatch.setattr(prepared, "person_records", counted)
    with unit_of_work(engine) as s:
        hits = matcher.search(
            s,
            MatchRecord(None, "Марков Георгий"),
            model=MODEL,
            limit=3,
            scorer=matcher.search_scorer(s, MODEL),
        )
        chosen = len(s.scalars(select(Person.id)).all())
    assert hits and len(asked) == 1  # the records scored, read together
    assert {int(r.id) for r, _sc in hits} <= set(asked[0])  # type: ignore[arg-type]
    assert len(asked[0]) < chosen
