"""An index's search settles and weighs its candidates from their columns, without a `Prepared` each
(`CandidateIndex.found`'s `settle` and `weigh_settled`, issue 19): its hits are those `Scorer.best` gives
of the same shortlist prepared in full, through the general path, whatever the query."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.matching import names_bridge as nb
from kinlink.matching.index import CandidateIndex
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score_values import Others

MODEL = load_model()

_FAMILIES = ["Иванов", "Иванова", "Попов", "Popov", "Римский-Корсаков", "Корсаков", "Пактышев", "Paktyshev"]
_GIVENS = ["Дмитрий", "Дарья", "Dmitrii", "Леонид", "Лёня", "Николай", "Д.", "Л. А.", ""]
_PATRONYMICS = ["Андреевич", "Андреевна", "Сергеевич", "Andreevich", ""]


def _records() -> list[MatchRecord]:
    out = []
    n = 0
    for f in _FAMILIES:
        for g in _GIVENS:
            for p in _PATRONYMICS:
                n += 1
                name = " ".join(w for w in (f, g, p) if w)
                other = (f"{g} {f}".strip(),) if n % 7 == 0 else ()  # some rows of several names
                sex = ("m", "f", None)[n % 3]
                out.append(MatchRecord(n, name, other, sex=sex, birth_date=f"{1980 + n % 9}"))
    out.append(MatchRecord(n + 1, "", ("Попов Дмитрий",)))  # a row known by another name alone
    return out


_INDEX = CandidateIndex.build(MODEL, _records())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(_FAMILIES),
    given_name=st.sampled_from(_GIVENS),
    patronymic=st.sampled_from(_PATRONYMICS),
    given_first=st.booleans(),
    other=st.sampled_from(["", "Dmitrii Popov", "Попов Д."]),
    year=st.sampled_from([None, "1981", "1985"]),
    sex=st.sampled_from([None, "m", "f"]),
    limit=st.sampled_from([1, 3, 10]),
    floor=st.sampled_from([0.0, 0.3, 0.9]),
)
def test_a_search_settled_from_columns_gives_the_hits_of_the_general_path(
    family: str,
    given_name: str,
    patronymic: str,
    given_first: bool,
    other: str,
    year: str | None,
    sex: str | None,
    limit: int,
    floor: float,
) -> None:
    words = (given_name, patronymic, family) if given_first else (family, given_name, patronymic)
    name = " ".join(w for w in words if w)
    query = MatchRecord(None, name, (other,) if other else (), sex=sex, birth_date=year)
    rows = _INDEX.shortlist(query, 30)
    scorer = _INDEX.scorer
    row_list = rows.tolist()
    general = scorer.best(
        scorer.prepare(query), _INDEX._prepared_rows(rows), limit, floor, tie=row_list.__getitem__
    )
    got = _INDEX.found(query, limit, 30, floor)
    assert got == [(row_list[n], s) for n, s in general]


def test_the_search_settles_most_pairs_from_columns() -> None:
    """The records and queries above reach the path under test: rows of one name settled without their
    parsed names, and rows of several names taken the general way."""
    assert len(_INDEX._parsed_other) > 5
    assert np.count_nonzero(_INDEX._name_bound) == len(_INDEX)
    hits = _INDEX.found(MatchRecord(None, "Попов Дмитрий Андреевич"), 3)
    assert hits and hits[0][1].probability > 0.5


def test_a_field_not_compared_is_explained_as_its_sides_say() -> None:
    """`Scorer.score` reads the memo of fields not compared itself (issue 19): each such field's evidence is
    the one `_missing_evidence` gives for what each side has (a name part's by its parsed names, another
    field's by its value)."""
    scorer = _INDEX.scorer
    queries = [
        MatchRecord(None, "Попов Дмитрий Андреевич", sex="m"),
        MatchRecord(None, "Попов", birth_date="1985"),
        MatchRecord(None, "Д. Попов"),
        MatchRecord(None, "Дарья Андреевна", ("Popova Daria",)),
    ]
    seen = 0
    for query in queries:
        q = scorer.prepare(query)
        for row in range(0, len(_INDEX), 7):
            r = _INDEX._prepared_row(row)
            for i, (c, e) in enumerate(zip(MODEL.comparisons, scorer.score(q, r).evidence, strict=True)):
                if e.level is None:
                    if c.comparator == "name_part":
                        part = c.params["part"]
                        sides = nb.has_part(q.parsed(), part), nb.has_part(r.parsed(), part)
                    else:
                        sides = q.values[i] is not None, r.values[i] is not None
                    assert e is scorer._missing_evidence(i, *sides)
                    seen += 1
    assert seen > 100


def test_a_part_both_sides_give_only_as_an_initial_is_explained() -> None:
    """Two names of initials alone ("Л. А. Иванов", "Иванов Л. А."): both have a patronymic's initial,
    which the name comparison leaves uncompared; the hit is explained (it raised KeyError before)."""
    scorer = _INDEX.scorer
    q = scorer.prepare(MatchRecord(None, "Л. А. Иванов", birth_date="1981"))
    r = scorer.prepare(MatchRecord(1, "Иванов Л. А.", birth_date="1981"))
    said = {e.label: e.text for e in scorer.score(q, r).evidence}
    assert "initials alone" in " ".join(said.values()), said
    hits = scorer.best(q, [r], 1, 0.0)
    assert hits and hits[0][1].evidence


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from([*_FAMILIES, ""]),
    given_name=st.sampled_from(_GIVENS),
    patronymic=st.sampled_from(_PATRONYMICS),
    other=st.sampled_from(["", "Dmitrii Popov", "Попов Д.", "Андреевич"]),
)
def test_a_bound_less_the_parts_a_query_lacks_is_still_a_bound(
    family: str, given_name: str, patronymic: str, other: str
) -> None:
    """A name part no name of the query has (`Scorer.unearned`: in full or as an initial) weighs nothing
    against any record: a record's name bound less that part's term (`unearned_term`, as `found` takes it
    out) is still at least every record's name weight, and the parts the query has are never taken out."""
    name = " ".join(w for w in (family, given_name, patronymic) if w)
    if not name:
        return
    query = MatchRecord(None, name, (other,) if other else ())
    scorer = _INDEX.scorer
    q = scorer.prepare(query)
    unearned = scorer.unearned(q.parsed())
    parts = {part: i for i, _c, part in scorer._name_parts}
    for part, i in parts.items():
        assert (i in {u[0] for u in unearned}) != nb.has_part(q.parsed(), part)
    for row in range(len(_INDEX)):
        r = _INDEX._prepared_row(row)
        cut = sum(scorer.unearned_term(i, c, None if s is None else r.tf_keys[s]) for i, c, s in unearned)
        names_weight = scorer.score(q, r, explain=False, others=Others(0.0, ())).weight - scorer.prior_weight
        assert names_weight <= float(_INDEX._name_bound[row]) - cut + 1e-9


def test_a_query_without_a_patronymic_leaves_it_out_of_its_bounds() -> None:
    scorer = _INDEX.scorer
    patronymic = next(i for i, _c, part in scorer._name_parts if part == "patronymic")
    assert [u[0] for u in scorer.unearned(scorer.prepare(MatchRecord(None, "Попов Дмитрий")).parsed())] == [
        patronymic
    ]
    for name in ("Попов Дмитрий Андреевич", "Попов Л. А.", "Л. А. Попов"):
        assert scorer.unearned(scorer.prepare(MatchRecord(None, name)).parsed()) == ()
    # Known by another name with a patronymic: that name may earn it.
    assert (
        scorer.unearned(scorer.prepare(MatchRecord(None, "Попов Дмитрий", ("Попов Д. А.",))).parsed()) == ()
    )
