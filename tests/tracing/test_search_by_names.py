"""A search of names alone (a staff search) bounds its chosen records by their names and reads whole only
those that reach scoring (issue 19): the same hits, probabilities, evidence and notes as preparing every
chosen record whole, with the caches cold, warm, and after a record changed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

from kinlink.demo import DEMO_REGISTRY
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.registry import imports, records
from kinlink.store import match_keys
from kinlink.store.db import unit_of_work
from kinlink.store.match_records import person_records, reader, versions_and_names
from kinlink.store.models import Person
from kinlink.tracing import matcher, prepared
from kinlink.tracing.continuous import Matching
from tests.support import add_record, statements_run

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


def _reads_by_id(engine: Engine, work: Callable[[], object]) -> list[tuple[str, list[int]]]:
    """Of the statements `work` sends, those that look records up by a list of ids: (what they select,
    the ids as the statement was given them). Some are read by the driver itself
    (`kinlink.store.db.read_rows`): on PostgreSQL as psycopg runs them, its parameters by name; on SQLite
    the ids are the statement's last parameter (one JSON text), in the text where SQLite's trace wrote it."""
    by_id = re.compile(r"\s*SELECT persons\.id, ")
    sent = statements_run(engine, work, lambda statement: bool(by_id.match(statement)))
    if engine.dialect.name == "postgresql":
        return [(_selected(st), list(p["ids"])) for st, p in sent]  # type: ignore[index]
    got = []
    for st, p in sent:
        listed = p[-1] if p is not None else re.findall(r"json_each\('([^']*)'\)", st)[-1]  # type: ignore[index]
        got.append((_selected(st), json.loads(listed)))
    return got


def _selected(statement: str) -> str:
    return " ".join(statement.split("FROM")[0].split())


def test_a_search_of_names_alone_reads_whole_only_the_records_it_scores(engine: Engine) -> None:
    """Both stores: the chosen records' versions and names in one statement, then the records scored whole
    in one more (two on SQLite, whose records and other names are two reads); asked again, with every
    record prepared, the versions alone (both stores)."""
    _demo(engine)
    given = ("Андрей", "Борис", "Виктор", "Дмитрий", "Евгений", "Захар", "Илья", "Кирилл", "Лев", "Михаил")
    with unit_of_work(engine) as s:
        for n in range(30):  # namesakes that the given name rules out, and some it does not
            name = f"Марков {'Георгий' if n % 10 == 0 else given[n % 10]} {given[n // 10]}ович"
            add_record(s, ACTOR, {"full_name": name, "unit": f"{n}-я бригада"})
        match_keys.ensure_keys(s)
    _cold()
    found: list[list[int]] = []

    def search() -> None:
        with unit_of_work(engine) as s:
            hits = matcher.search(
                s,
                MatchRecord(None, "Марков Георгий"),
                model=MODEL,
                limit=3,
                scorer=matcher.search_scorer(s, MODEL),
            )
        found.append([int(r.id) for r, _sc in hits])  # type: ignore[arg-type]

    cold = _reads_by_id(engine, search)
    assert found[0]
    assert cold[0][0].endswith("persons.full_name, person_names.full_name AS other"), cold
    assert len(cold[0][1]) > 30  # the Markovs and the demo's namesakes
    whole = cold[1:]
    assert [what.startswith("SELECT persons.id, persons.full_name") for what, _ids in whole] == [True]
    read = whole[0][1]
    assert set(found[0]) <= set(read) and len(read) < len(cold[0][1]) / 3  # the records scored, read together
    warm = _reads_by_id(engine, search)
    assert found[1] == found[0]
    # Every record prepared, whole or by its names: their versions alone, on both stores (from the covering
    # index; SQLite read the names with them, none, before issue 19's change).
    assert [what.startswith("SELECT persons.id, persons.version, CAST(") for what, _ in warm] == [True], warm
    assert not warm[0][0].endswith("AS other"), warm
