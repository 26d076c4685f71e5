"""Staff search: the counts it keeps between searches stay right, and it reads no table whole."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select, text

from kinlink.demo import DEMO_REGISTRY
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.registry import erasure, imports, records
from kinlink.registry.search import search_records
from kinlink.store import match_keys, schema
from kinlink.store.audit import AuditLog
from kinlink.store.db import make_engine, session_factory, unit_of_work
from kinlink.store.models import Person
from kinlink.store.tracing_models import MatchKey, MatchKeyScheme
from kinlink.tracing import matcher
from kinlink.tracing.continuous import Matching, match_new_records
from tests.support import sent_statements, statements_run

ACTOR = "test:search"
MODEL = load_model()


def _import(engine: Engine, tmp_path: Path, source: str, rows: list[dict], key: bool) -> list[int]:
    path = tmp_path / f"{source}.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    report = imports.import_registry(engine, path, source, ACTOR)
    assert report.written, report.errors
    with unit_of_work(engine) as s:
        ids = list(
            s.scalars(select(Person.id).where(Person.source_record_id.in_([r["record_id"] for r in rows])))
        )
        if key:  # as the web forms and `kinlink ingest` do after writing
            match_new_records(s, ACTOR, ids, dedup=False)
    return ids


def _generated(engine: Engine, tmp_path: Path, rows: int = 400, *more: dict) -> None:
    """A generated registry of `rows` records (and `more` rows of one's own), imported and keyed as
    `kinlink match` keys it."""
    from bench.registry.data import generate

    from kinlink.tracing.batch import match_all

    path = tmp_path / "registry.csv"
    generate(path, rows)
    assert imports.import_registry(engine, path, "generated", ACTOR).written
    if more:
        _import(engine, tmp_path, "more", list(more), key=False)
    match_all(engine, ACTOR, dedup=False)


def _demo(engine: Engine) -> None:
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo", ACTOR).written
    with unit_of_work(engine) as s:
        match_keys.ensure_keys(s)


def _results(engine: Engine, name: str, cached: bool) -> list[tuple[str, float, dict]]:
    with unit_of_work(engine) as s:
        scorer = matcher.search_scorer(s, MODEL) if cached else matcher.db_scorer(s, MODEL)
        hits = matcher.search(s, MatchRecord(None, name), model=MODEL, limit=5, scorer=scorer)
        return [(str(r.source_record_id), sc.probability, sc.explanation()) for r, sc in hits]


def _shared_text(results: list[tuple[str, float, dict]]) -> str:
    return results[0][2]["family_name"]["text"]


def test_a_record_added_after_the_cache_warmed_is_found_with_fresh_counts(
    engine: Engine, tmp_path: Path
) -> None:
    _demo(engine)
    with unit_of_work(engine) as s:
        assert search_records(s, ACTOR, "test", "Leonid Paktishev", model=MODEL)  # the counts are cached now
    before = _results(engine, "Paktishev Leonid", cached=True)
    assert before[0][0] == "RU-0000" and before == _results(engine, "Paktishev Leonid", cached=False)

    _import(
        engine,
        tmp_path,
        "camp-list",
        [
            {"record_id": "C-1", "full_name": "Пактышев Олег Андреевич", "sex": "m", "birth_date": "1990"},
            {"record_id": "C-2", "full_name": "КРАВЧУК Тарас Петрович", "sex": "m", "birth_date": "1991"},
        ],
        key=True,
    )
    with unit_of_work(engine) as s:
        # Latin for Cyrillic: the matcher
        hits = search_records(s, ACTOR, "test", "Taras Kravchuk", model=MODEL)
        assert hits and hits[0].person.source_record_id == "C-2" and hits[0].probability
    after = _results(engine, "Paktishev Leonid", cached=True)
    # The same answer, word for word, as counting afresh: a second Пактышев and two more records.
    assert after == _results(engine, "Paktishev Leonid", cached=False)
    assert after != before
    n_before = re.search(r"(\d+) of (\d+) records", _shared_text(before))
    n_after = re.search(r"(\d+) of (\d+) records", _shared_text(after))
    assert n_before and n_after
    assert int(n_after[1]) == int(n_before[1]) + 1 and int(n_after[2]) == int(n_before[2]) + 2


def test_an_erasure_after_the_cache_warmed_is_counted(engine: Engine) -> None:
    _demo(engine)
    before = _results(engine, "Пактышев Леонид", cached=True)
    with unit_of_work(engine) as s:
        person = s.scalar(select(Person).where(Person.source_record_id == "RU-0001"))
        assert person is not None
        log = AuditLog(s, ACTOR)
        erasure.erase_person(s, log, person, "on_request")
        log.flush()
    after = _results(engine, "Пактышев Леонид", cached=True)
    assert after == _results(engine, "Пактышев Леонид", cached=False) and after != before


def test_a_rename_after_the_cache_warmed_is_counted_by_the_next_search(
    engine: Engine, tmp_path: Path
) -> None:
    """The name counts a server keeps are valid until records' keys change, however long ago they were
    read: a rename whose new keys take the very ids of the keys it deleted (SQLite numbers them from the
    largest left) changes no largest id, and is seen by the next search all the same."""
    _demo(engine)
    [pid] = _import(
        engine,
        tmp_path,
        "last",
        [{"record_id": "L-1", "full_name": "Кравчук Олег Андреевич", "sex": "m", "birth_date": "1990"}],
        key=True,
    )
    before = _results(engine, "Paktishev Leonid", cached=True)
    with unit_of_work(engine) as s:
        top = s.scalar(select(MatchKey.id).order_by(MatchKey.id.desc()).limit(1))
        written = records.update_record(
            s, ACTOR, pid, {"full_name": "Пактышев Олег Андреевич"}, None, matching=Matching(MODEL)
        )
        assert written.changed
    if engine.dialect.name == "sqlite":  # a PostgreSQL sequence gives no id twice
        with unit_of_work(engine) as s:
            assert s.scalar(select(MatchKey.id).order_by(MatchKey.id.desc()).limit(1)) == top
    after = _results(engine, "Paktishev Leonid", cached=True)
    assert after == _results(engine, "Paktishev Leonid", cached=False)
    n_before = re.search(r"(\d+) of (\d+) records", _shared_text(before))
    n_after = re.search(r"(\d+) of (\d+) records", _shared_text(after))
    assert n_before and n_after
    assert int(n_after[1]) == int(n_before[1]) + 1 and n_after[2] == n_before[2]


def test_keys_written_and_rolled_back_or_of_requests_leave_the_marker_as_it_was(engine: Engine) -> None:
    """The marker changes with a commit that changed records' keys, not with a savepoint's release, a
    rollback, or a tracing request's keys (which no name count reads)."""
    _demo(engine)

    def marker() -> str | None:
        with unit_of_work(engine) as s:
            return s.scalar(
                select(MatchKeyScheme.fingerprint).where(MatchKeyScheme.id == match_keys.CHANGES_ROW)
            )

    first = marker()
    assert first is not None  # the demo's keying
    records_ = [MatchRecord(1_000_001, "Пактышев Олег")]
    with unit_of_work(engine) as s:
        match_keys.index_keys(s, records_, entity="r")
    assert marker() == first
    s = session_factory(engine)()
    with s.begin_nested():
        match_keys.index_keys(s, records_, entity="p")
    s.rollback()  # the savepoint released, then the transaction rolled back
    s.close()
    assert marker() == first
    with unit_of_work(engine) as s:
        match_keys.drop_keys(s, "p", [1_000_001])
    assert marker() not in (first, None)


def test_records_not_keyed_yet_are_found_by_the_start_of_a_name_or_their_id(
    engine: Engine, tmp_path: Path
) -> None:
    _demo(engine)
    with unit_of_work(engine) as s:
        search_records(s, ACTOR, "test", "Leonid Paktishev", model=MODEL)
    [pid] = _import(
        engine,
        tmp_path,
        "hospital",
        [{"record_id": "H-77", "full_name": "ЗАЛІЗНЯК  Северин Остапович", "service_number": "UA 123"}],
        key=False,
    )
    with unit_of_work(engine) as s:
        for query in ("залізняк северин", "Залізняк", "H-77", "UA 123"):
            hits = search_records(s, ACTOR, "test", query, model=MODEL)
            assert [h.person.id for h in hits] == [pid], query
            assert hits[0].probability is None
        # The start of a name, not any part.
        assert search_records(s, ACTOR, "test", "Северин", model=MODEL) == []


def test_pruned_search_gives_what_scoring_every_candidate_gives(engine: Engine) -> None:
    _demo(engine)
    with unit_of_work(engine) as s:
        scorer = matcher.db_scorer(s, MODEL)
        for name in ("Пактышев Леонид", "Markov Georgii", "Гаврилов Архип Демидович", "Громов"):
            q = MatchRecord(None, name)
            every = matcher.search(s, q, model=MODEL, limit=10_000, scorer=scorer)  # nothing pruned
            for limit, floor in ((1, 0.0), (3, 0.0), (3, 0.01), (10, 0.5)):
                pruned = matcher.search(s, q, model=MODEL, limit=limit, scorer=scorer, min_probability=floor)
                want = [(r.id, sc) for r, sc in every if sc.probability >= floor][:limit]
                assert [(r.id, sc) for r, sc in pruned] == want, (name, limit, floor)


def test_search_reads_no_table_whole(tmp_path: Path) -> None:
    """Every statement of a search is planned (SQLite, no statistics, as a new database is) as index
    reads: none scans the records, names, events or keys, so the cost does not grow with the registry.

    Only the number of records (the prior) is counted whole, once per process and change of the records'
    keys (`matcher.search_scorer`): the search before the statements are collected does that.
    """
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    schema.upgrade(engine)
    _demo(engine)
    with unit_of_work(engine) as s:
        search_records(s, ACTOR, "test", "Leonid Paktishev", model=MODEL)

    def selects(statement: str) -> bool:
        return statement.lstrip().upper().startswith("SELECT")

    def searches() -> None:
        with unit_of_work(engine) as s:
            for query in ("Leonid Paktishev", "Пактышев", "RU-0001", "Марков Георгий Тихонович", "zzz"):
                search_records(s, ACTOR, "test", query, model=MODEL, limit=10)

    def late_search() -> None:
        with unit_of_work(engine) as s:
            assert search_records(s, ACTOR, "test", "Paktishev Oleg", model=MODEL, limit=10)

    # (As the driver runs them: some are run by the driver itself, store.driver.DriverRead and read_rows.)
    statements = statements_run(engine, searches, selects)
    # A record added meanwhile: the counts are refreshed, and still nothing is read whole.
    _import(engine, tmp_path, "late", [{"record_id": "L-1", "full_name": "Пактышев Олег"}], key=True)
    statements += statements_run(engine, late_search, selects)
    assert len(statements) > 15
    scans = []
    raw = engine.raw_connection()
    try:
        for statement, parameters in statements:
            for row in raw.cursor().execute("EXPLAIN QUERY PLAN " + statement, parameters or ()):
                detail = row[-1]
                whole = re.match(r"SCAN (persons|person_names|events|match_keys)\b", detail)
                # A key lookup must name its key: (entity=?) alone reads every record's keys.
                all_keys = detail.startswith("SEARCH match_keys USING") and "key=?" not in detail
                if whole or all_keys:
                    scans.append((detail, statement[:120]))
    finally:
        raw.close()
    assert scans == []
    engine.dispose()


def test_the_migration_folds_the_names_already_stored(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sources (id, name, kind, created_at) VALUES (1, 'old', 'registry', '2024-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO persons (id, source_id, source_record_id, full_name, version, created_at,"
                " updated_at, consent_inform_family, consent_share_location, consent_share_health,"
                " consent_share_photo) VALUES (1, 1, 'O-1', 'ЯРЕМА  Євген', 1, '2024-01-01', '2024-01-01',"
                " 0, 0, 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO person_names (id, person_id, position, full_name)"
                " VALUES (1, 1, 0, 'ЯРЕМА  Євген')"
            )
        )
    schema.upgrade(engine)
    with unit_of_work(engine) as s:
        assert s.scalar(text("SELECT folded FROM person_names")) == "ярема євген"
        assert [h.person.id for h in search_records(s, ACTOR, "test", "Ярема Є", model=MODEL)] == [1]
    engine.dispose()


def test_a_record_changed_after_a_search_is_scored_as_it_is_now(engine: Engine) -> None:
    """Searches keep the records they prepared, by version: an edit is seen at the next search."""
    _demo(engine)
    query = MatchRecord(None, "Марков Георгий", unit="74-я отдельная мотострелковая бригада")

    def unit_level() -> str | None:
        with unit_of_work(engine) as s:
            hits = matcher.search(s, query, model=MODEL, limit=3)
            [(_rec, scored)] = [(r, sc) for r, sc in hits if r.source_record_id == "RU-0001"]
            return scored.explanation()["unit"]["level"]

    assert unit_level() == unit_level() == "exact"  # the second from the kept record
    with unit_of_work(engine) as s:
        pid = s.scalar(select(Person.id).where(Person.source_record_id == "RU-0001"))
        assert pid is not None
        written = records.update_record(
            s, ACTOR, pid, {"unit": "200-я отдельная бригада"}, None, matching=Matching(MODEL)
        )
        assert written.changed
    assert unit_level() not in ("exact", None)


def test_a_search_asked_again_gets_its_results_until_a_record_changes(engine: Engine) -> None:
    """A server's searches remember their results by the records chosen and their versions (issue 19): the
    same search gives the same answer, and an edited record is scored as it is now."""
    _demo(engine)
    query = MatchRecord(None, "Марков Георгий", unit="74-я отдельная мотострелковая бригада")

    def found() -> list[tuple[str, float, dict]]:
        with unit_of_work(engine) as s:
            scorer = matcher.search_scorer(s, MODEL)
            hits = matcher.search(s, query, model=MODEL, limit=3, scorer=scorer, reasons=False)
            return [(str(r.source_record_id), sc.probability, sc.note) for r, sc in hits]

    def units() -> dict[str, str | None]:
        with unit_of_work(engine) as s:
            hits = matcher.search(s, query, model=MODEL, limit=3, scorer=matcher.search_scorer(s, MODEL))
            return {str(r.source_record_id): sc.explanation()["unit"]["level"] for r, sc in hits}

    first = found()
    with unit_of_work(engine) as s:  # as a server that never searched: nothing remembered
        fresh = matcher.search(s, query, model=MODEL, limit=3, scorer=matcher.db_scorer(s, MODEL))
        assert first == [(str(r.source_record_id), sc.probability, sc.note) for r, sc in fresh]
    assert found() == first
    assert units()["RU-0001"] == "exact"
    with unit_of_work(engine) as s:
        pid = s.scalar(select(Person.id).where(Person.source_record_id == "RU-0001"))
        written = records.update_record(
            s, ACTOR, pid, {"unit": "200-я отдельная бригада"}, None, matching=Matching(MODEL)
        )
        assert written.changed
    assert found() != first
    assert units()["RU-0001"] not in ("exact", None)


def test_a_search_by_family_name_alone_says_how_many_bear_it(engine: Engine, tmp_path: Path) -> None:
    rows = [
        {"record_id": f"GV-{i}", "family_name": "Гаврилов", "given_names": g, "birth_date": f"19{80 + i}"}
        for i, g in enumerate(["Іван", "Петро", "Олег", "Павло"])
    ]
    _import(engine, tmp_path, "gv", rows, key=True)
    with unit_of_work(engine) as s:
        hits = search_records(s, ACTOR, "test", "Гаврилов", model=MODEL)
    assert len(hits) == 4 and all(h.note is not None for h in hits)
    note = hits[0].note.text()  # type: ignore[union-attr]
    assert "4 records bear it" in note and note.endswith("given name or date of birth would tell them apart")


def test_a_name_copied_from_a_sentence_is_searched_in_the_nominative(engine: Engine) -> None:
    # "... the release of Леонида Пактышева": the staff search and the matcher read it as Леонид Пактышев.
    _demo(engine)
    for written in ("Леонида Андреевича Пактышева", "Леонидом Пактышевым"):
        with unit_of_work(engine) as s:
            hits = search_records(s, ACTOR, "test", written, model=MODEL)
        assert hits and hits[0].person.source_record_id == "RU-0000", written
        assert hits[0].probability and hits[0].probability >= 0.05, written
        found = _results(engine, written, cached=False)
        assert "nominative" in json.dumps(found[0][2], ensure_ascii=False), written


def test_a_name_alone_is_preranked_from_the_shortlist_as_from_the_records_columns(
    engine: Engine, tmp_path: Path
) -> None:
    """A name typed in a search box (no birth, no sex) is pre-ranked by the keys shared alone: choosing from
    the shortlist's (id, shared) rows gives the candidates, in the order, that the records' birth and sex
    columns give, ties included; the search then finds what it found when it read every row's columns."""
    import numpy as np

    from kinlink.matching.keys import prerank
    from kinlink.store.match_records import reader
    from kinlink.store.shortlist import shortlist_query, with_persons_stmt

    _generated(engine, tmp_path)
    with unit_of_work(engine) as s:
        names = list(s.scalars(select(Person.full_name).order_by(Person.id).limit(8)))
    size = 3  # fewer than the shortlist, so that the pre-rank chooses (and ties cross its edge)
    chose = 0
    with unit_of_work(engine) as s:
        for name in [*names, *(n.split()[0] for n in names)]:
            query = MatchRecord(None, name)
            assert matcher._ranks_by_keys_alone(query)
            found = shortlist_query(s, query, "p", 2000)
            if found is None:
                continue
            stmt, params = found
            full = reader(s).execute(with_persons_stmt(stmt), params).all()
            short = reader(s).execute(stmt, params).all()
            assert [r[0] for r in short] == [r[0] for r in full]  # no record erased: the same rows
            if len(full) <= size:
                continue
            # The pre-rank as computed from every row's columns (birth range, sex).
            facts = [matcher._row_facts(r[2], r[3], r[4], r[5]) for r in full]
            rank = prerank(
                query,
                np.array([r[1] for r in full], dtype=np.float32),
                np.array([f[0] for f in facts], dtype=np.int32),
                np.array([f[1] for f in facts], dtype=np.int32),
                np.array([f[2] for f in facts], dtype=np.int8),
            )
            # The best first, of equal ranks the lowest ids (at the cut too), as the in-memory index chooses.
            expected = [full[i][0] for i in np.lexsort(([r[0] for r in full], -rank))[:size]]
            assert [r[0] for r in matcher._prerank(query, short, size)] == expected, name
            chose += 1
    assert chose >= 4
    # An erasure deletes the record's keys with it: the shortlist alone still holds only records there are.
    before = _results(engine, names[0], cached=True)
    with unit_of_work(engine) as s:
        other = s.scalar(select(Person).where(Person.full_name != names[0]).order_by(Person.id))
        assert other is not None
        erasure.erase_record(s, ACTOR, other, "test")
    with unit_of_work(engine) as s:
        assert not s.scalars(
            select(MatchKey).where(MatchKey.entity == "p", MatchKey.entity_id == other.id)
        ).all()
        for name in names:
            found = shortlist_query(s, MatchRecord(None, name), "p", 2000)
            if found is not None:
                stmt, params = found
                full = reader(s).execute(with_persons_stmt(stmt), params).all()
                assert [r[0] for r in reader(s).execute(stmt, params).all()] == [r[0] for r in full]
    after = _results(engine, names[0], cached=True)
    assert [r[0] for r in after if r[0] != other.source_record_id] == [
        r[0] for r in before if r[0] != other.source_record_id
    ]


def test_a_searchs_key_sizes_kept_between_searches_give_what_counting_them_gives(
    engine: Engine, tmp_path: Path
) -> None:
    """The shortlist's key sizes a server keeps between searches (counting a common name's key reads up to
    MAX_POSTING entries, which grow with the registry): the same candidates, probabilities and reasons as
    counting them at each search; each key counted once while the registry is unchanged, afresh after."""

    _generated(engine, tmp_path)
    with unit_of_work(engine) as s:
        names = list(s.scalars(select(Person.full_name).order_by(Person.id).limit(12)))
    queries = [*names, *(n.split()[0] for n in names)]
    # Counted alone, or with the postings (`shortlist.shortlist_rows_of`).
    counting = re.compile(r"AS \W?key\W?, (\(SELECT count\(\*\)|count\(\*\) AS \W?n\W?, (array_agg|CASE))")

    def counted_in(work: Callable[[], object]) -> list[str]:  # (on PostgreSQL some read by the driver)
        return [st for st, _ in statements_run(engine, work, lambda st: bool(counting.search(st)))]

    def by_both() -> None:
        for name in queries:
            assert _results(engine, name, cached=True) == _results(engine, name, cached=False), name

    def again() -> None:
        for name in queries:  # asked again, its results not kept: the shortlist is read, its sizes known
            with unit_of_work(engine) as s:
                scorer = matcher.search_scorer(s, MODEL)
                scorer.memos.get("results", {}).clear()
                matcher.search(s, MatchRecord(None, name), model=MODEL, limit=5, scorer=scorer)

    assert counted_in(by_both)  # the sizes were counted (by both)
    with unit_of_work(engine) as s:
        assert matcher.search_scorer(s, MODEL).memos[matcher.SHORTLIST_SIZES]  # and kept by the cached one
    assert counted_in(again) == []
    # A record under the first name: its keys change the sizes, which are counted afresh.
    _import(engine, tmp_path, "late", [{"record_id": "L-1", "full_name": names[0]}], key=True)
    assert counted_in(by_both)
    assert "L-1" in [r[0] for r in _results(engine, names[0], cached=True)]


def test_the_shortlist_counted_from_its_postings_text_is_the_statements(
    engine: Engine, tmp_path: Path
) -> None:
    """`shortlist_rows` (the postings as one value: SQLite's text, PostgreSQL's array, counted and ordered in
    numpy) gives the rows the shortlist statement gives, in its order and cut at its limit, ties of keys
    shared included."""

    from kinlink.store import shortlist
    from kinlink.store.match_records import reader
    from kinlink.store.shortlist import shortlist_query, shortlist_rows

    _generated(engine, tmp_path)
    with unit_of_work(engine) as s:
        names = list(s.scalars(select(Person.full_name).order_by(Person.id).limit(20)))
    compared = 0
    # Postings kept between searches (`PostingsMemo`), and kept in too little room: read again as they go.
    memo, small = shortlist.PostingsMemo(), shortlist.PostingsMemo()
    small.MOST = 50
    with unit_of_work(engine) as s:
        for name in [*names, *(n.split()[0] for n in names), "Zzyzx Qqq"]:
            for limit in (2000, 5, 1):
                found = shortlist_query(s, MatchRecord(None, name), "p", limit)
                if found is None:
                    continue
                stmt, params = found
                want = [(r[0], r[1]) for r in reader(s).execute(stmt, params)]
                assert shortlist_rows(s, stmt, params) == want, (name, limit)
                for kept in (memo, memo, small, small):  # read and kept, then from the memo
                    assert shortlist_rows(s, stmt, params, kept) == want, (name, limit)
                compared += len(want) > 1
                # Another thread of the server building the same statement meanwhile (a cold cache, or
                # one emptied) makes an equal statement, not this one: it is read all the same.
                shortlist._postings_stmt.cache_clear()
                shortlist._narrowest_stmt.cache_clear()
                assert shortlist_rows(s, stmt, params) == want, (name, limit)
    assert compared >= 20
    assert memo.items and small.held <= small.MOST


def test_a_search_shortlists_the_records_the_in_memory_index_shortlists(
    engine: Engine, tmp_path: Path
) -> None:
    """Of equal pre-ranks at the shortlist's cut the lowest record ids go in, from the database as from the
    in-memory index (and Spark, which uses it): a caseworker's search and a batch run score the same
    records. Queries with a birth and sex as well as names alone; a small size, so that ties cross the cut."""
    from dataclasses import replace

    from kinlink.store.match_records import person_records, reader
    from kinlink.store.shortlist import shortlist_query, with_persons_stmt
    from kinlink.tracing.batch import build_index

    # Namesakes by the hundred (a common family name, few given names): long shortlists, many ties.
    given = ["Іван Петрович", "Олег Іванович", "Тарас", "Марія Олегівна", "Петро", "Олена"]
    namesakes = [
        {
            "record_id": f"K-{i}",
            "full_name": f"Коваленко {given[i % len(given)]}",
            "sex": "f" if given[i % len(given)][-1] in "аі" else "m",
            **({"birth_date": str(1975 + i % 25)} if i % 3 else {}),
        }
        for i in range(240)
    ]
    _generated(engine, tmp_path, 600, *namesakes)
    with unit_of_work(engine) as s:
        index = build_index(s, MODEL)
        records = list(person_records(s))
    stored = records[:40] + records[-30:]
    queries = [replace(r, id=None) for r in stored]
    queries += [MatchRecord(None, r.name) for r in stored]
    queries += [MatchRecord(None, r.name.split()[0]) for r in stored]
    queries += [
        MatchRecord(None, name, sex=sex, birth_date=str(year))
        for name in ("Коваленко", "Коваленко Олена", "Kovalenko Ivan")
        for sex in ("m", "f", None)
        for year in (1976, 1988, 1999)
    ]
    size, crossed = 4, 0
    with unit_of_work(engine) as s:
        for query in queries:
            in_memory = [index.record(int(row)).id for row in index.shortlist(query, size)]
            found = shortlist_query(s, query, "p", 2000)
            if found is None:
                assert in_memory == []
                continue
            rows = reader(s).execute(with_persons_stmt(found[0]), found[1]).all()
            from_db = [r[0] for r in matcher._prerank(query, rows, size)]
            if len(rows) <= size:  # nothing to choose: the same records
                assert sorted(from_db) == sorted(in_memory), query.name
                continue
            assert from_db == in_memory, query.name
            crossed += 1
    assert crossed >= 25


def test_a_search_looks_up_its_text_and_reads_its_rows_in_one_statement(engine: Engine) -> None:
    """A search's lookups by record id or service number and by the start of a name, and the listed rows of
    what it found, are one statement (one round trip on PostgreSQL, issue 19); the statements a search
    sends are counted, so that one more cannot come back unnoticed. The results are those of the matcher
    and of the lookups, filtered by status."""
    _demo(engine)
    with unit_of_work(engine) as s:  # the counts and the scorer kept, as a server's after its first search
        search_records(s, ACTOR, "test", "Марков Георгий", model=MODEL, limit=10)

    def one(query: str, status: str | None = None) -> list[tuple[str, float | None]]:
        with unit_of_work(engine) as s:
            hits = search_records(s, ACTOR, "test", query, model=MODEL, status=status, limit=10)
            return [(h.person.source_record_id, h.probability) for h in hits]

    # (As the driver runs them: on SQLite the found-lookup is run by the driver, store.driver.DriverRead.)
    sent = sent_statements(
        engine, lambda: one("Leonid Paktishev"), lambda statement: True, warm=lambda: one("Марков Георгий")
    )
    rows = [st for st, _ in sent if re.match(r"SELECT persons.id, (?!persons.version)", st.split("FROM")[0])]
    assert len(rows) == 1, [st[:100] for st in rows]  # the matcher's rows of the records it chose
    assert len([st for st, _ in sent if "found.pid" in st]) == 1  # the lookups with the listed rows
    # Besides: the stamp, the name counts, the shortlist's postings, the chosen records' versions, their
    # other names and captures, a note's key count; then the audit entry: take (and read) a chain's head,
    # append to it, set it (the last two in one statement on PostgreSQL).
    # The name's key sizes, not known yet, are counted with the shortlist's postings (both stores); on
    # PostgreSQL the records' other names and captures are read with their rows.
    postgresql = engine.dialect.name == "postgresql"
    reads, audit = (6, 2) if postgresql else (7, 3)
    assert len(sent) == reads + audit, [" ".join(st.split())[:100] for st, _ in sent]
    assert one("Leonid Paktishev")[0][0] == "RU-0000"
    assert ("RU-0001", None) in one("RU-0001")  # by its record id
    with unit_of_work(engine) as s:
        status = s.scalar(select(Person.status).where(Person.source_record_id == "RU-0001"))
    assert ("RU-0001", None) in one("RU-0001", status=status)
    assert one("RU-0001", status="no such status") == []
