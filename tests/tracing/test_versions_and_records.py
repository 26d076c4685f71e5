"""On PostgreSQL a search (of more than names) reads its chosen records' versions and, of those its process
has not prepared yet, the records whole in one statement, where the versions then the records were two
(issue 19). The same versions and records as the two reads; a search whose records are all prepared reads
the versions alone."""

from __future__ import annotations

import re

from sqlalchemy import Engine, select

from kinlink.demo import DEMO_REGISTRY
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.registry import imports
from kinlink.store import match_keys
from kinlink.store.db import unit_of_work
from kinlink.store.match_records import person_records, reader, versions_and_records
from kinlink.store.models import Person
from kinlink.tracing import matcher
from tests.support import statements_run

ACTOR = "test:versions"
MODEL = load_model()


def _demo(engine: Engine) -> list[int]:
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo", ACTOR).written
    with unit_of_work(engine) as s:
        match_keys.ensure_keys(s)
        return list(s.scalars(select(Person.id).order_by(Person.id)))


def test_the_versions_and_the_records_not_known_are_those_of_the_two_reads(pg: Engine) -> None:
    ids = _demo(pg)
    asked = [*ids[::-1], max(ids) + 1000]  # any order, and an id of no record
    with unit_of_work(pg) as s:
        conn = reader(s)
        versions = {r[0]: (r[1], r[2]) for r in conn.execute(matcher._VERSIONS[1], {"ids": asked})}
        whole = {int(r.id): r for r in person_records(s, ids)}  # type: ignore[arg-type]
        assert any(r.other_names for r in whole.values()) and any(r.capture_date for r in whole.values())
        for known in ([], ids[::2], ids):
            got = versions_and_records(conn, asked, known)
            assert [r[0] for r in got] == ids  # in id order, those that exist
            assert {r[0]: (r[1], r[2]) for r in got} == versions
            for pid, _version, _created, rec in got:
                assert rec == (None if pid in known else whole[pid])


def test_a_search_reads_the_records_it_lacks_with_their_versions_in_one_statement(pg: Engine) -> None:
    """A query with a value besides its names (a unit: still ranked by the keys shared); a query of names
    alone reads names, not records (`test_search_by_names`)."""
    _demo(pg)
    matcher._PREPARED.clear()  # this process has prepared none of them
    query = MatchRecord(None, "Марков Георгий", unit="200-я отдельная бригада")

    def search(limit: int) -> list[tuple[int, float | None]]:
        with unit_of_work(pg) as s:
            hits = matcher.search(s, query, model=MODEL, limit=limit, scorer=matcher.search_scorer(s, MODEL))
            return [(int(r.id), sc.probability) for r, sc in hits]  # type: ignore[arg-type]

    def reads(limit: int) -> tuple[list[str], list[tuple[int, float | None]]]:
        found: list[list[tuple[int, float | None]]] = []
        sent = statements_run(pg, lambda: found.append(search(limit)), lambda st: True)
        by_id = [st for st, _ in sent if re.match(r"SELECT persons.id, ", st)]
        return [" ".join(st.split("FROM")[0].split())[:60] for st in by_id], found[0]

    cold, first = reads(10)
    assert len(cold) == 1 and "persons.full_name" in cold[0], cold  # the versions with the records whole
    warm, again = reads(9)  # another list (not kept whole), of records all prepared now
    assert len(warm) == 1 and warm[0].startswith("SELECT persons.id, persons.version, CAST("), warm
    assert again == first[:9]
    matcher._PREPARED.clear()
    assert reads(9)[1] == again  # read whole again: the same list


def test_the_prepared_cache_knows_the_ids_it_holds_an_entry_of(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(matcher._PreparedCache, "SIZE", 2)
    cache = matcher._PreparedCache()
    cache.put((1, 1, "a"), ())
    cache.put((1, 1, "a"), ())  # the same record prepared by two threads at once
    cache.put((1, 2, "a"), ())  # a later version of it
    assert cache.known([1, 2]) == [1]
    cache.put((2, 1, "b"), ())  # the first version of record 1 goes
    assert cache.known([1, 2]) == [1, 2]
    cache.put((3, 1, "c"), ())  # then its second: no entry of record 1 left
    assert cache.known([1, 2, 3]) == [2, 3]
