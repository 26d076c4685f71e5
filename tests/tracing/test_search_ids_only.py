"""A staff list's search (`matcher.search(..., reasons=False, ids_only=True)`, issue 19): for a query of names
alone that settles the note (a given name or patronymic in it), no record is read whole, and each hit's id,
probability, weight and note are those of the records read whole; a family name alone, whose note names the
record's other fields, reads them whole as before."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from kinlink.matching import names_bridge as nb
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import Prepared, TermFrequencies
from kinlink.store import match_keys
from kinlink.store.db import unit_of_work
from kinlink.tracing import matcher, prepared
from tests.support import add_record
from tests.tracing.test_search_by_names import QUERIES, _cold, _demo, _reads_by_id

ACTOR = "test:ids-only"
MODEL = load_model()

_FAMILIES = ["Иванов", "Иванова", "Попов", "Popov", "Пактышев", "Paktyshev"]
_GIVENS = ["Дмитрий", "Дарья", "Dmitrii", "Леонид", "Д.", ""]
_PATRONYMICS = ["Андреевич", "Андреевна", "Andreevich", "А.", ""]


def _tf() -> TermFrequencies:
    """Name counts in which every family name is shared (the namesakes note needs two or more)."""
    tf = TermFrequencies()
    for n, (f, g) in enumerate((f, g) for f in _FAMILIES for g in _GIVENS):
        parsed = nb.parse(" ".join(w for w in (f, g, _PATRONYMICS[n % 5]) if w))
        tf.add(nb.tf_keys_parsed(parsed))
    return tf


_SCORER = Scorer(MODEL, _tf())


def _name(family: str, given_name: str, patronymic: str) -> str:
    return " ".join(w for w in (family, given_name, patronymic) if w)


def _light(scorer: Scorer, record: MatchRecord) -> Prepared:
    """The record as `by_names` completes it for an ids-only search: from its names, no other value."""
    _r, names, _v, tf_keys = prepared._from_names(scorer, record.all_names)
    return Prepared(None, names, (None,) * len(scorer.model.comparisons), tf_keys)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    q=st.tuples(st.sampled_from(_FAMILIES), st.sampled_from(_GIVENS), st.sampled_from(_PATRONYMICS)),
    r=st.tuples(st.sampled_from(_FAMILIES), st.sampled_from(_GIVENS), st.sampled_from(_PATRONYMICS)),
    other=st.sampled_from([(), ("Dmitrii Popov",), ("Попов Д.",)]),
    sex=st.sampled_from([None, "m", "f"]),
    birth=st.sampled_from([None, "1981", "1985-03-02"]),
    unit=st.sampled_from([None, "200-я отдельная бригада"]),
    rank=st.sampled_from([None, "рядовой"]),
    place=st.sampled_from([None, "Москва"]),
)
def test_a_record_prepared_from_its_names_scores_as_whole_where_the_query_settles_the_note(
    q: tuple[str, str, str],
    r: tuple[str, str, str],
    other: tuple[str, ...],
    sex: str | None,
    birth: str | None,
    unit: str | None,
    rank: str | None,
    place: str | None,
) -> None:
    query = MatchRecord(None, _name(*q))
    record = MatchRecord(
        7, _name(*r), other, sex=sex, birth_date=birth, unit=unit, rank=rank, place_of_birth=place
    )
    pq = _SCORER.prepare(query)
    whole = _SCORER.score(pq, _SCORER.prepare(record), reasons=False)
    if not _SCORER.may_note(pq):
        light = _SCORER.score(pq, _light(_SCORER, record), reasons=False)
        assert (light.probability, light.weight, light.note) == (whole.probability, whole.weight, whole.note)
        assert whole.note is None
    else:  # a family name alone, or no name at all
        assert not (nb.has_part(pq.parsed(), "given") or nb.has_part(pq.parsed(), "patronymic"))


def test_the_note_of_a_family_name_alone_names_the_records_other_fields() -> None:
    """Why a family name alone is still read whole: its note reads the record's other values."""
    pq = _SCORER.prepare(MatchRecord(None, "Иванов"))
    assert _SCORER.may_note(pq)
    bare = MatchRecord(7, "Иванов Дмитрий Андреевич")
    born = MatchRecord(7, "Иванов Дмитрий Андреевич", birth_date="1981-02-03", unit="200-я отдельная бригада")
    notes = [_SCORER.score(pq, _SCORER.prepare(rec), reasons=False).note for rec in (bare, born)]
    assert notes[0] is not None and notes[1] is not None and notes[0] != notes[1]
    assert _SCORER.score(pq, _light(_SCORER, born), reasons=False).note == notes[0]  # not born's


def _lists(engine: Engine, ids_only: bool) -> list[object]:
    out: list[object] = []
    with unit_of_work(engine) as s:
        scorer = matcher.search_scorer(s, MODEL)
        for name in QUERIES:
            for limit, floor in ((1, 0.0), (3, 0.01), (10, 0.0), (10, 0.5), (60, 0.01)):
                hits = matcher.search(
                    s,
                    MatchRecord(None, name),
                    model=MODEL,
                    limit=limit,
                    scorer=scorer,
                    min_probability=floor,
                    reasons=False,
                    ids_only=ids_only,
                )
                out.append([(int(rec.id), sc.probability, sc.weight, sc.note) for rec, sc in hits])  # type: ignore[arg-type]
    return out


def test_an_ids_only_search_gives_the_ids_probabilities_and_notes_of_a_full_one(engine: Engine) -> None:
    _demo(engine)
    with unit_of_work(engine) as s:  # namesakes of a family name, some with other fields: notes
        for n, given_name in enumerate(("Пётр", "Иван Петрович", "", "Г.")):
            fields = {"full_name": f"Громов {given_name}".strip()}
            if n % 2:
                fields |= {"unit": f"{n}-я бригада", "birth_date": f"198{n}"}
            add_record(s, ACTOR, fields)
        match_keys.ensure_keys(s)
    _cold()
    want = _lists(engine, False)
    assert any(want) and any(sc[3] is not None for hits in want for sc in hits)  # type: ignore[attr-defined, index]
    _cold()
    assert _lists(engine, True) == want  # cold
    assert _lists(engine, True) == want  # warm (and the results kept per scorer are not shared)
    prepared.PREPARED.clear()
    assert _lists(engine, True) == want  # named but not whole
    _cold()
    assert _lists(engine, True) == want
    assert _lists(engine, False) == want  # after the ids-only ones, the full ones as before


def test_an_ids_only_search_of_a_given_name_reads_no_record_whole(engine: Engine) -> None:
    """The versions and names in one statement, and nothing more; a family name alone still reads the
    records it scores whole (its note names their other fields)."""
    _demo(engine)
    given_names = ("Андрей", "Борис", "Виктор", "Дмитрий", "Евгений")
    with unit_of_work(engine) as s:
        for n in range(15):
            name = f"Марков {'Георгий' if n % 5 == 0 else given_names[n % 5]} {given_names[n // 5]}ович"
            add_record(s, ACTOR, {"full_name": name, "unit": f"{n}-я бригада"})
        match_keys.ensure_keys(s)
    found: list[list[int]] = []

    def search(name: str, ids_only: bool) -> None:
        with unit_of_work(engine) as s:
            hits = matcher.search(
                s,
                MatchRecord(None, name),
                model=MODEL,
                limit=3,
                scorer=matcher.search_scorer(s, MODEL),
                min_probability=0.01,
                reasons=False,
                ids_only=ids_only,
            )
        found.append([int(r.id) for r, _sc in hits])  # type: ignore[arg-type]

    for name in ("Марков Георгий", "Марков"):
        _cold()
        full = _reads_by_id(engine, lambda name=name: search(name, False))
        _cold()
        light = _reads_by_id(engine, lambda name=name: search(name, True))
        assert found[-1] == found[-2] and found[-1]
        assert full[0] == light[0] and full[0][0].endswith("person_names.full_name AS other")
        assert len(full) > 1  # the records scored, read whole
        assert light == (full[:1] if name == "Марков Георгий" else full)
