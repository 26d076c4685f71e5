"""The pure matching core: model file, comparators, scoring with explanations, index, clustering."""

from __future__ import annotations

import gc
import pickle
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest

from kinlink.matching import index_build
from kinlink.matching.cluster import Link, cluster
from kinlink.matching.comparators import birth_range, range_gap
from kinlink.matching.index import CandidateIndex, gc_paused
from kinlink.matching.model import ModelError, load_model, model_from_dict, save_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import TermFrequencies
from kinlink.matching.searcher import search_many

MODEL = load_model()


def _d(r: tuple[int, int]) -> tuple[str, str]:
    return date.fromordinal(r[0]).isoformat(), date.fromordinal(r[1]).isoformat()


def test_age_at_a_date_becomes_a_birth_range() -> None:
    assert _d(birth_range(None, 28, "2022-02-27")) == ("1993-02-28", "1994-02-27")  # type: ignore[arg-type]
    # An age stated in a month: the range widens by the month's uncertainty.
    assert _d(birth_range(None, 28, "2022-02")) == ("1993-03-01", "1994-02-01")  # type: ignore[arg-type]
    assert _d(birth_range("1993")) == ("1993-01-01", "1993-12-31")  # type: ignore[arg-type]
    assert _d(birth_range("1992", birth_year_to=1994)) == ("1992-01-01", "1994-12-31")  # type: ignore[arg-type]
    assert birth_range(None, None, None) is None
    assert birth_range("not a date") is None
    assert range_gap(birth_range("1993"), birth_range(None, 28, "2022-02-27")) == 0  # type: ignore[arg-type]
    assert range_gap(birth_range("1990"), birth_range("1993")) == 732  # type: ignore[arg-type]


def test_model_file_round_trips_and_rejects_bad_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.json"
    save_model(MODEL, path)
    again = load_model(path)
    assert again.to_dict() == MODEL.to_dict()
    bad = MODEL.to_dict()
    bad["comparisons"][0]["levels"][0]["m"] = 0
    with pytest.raises(ModelError):
        model_from_dict(bad)
    no_else = MODEL.to_dict()
    no_else["comparisons"][0]["levels"] = no_else["comparisons"][0]["levels"][:1]
    with pytest.raises(ModelError):
        model_from_dict(no_else)


def _scorer(records: list[MatchRecord]) -> Scorer:
    from kinlink.matching import names_bridge as nb

    tf = TermFrequencies()
    for r in records:
        tf.add(nb.tf_keys(r.name))
    return Scorer(MODEL, tf)


def test_paktishev_request_scores_high_with_reasons_per_field() -> None:
    record = MatchRecord(
        1, "ПАКТЫШЕВ Леонид Андреевич", ("Leonid Paktishev",), sex="m", age=28, age_as_of="2022-02-27"
    )
    query = MatchRecord(None, "Пактышев Леонид Андреевич", birth_date="1993")
    s = _scorer([record])
    scored = s.score(s.prepare(query), s.prepare(record))
    assert scored.probability > 0.9
    expl = scored.explanation()
    assert expl["family_name"]["level"] == "exact"
    assert expl["patronymic"]["level"] == "exact"
    assert expl["birth"]["level"] == "same_year"
    assert expl["birth"]["weight"] > 0
    assert "1993" in expl["birth"]["text"]
    # Missing on one side: neutral, and said so.
    assert expl["unit"]["level"] is None and expl["unit"]["weight"] == 0


def test_a_different_birth_year_outweighs_a_shared_common_name() -> None:
    a = MatchRecord(1, "Иванов Иван Иванович", birth_date="1980-03-01", sex="m")
    b = MatchRecord(2, "Иванов Иван Иванович", birth_date="1990-07-12", sex="m")
    s = _scorer([a, b])
    scored = s.score(s.prepare(a), s.prepare(b))
    assert scored.probability < 0.05
    assert scored.explanation()["birth"]["level"] == "different"


def test_a_rare_family_name_is_stronger_evidence_than_a_common_one() -> None:
    common = [
        MatchRecord(i, f"Иванов {g} Петрович") for i, g in enumerate(["Иван", "Олег", "Пётр", "Павел"] * 50)
    ]
    rare = MatchRecord(999, "Пактышев Олег Петрович")
    s = _scorer([*common, rare])
    w_common = s.score(s.prepare(MatchRecord(None, "Иванов Олег")), s.prepare(common[1])).explanation()
    w_rare = s.score(s.prepare(MatchRecord(None, "Пактышев Олег")), s.prepare(rare)).explanation()
    assert w_common["family_name"]["level"] == w_rare["family_name"]["level"] == "exact"
    assert w_rare["family_name"]["weight"] > w_common["family_name"]["weight"] + 0.5
    assert "share it" in w_rare["family_name"]["text"]


def _population() -> list[MatchRecord]:
    people = []
    givens = ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей"]
    families = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев"]
    n = 0
    for f in families:
        for g in givens:
            for year in (1985, 1990, 1995, 2000):
                n += 1
                people.append(
                    MatchRecord(n, f"{f} {g} Сергеевич", sex="m", birth_date=f"{year}-0{n % 9 + 1}-1{n % 9}")
                )
    people.append(
        MatchRecord(
            500, "ПАКТЫШЕВ Леонид Андреевич", ("Leonid Paktishev",), sex="m", age=28, age_as_of="2022-02-27"
        )
    )
    people.append(MatchRecord(501, "Пактусов Леонид Андреевич", sex="m", birth_date="1971-05-05"))
    return people


def test_index_finds_rare_name_without_birth_year_and_transliterated() -> None:
    index = CandidateIndex.build(MODEL, _population())
    for query in (MatchRecord(None, "Пактышев Леонид"), MatchRecord(None, "Leonid Paktyshev")):
        hits = index.search(query, limit=3)
        assert hits and hits[0].record.id == 500
        assert hits[0].scored.probability > 0.5
        assert all(h.scored.probability <= hits[0].scored.probability for h in hits)


def test_index_answers_one_query_from_postings_not_a_scan() -> None:
    index = CandidateIndex.build(MODEL, _population())
    rows = index.shortlist(MatchRecord(None, "Пактышев Леонид"), size=30)
    # Only records sharing a key come back: none of the hundred common names.
    assert {index.record(int(r)).id for r in rows} <= {500, 501}
    assert len(index.shortlist(MatchRecord(None, "Zzyzx Qwerty"))) == 0


def test_index_found_by_service_number_alone() -> None:
    people = [*_population(), MatchRecord(777, "Кузьмин Пётр Ильич", service_number="AB-123456")]
    index = CandidateIndex.build(MODEL, people)
    hits = index.search(MatchRecord(None, "Kuzmin P.", service_number="ab 123456"), limit=1)
    assert hits[0].record.id == 777
    assert hits[0].scored.explanation()["service_number"]["level"] == "exact"


def test_batch_and_single_query_give_the_same_answers() -> None:
    index = CandidateIndex.build(MODEL, _population())
    queries = [
        MatchRecord(None, f"{f} Сергей", birth_date="1990") for f in ("Иванов", "Попов", "Пактышев")
    ] * 100
    single = [index.search(q, limit=3) for q in queries]
    batch = list(search_many(index, queries, limit=3, processes=2))
    # The whole hits, as the workers pickled them back (record, probability, weight, evidence, note).
    assert batch == single
    assert [[(h.record.id, h.scored.probability) for h in hits] for hits in batch] == [
        [(h.record.id, h.scored.probability) for h in hits] for hits in single
    ]
    hit = single[0][0]
    again = pickle.loads(pickle.dumps(hit))
    assert (
        again == hit and again.scored.evidence == hit.scored.evidence and again.scored.note == hit.scored.note
    )


def test_searching_leaves_no_reference_cycles() -> None:
    # A batch's workers freeze what each task leaves (kinlink.matching.searcher): a cycle would outlive
    # its search until the worker ends. Searches, single and explained, leave none for the collector.
    index = CandidateIndex.build(MODEL, _population())
    queries = [MatchRecord(None, f"{f} Сергей", birth_date="1990") for f in ("Иванов", "Попов", "Пактышев")]
    gc.collect()
    with gc_paused():
        for q in queries * 3:
            index.search(q, limit=3)
            index.search(q, limit=1, min_probability=0.5)
        assert gc.collect() == 0


@pytest.mark.parametrize("processes", [2, 3])
def test_an_index_built_in_worker_processes_is_the_one_built_in_process(
    monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    # Many build blocks, so that the workers' pieces are put together in order, and each worker sends
    # values an earlier piece of its own held by number (`index_build.Sender`). Records are routed to the
    # workers by name (`index_build.route`): a block's values and postings come from several workers,
    # interleaved, and are numbered and merged as one process would have them.
    monkeypatch.setattr(index_build, "_BUILD_CHUNK", 300)
    people = [replace(r, id=copy * 1000 + i) for copy in range(25) for i, r in enumerate(_population())]
    alone = CandidateIndex.build(MODEL, people)
    forked = CandidateIndex.build(MODEL, people, processes=processes)
    assert np.array_equal(alone.rows, forked.rows) and np.array_equal(alone.offsets, forked.offsets)
    assert np.array_equal(alone._key_hash, forked._key_hash)
    assert np.array_equal(alone._row_codes, forked._row_codes)
    assert [o.tolist() for o in alone._row_objects] == [o.tolist() for o in forked._row_objects]
    for a, b in zip(_columns(alone), _columns(forked), strict=True):
        assert a.values == b.values and a.codes == b.codes
    assert [list(t.items()) for t in alone.tf.counts.values()] == [
        list(t.items()) for t in forked.tf.counts.values()
    ]
    assert [alone.record(r) for r in range(len(alone))] == [forked.record(r) for r in range(len(forked))]
    assert [alone.parsed_names(r) for r in range(len(alone))] == [
        forked.parsed_names(r) for r in range(len(forked))
    ]
    for key in ("f:PKTSV", "gp:leonid|andrei", "no such key"):  # Пактышев and Пактусов: 2 x 25
        assert np.array_equal(alone.posting(key), forked.posting(key))
    assert len(alone.posting("f:PKTSV")) == 50 and len(alone.posting("no such key")) == 0
    q = MatchRecord(None, "Пактышев Леонид", age=28, age_as_of="2022-02-27")
    assert [(h.row, h.scored.weight) for h in alone.search(q, limit=5)] == [
        (h.row, h.scored.weight) for h in forked.search(q, limit=5)
    ]


@pytest.mark.parametrize("processes", [1, 2])
def test_a_record_that_cannot_be_indexed_fails_the_build_in_workers_as_in_process(processes: int) -> None:
    # A worker's error comes back to the building process and is raised there: the build neither hangs
    # nor leaves its workers behind.
    bad = [MatchRecord(i, "Иванов Иван", other_names=(5,)) for i in range(50)]  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        CandidateIndex.build(MODEL, bad, processes=processes)


def _columns(index: CandidateIndex) -> list[Any]:
    cols = (*index._cols.values(), *index._parsed.values(), *index._tf_cols, *index._value_cols)
    return [index._service, *cols]


def test_clusters_follow_strong_links_and_respect_rejections() -> None:
    links = [
        Link(1, 2, 0.99, ref="a"),
        Link(2, 3, 0.97, ref="b"),
        Link(3, 4, 0.5, ref="weak"),
        Link(5, 6, 0.2, state="confirmed", ref="c"),
        # 7-8 rejected by a caseworker: a chain through 9 must not join them.
        Link(7, 8, 0.99, state="rejected"),
        Link(7, 9, 0.99),
        Link(9, 8, 0.98),
    ]
    got = {frozenset(c.members): {lk.ref for lk in c.evidence} for c in cluster(links, threshold=0.95)}
    assert got[frozenset({1, 2, 3})] == {"a", "b"}
    assert frozenset({5, 6}) in got
    assert frozenset({7, 9}) in got
    assert not any({7, 8} <= set(m) for m in got)


def test_pruned_search_returns_what_scoring_every_candidate_would() -> None:
    index = CandidateIndex.build(MODEL, _population())
    queries = [
        MatchRecord(None, "Иванов Сергей", birth_date="1990-03-13"),
        MatchRecord(None, "Smirnov Aleksandr", birth_date="1995"),
        MatchRecord(None, "Кузнецов Андрей Сергеевич"),
        MatchRecord(None, "Пактышев Леонид", age=28, age_as_of="2022-02-27"),
        # Settled before the family names: the given name and patronymic rule most candidates out.
        MatchRecord(None, "Попов Дмитрий Андреевич", sex="m", birth_date="2000"),
        MatchRecord(None, "Leonid Andreevich Paktyshev"),
    ]
    for q in queries:
        for limit in (1, 3):
            for floor in (0.0, 0.5):
                rows = index.shortlist(q, 30).tolist()
                prepared = index.scorer.prepare(q)
                scored = [(index.score_rows_for(prepared, r), r) for r in rows]
                full = sorted(
                    ((s.weight, r) for s, r in scored if s.probability >= floor), key=lambda t: (-t[0], t[1])
                )[:limit]
                got = [(h.scored.weight, h.row) for h in index.search(q, limit=limit, min_probability=floor)]
                assert got == full


def test_bounds_remembered_by_their_keys_are_the_bounds_worked_out_afresh() -> None:
    """A scorer remembers name bounds and settled bounds by the keys they follow from (issue 19): each
    pair's, asked of a scorer that has seen many pairs, is the float a new scorer works out for it alone."""
    records = _population()
    records += [
        MatchRecord(600, "Попов Д. А."),
        MatchRecord(601, "Dmitrii Popov"),
        MatchRecord(602, "Сергеевич"),
        MatchRecord(603, "Кузнецова Мария Сергеевна", sex="f"),
    ]
    queries = [
        MatchRecord(None, "Попов Дмитрий Андреевич"),
        MatchRecord(None, "Смирнов Сергей", birth_date="1990"),
        MatchRecord(None, "Иванов А. С."),
        MatchRecord(None, "Leonid Paktyshev"),
    ]
    shared = _scorer(records)
    for q in queries:
        for r in records:
            memo_q, memo_r = shared.prepare(q), shared.prepare(r)
            others = shared.others(memo_q, memo_r)
            got = (shared.settled_bound(memo_q, memo_r, others), shared.bound(memo_q, memo_r, others))
            fresh = Scorer(MODEL, shared.tf)
            new_q, new_r = fresh.prepare(q), fresh.prepare(r)
            assert got == (fresh.settled_bound(new_q, new_r, others), fresh.bound(new_q, new_r, others))


def test_best_without_reasons_gives_the_same_candidates_probabilities_and_notes() -> None:
    """A staff search's list shows no reasons: scored without them, all else is as with them."""
    records = _population()
    scorer = _scorer(records)
    prepared = [scorer.prepare(r) for r in records]
    for name in ("Попов", "Попов Дмитрий", "Leonid Paktyshev", "Иванов А. С."):
        q = scorer.prepare(MatchRecord(None, name))
        full = scorer.best(q, prepared, 10, 0.01)
        bare = scorer.best(q, prepared, 10, 0.01, reasons=False)
        assert [(n, s.probability, s.weight, s.note) for n, s in full] == [
            (n, s.probability, s.weight, s.note) for n, s in bare
        ]
        assert full and all(s.evidence for _n, s in full) and not any(s.evidence for _n, s in bare)
    assert any(
        s.note is not None for _n, s in scorer.best(scorer.prepare(MatchRecord(None, "Попов")), prepared, 3)
    )


def test_index_finds_a_misspelt_family_name_written_with_initials() -> None:
    # A report's "Боховичев А.Ф." for Боровичев Андрей Фомич: the query's typo keys meet the record's.
    people = [*_population(), MatchRecord(600, "БОРОВИЧЕВ Андрей Фомич", sex="m", birth_date="1990")]
    index = CandidateIndex.build(MODEL, people)
    rows = index.shortlist(MatchRecord(None, "Боховичев А.Ф."), size=30)
    assert 600 in {index.record(int(r)).id for r in rows}


def test_index_finds_a_name_written_in_an_oblique_case() -> None:
    # Copied from a sentence: genitive, instrumental, dative with patronymic; found as the nominative.
    index = CandidateIndex.build(MODEL, _population())
    for text in ("Леонида Андреевича Пактышева", "Леонидом Пактышевым", "Леониду Пактышеву"):
        hits = index.search(MatchRecord(None, text), limit=3)
        assert hits and hits[0].record.id == 500, text
        assert hits[0].scored.probability > 0.5, text


def test_index_finds_a_double_barrelled_family_name_by_either_name_and_a_maiden_name() -> None:
    people = [
        *_population(),
        MatchRecord(600, "ЛИСЕНКО-КОВАЛЬ Олена Петрівна", sex="f"),
        MatchRecord(601, "ДОРОШ Марія Іванівна", ("ТКАЧЕНКО Марія Іванівна",), sex="f"),
    ]
    index = CandidateIndex.build(MODEL, people)
    for text, rid in (
        ("Олена Коваль", 600),
        ("Olena Lysenko", 600),
        ("Коваль Лисенко Олена", 600),
        ("Марія Ткаченко-Дорош", 601),
    ):
        hits = index.search(MatchRecord(None, text), limit=3)
        assert hits and hits[0].record.id == rid, text
        assert hits[0].scored.probability > 0.5, (text, hits[0].scored.probability)


# Names that settle their given name and patronymic before the family names are compared, and some that
# do not (an order guessed, several names, a declined name, a double-barrelled or missing family name).
_SETTLING = [
    "Попов Дмитрий Андреевич",
    "Попова Дарья Андреевна",
    "Popov Dmitrii",
    "Попов Д. А.",
    "Дмитрий Андреевич Попов",
    "Поповым Дмитрием Андреевичем",
    "Римский-Корсаков Николай Андреевич",
    "Корсаков Николай",
    "Дмитрий Андреевич",
    "Сергеевич",
    "Popov",
    "Пактышев Леонид Андреевич",
    "Paktyshev Leonid",
]


def test_a_settled_pair_scored_by_its_family_names_alone_weighs_what_the_whole_names_do() -> None:
    """The search scores a pair whose given name and patronymic are settled by comparing its family names
    alone (issue 19): the weight is `score`'s, to the last bit, for every kind of name pair."""
    records = [MatchRecord(i, n) for i, n in enumerate(_SETTLING)]
    records.append(MatchRecord(99, "Попов Дмитрий", ("Dmitrii Popov",)))
    scorer = _scorer(records)
    settled_pairs = 0
    for q in records:
        for r in records:
            pq, pr = scorer.prepare(q), scorer.prepare(r)
            others = scorer.others(pq, pr)
            settled_pairs += scorer.settled_bound(pq, pr, others) is not None
            assert scorer.settled_score(pq, pr, others) == scorer.score(pq, pr, explain=False).weight
    assert settled_pairs > len(records) ** 2 // 2


def test_a_shortlist_weighed_column_by_column_weighs_what_each_candidate_does() -> None:
    """The index bounds its shortlist from each comparison's column (`Scorer.others_weights`), preparing
    no candidate: each weight is the one `others` gives the candidate prepared alone."""
    index = CandidateIndex.build(MODEL, _population())
    queries = [
        MatchRecord(None, "Иванов Сергей", birth_date="1990-03-13", sex="m"),
        MatchRecord(None, "Пактышев Леонид", age=28, age_as_of="2022-02-27"),
        MatchRecord(None, "Попов Дмитрий"),
    ]
    for query in queries:
        q = index.scorer.prepare(query)
        rows = index.shortlist(query, 30)
        prepared = index._prepared_rows(rows)
        codes = index._row_codes[rows].tolist()
        assert index.scorer.others_weights(q, codes, index._row_lists) == [
            index.scorer.others(q, p).weight for p in prepared
        ]
        assert len(rows) > 1


def test_levels_remembered_by_the_features_they_test_are_the_levels_worked_out_afresh() -> None:
    """A scorer remembers a comparison's level by the features its levels test (a birth range's gap and
    width): each pair's other fields, weighed by a scorer that has seen many pairs, weigh what a new
    scorer finds for that pair alone, and explain the same levels."""
    births = ["1990", "1990-03", "1990-03-13", "1990-03-14", "1991-03-13", "1993", "1989-12-31", None]
    records = [
        MatchRecord(i, "Попов Дмитрий", birth_date=b, sex=s, service_number=sn)
        for i, (b, s, sn) in enumerate(
            (b, s, sn) for b in births for s in ("m", "f", None) for sn in ("AB-123456", "AB-123457", None)
        )
    ]
    records.append(MatchRecord(900, "Попов Дмитрий", age=28, age_as_of="2022-02-27"))
    shared = _scorer(records)
    for q in records:
        for r in records:
            fresh = Scorer(MODEL, shared.tf)
            got = shared.others(shared.prepare(q), shared.prepare(r))
            want = fresh.others(fresh.prepare(q), fresh.prepare(r))
            assert (got.weight, [c[:3] for c in got.compared]) == (
                want.weight,
                [c[:3] for c in want.compared],
            )
