"""Issue 19: the index build's faster paths prepare what the plain ones did.

A record's keys for the index (`index_keyed`) are `key_record_tf`'s, a chunk prepared from records
sent as field tuples (as the workers get them) is the chunk prepared from the records, and a chunk prepared
column by column, once per distinct name, is the chunk prepared record by record (`_per_record_chunk`, the
build as it was)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.matching.comparators import birth_range, sex_key
from kinlink.matching.index_assembly import first_rows, merged_postings
from kinlink.matching.index_build import (
    SHARED_FIELDS,
    Chunk,
    _coded,
    _combined,
    _Row,
    number_values,
    prepare_chunk,
    prepared_state,
    route,
)
from kinlink.matching.keys import MISSING_DAY, index_keyed, key_record_tf
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import TermFrequencies

MODEL = load_model()
_FAMILIES = ["Иванов", "Иванова", "Пактышев", "Paktishev", "Мельник", "Лисенко-Коваль", "СМИРНОВ", ""]
_GIVENS = ["Леонид", "Олена", "Л.А.", "Sergei", "Андрій", "", "Роман Олег"]
_PATRONYMICS = ["Андреевич", "Іванівна", "", "Savich"]


@st.composite
def records(draw: st.DrawFn) -> MatchRecord:
    words = [draw(st.sampled_from(x)) for x in (_FAMILIES, _GIVENS, _PATRONYMICS)]
    if draw(st.booleans()):
        words = words[::-1]
    name = " ".join(w for w in words if w)
    return MatchRecord(
        draw(st.integers(1, 10**6)),
        name,
        other_names=tuple(draw(st.lists(st.sampled_from(["Ivanov Leonid", "Иванов Л.", " "]), max_size=2))),
        sex=draw(st.sampled_from([None, "m", "f", "ж"])),
        birth_date=draw(st.sampled_from([None, "1990", "1990-05", "1990-05-15", "1985-01-01"])),
        age=draw(st.sampled_from([None, 28])),
        age_as_of=draw(st.sampled_from([None, "2022-02-27"])),
        unit=draw(st.sampled_from([None, "243-я отдельная мотострелковая бригада", "в/ч 12345"])),
        rank=draw(st.sampled_from([None, "рядовой", "ефрейтор"])),
        service_number=draw(st.sampled_from([None, "", "KK-214120", "XT 808082"])),
        place_of_birth=draw(st.sampled_from([None, "Батайск", "Ростовская обл."])),
    )


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(records())
def test_a_records_index_keys_are_its_keys_each_once(r: MatchRecord) -> None:
    keys, parsed, tf = index_keyed(r)
    plain_keys, plain_parsed, plain_tf = key_record_tf(r)
    assert len(keys) == len(set(keys)) and set(keys) == set(plain_keys)
    assert parsed == plain_parsed and tf == plain_tf


def _same_chunk(a: object, b: object) -> bool:
    # Arrays compared by value; everything else (coded columns' values, parsed names) by equality.
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_chunk, a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same_chunk(a[k], b[k]) for k in a)
    if hasattr(a, "__slots__") and hasattr(a, "key_hashes"):
        return all(_same_chunk(getattr(a, f), getattr(b, f)) for f in a.__slots__)  # type: ignore[attr-defined]
    return a == b


@SETTINGS
@given(st.lists(records(), min_size=1, max_size=40))
def test_a_chunk_prepared_from_field_tuples_is_the_chunk_prepared_from_records(
    batch: list[MatchRecord],
) -> None:
    # Repeated records, so that values (and names) repeat within the chunk.
    batch = batch + [replace(r, id=r.id + 1) for r in batch[::3]]
    # As a worker gets them: each record's fields as a tuple, read through _Row.
    rows = [_Row._make(pickle.loads(pickle.dumps(prepared_state(r)))) for r in batch]
    assert _same_chunk(prepare_chunk(rows, MODEL), prepare_chunk(batch, MODEL))


def _per_record_chunk(records: list[MatchRecord]) -> Chunk:
    """The chunk as the build prepared it before issue 19's column-wise preparation: record by record."""
    scorer = Scorer(MODEL)
    n = len(records)
    keyed = [index_keyed(r) for r in records]
    keys = [k for k, _p, _t in keyed]
    others = {}
    primaries: list[object] = []
    for i, ((_k, parsed, _t), r) in enumerate(zip(keyed, records, strict=True)):
        primary = parsed[0] if parsed and parsed[0].original == r.name else None
        primaries.append(primary)
        if len(parsed) > (1 if primary else 0):
            others[i] = tuple(parsed[1:] if primary else parsed)
    parts = [
        [p.family if p else None for p in primaries],  # type: ignore[attr-defined]
        [p.given if p else None for p in primaries],  # type: ignore[attr-defined]
        [p.patronymic if p else None for p in primaries],  # type: ignore[attr-defined]
        [p.initials if p else None for p in primaries],  # type: ignore[attr-defined]
        [(p.script, p.language, p.sex, p.order) if p else None for p in primaries],  # type: ignore[attr-defined]
    ]
    tf = [[t[j] for _k, _p, t in keyed] for j in range(3)]

    def coded(names: tuple[str, ...]) -> tuple[list[object], np.ndarray]:
        columns = [[getattr(r, f) for r in records] for f in names]
        return _coded(list(zip(*columns, strict=True)) if len(names) > 1 else columns[0])

    values = []
    for c, comp in zip(MODEL.comparisons, scorer._comparators, strict=True):
        if comp is None:
            values.append(([None], np.zeros(n, dtype=np.int32)))
            continue
        _distinct, codes = coded(comp.reads or (c.field,))
        firsts = np.unique(codes, return_index=True)[1].tolist()  # each distinct value's first record
        prepared, pcodes = _coded([comp.prepare(records[j], c.field) for j in firsts])
        values.append((prepared, pcodes[codes]))
    births, bcodes = coded(("birth_date", "age", "age_as_of", "birth_year_to"))
    ranges = [birth_range(*b) or (MISSING_DAY, MISSING_DAY) for b in births]
    sexes, scodes = coded(("sex",))
    sex_codes = [{"m": 1, "f": 2}.get(sex_key(s) or "", 0) for s in sexes]
    # Postings sorted by their keys' hashes, a record's keys in turn and records in order among equal ones.
    postings = sorted(((hash(k), i) for i, ks in enumerate(keys) for k in ks), key=lambda posting: posting[0])
    return Chunk(
        key_hashes=np.array([h for h, _i in postings], dtype=np.int64),
        key_rows=np.array([i for _h, i in postings], dtype=np.uint32),
        service=coded(("service_number",)),
        shared=[coded((f,)) for f in SHARED_FIELDS],
        parts=[_coded(col) for col in parts],
        other_parsed=others,
        values=values,
        tf_columns=(_coded(tf[0]), _coded(tf[1]), _coded(tf[2])),
        birth_lo=np.array([b[0] for b in ranges], dtype=np.int32)[bcodes],
        birth_hi=np.array([b[1] for b in ranges], dtype=np.int32)[bcodes],
        sex=np.array(sex_codes, dtype=np.int8)[scodes],
    )


@SETTINGS
@given(st.lists(records(), min_size=1, max_size=40))
def test_a_chunk_prepared_a_distinct_name_at_a_time_is_the_chunk_prepared_a_record_at_a_time(
    batch: list[MatchRecord],
) -> None:
    # Names (and whole records) repeat within the chunk, with and without other names and service numbers.
    batch = (
        batch
        + [replace(r, id=r.id + 1) for r in batch[::3]]
        + [replace(r, other_names=()) for r in batch[::2]]
    )
    assert _same_chunk(prepare_chunk(batch, MODEL), _per_record_chunk(batch))
    # Records read back from a pickle (as a stream or a worker reads them) are the records.
    assert pickle.loads(pickle.dumps(batch)) == batch


_KEYS = st.sampled_from(["ivanov", "smirnov", "paktishev", "melnik", "aleksandr", "leonid", "sergeevich", ""])


@SETTINGS
@given(
    st.lists(st.tuples(_KEYS, st.integers(1, 5)), max_size=12),
    st.lists(st.none() | _KEYS, max_size=12),
    st.integers(0, 10**6),
)
def test_a_name_bound_term_a_count_is_the_term_a_key(
    counts: list[tuple[str, int]], keys: list[str | None], population: int
) -> None:
    # The index sums every record's name bound from its distinct keys' terms, worked out once a count for
    # the keys of no known share (issue 19): the terms one by one, key by key.
    tf = TermFrequencies(population=population)
    for table in ("family", "given", "patronymic"):
        tf.add_counts(table, counts)
    scorer = Scorer(MODEL, tf, population=population)
    for table in ("family", "given", "patronymic"):
        one_by_one = [Scorer(MODEL, tf, population=population).name_bound_term(table, k) for k in keys]
        assert scorer.name_bound_terms(table, keys) == one_by_one


@SETTINGS
@given(
    st.lists(st.tuples(_KEYS, st.integers(1, 3)), max_size=12),
    st.lists(st.tuples(st.sampled_from(["family", "given", "patronymic"]), st.none() | _KEYS), max_size=16),
    st.integers(0, 10**6),
)
def test_a_keys_best_name_weight_remembered_by_its_count_is_its_own(
    counts: list[tuple[str, int]], asked: list[tuple[str, str | None]], population: int
) -> None:
    # A key of no known share is weighed by its count alone: its best weight is remembered by count in the
    # scorer's memos (issue 19). Whichever keys of the same count (of a known share or not) were asked
    # first, by whichever scorer of the same memos, each key's term is the one worked out afresh.
    tf = TermFrequencies(population=population)
    for table in ("family", "given", "patronymic"):
        tf.add_counts(table, counts)
    memos: dict[str, Any] = {}
    for table, key in asked:
        fresh = Scorer(MODEL, tf, population=population).name_bound_term(table, key)
        assert Scorer(MODEL, tf, population=population, memos=memos).name_bound_term(table, key) == fresh


@SETTINGS
@given(
    st.lists(st.tuples(_KEYS, st.integers(1, 5)), max_size=12),
    st.lists(st.tuples(st.none() | _KEYS, st.none() | _KEYS, st.none() | _KEYS), min_size=1, max_size=12),
    st.integers(0, 10**6),
)
def test_a_name_bound_is_its_terms_summed_afresh(
    counts: list[tuple[str, int]], records: list[tuple[str | None, str | None, str | None]], population: int
) -> None:
    # A record's name bound sums its keys' terms, each remembered a key in the scorer's memos (issue 19):
    # to the last bit the sum of the terms worked out afresh, whichever records were bounded first and
    # whichever scorer of the same memos remembered them.
    tf = TermFrequencies(population=population)
    for table in ("family", "given", "patronymic"):
        tf.add_counts(table, counts)
    memos: dict[str, Any] = {}
    for keys in records:
        fresh = Scorer(MODEL, tf, population=population)
        tables = ("family", "given", "patronymic")
        want = fresh.name_bound_term(None) + sum(
            fresh.name_bound_term(table, key) for table, key in zip(tables, keys, strict=True)
        )
        assert Scorer(MODEL, tf, population=population, memos=memos).name_bound(keys) == want


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(-3, 3), st.booleans()), min_size=2, max_size=60),
    st.randoms(use_true_random=False),
)
def test_two_pieces_postings_merge_as_one_sort_of_them(postings: list[tuple[int, bool]], rnd: Any) -> None:
    # A block's postings from two workers (each sorted by key hash, then row) merge into the block's
    # postings as one worker would have sorted them: by key hash, then row (`index_assembly.merged_postings`).
    rows = list(range(len(postings)))
    rnd.shuffle(rows)
    hashes = np.array([h * (2**61) for h, _b in postings], dtype=np.int64)
    at = np.array(rows, dtype=np.int64)
    side = np.array([b for _h, b in postings])

    def by_key(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.lexsort((at[mask], hashes[mask]))
        return hashes[mask][order], at[mask][order]

    if side.all() or not side.any():
        return
    got = merged_postings(*by_key(side), *by_key(~side))
    want = by_key(np.ones(len(postings), dtype=bool))
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


@SETTINGS
@given(st.lists(st.sampled_from("abcdef"), max_size=40))
def test_a_columns_first_rows_are_its_distinct_values_first_places(values: list[str]) -> None:
    _distinct, codes = _coded(values)
    assert first_rows(codes).tolist() == [values.index(v) for v in dict.fromkeys(values)]


_CELLS = st.sampled_from([None, 0, 1, 1.0, True, "1", "a", "b", (1, "a")])


@SETTINGS
@given(st.lists(_CELLS, max_size=40))
def test_a_column_is_coded_in_order_of_first_appearance(values: list[Any]) -> None:
    numbers: dict[Any, int] = {}
    want = [numbers.setdefault(v, len(numbers)) for v in values]
    distinct, codes = _coded(values)
    assert distinct == list(numbers) and codes.tolist() == want and codes.dtype == np.int32


@SETTINGS
@given(st.integers(2, 4).flatmap(lambda k: st.lists(st.tuples(*[_CELLS] * k), min_size=1, max_size=40)))
def test_fields_side_by_side_are_coded_from_their_own_codes_as_their_tuples_are(
    rows: list[tuple[Any, ...]],
) -> None:
    """`_combined` (a comparison reading several fields) numbers the fields' tuples from each field's codes:
    the same distinct tuples, in the same order, and the same codes as coding the tuples themselves."""
    columns = [list(col) for col in zip(*rows, strict=True)]
    want_distinct, want_codes = _coded(rows)
    distinct, codes = _combined([_coded(col) for col in columns], columns)
    assert distinct == want_distinct and codes.tolist() == want_codes.tolist() and codes.dtype == np.int32


@SETTINGS
@given(st.lists(_CELLS, unique=True, max_size=6), st.lists(_CELLS, unique=True, max_size=9))
def test_values_are_numbered_on_as_setdefault_numbers_them(known: list[Any], values: list[Any]) -> None:
    lookup: dict[Any, int] = {}
    for v in known:
        lookup.setdefault(v, len(lookup))
    want_lookup = dict(lookup)
    want = [want_lookup.setdefault(v, len(want_lookup)) for v in values]
    got, new = number_values(lookup, values)
    assert got.tolist() == want and got.dtype == np.int32 and lookup == want_lookup
    assert new == [v for v in values if v not in dict.fromkeys(known)]


@SETTINGS
@given(st.lists(records(), max_size=40), st.integers(1, 4))
def test_routing_sends_each_record_once_and_a_family_name_to_one_worker(
    batch: list[MatchRecord], processes: int
) -> None:
    routed = route(list(map(prepared_state, batch)), processes)
    assert sorted(i for rows in routed for i in rows.tolist()) == list(range(len(batch)))
    worker = {i: w for w, rows in enumerate(routed) for i in rows.tolist()}
    by_family: dict[str, set[int]] = {}
    for i, r in enumerate(batch):
        # Routed by a name's first four letters: a family name written first, of four letters or more.
        if r.name.split() and len(r.name.split()[0]) >= 4:
            by_family.setdefault(r.name.split()[0], set()).add(worker[i])
    assert all(len(w) == 1 for w in by_family.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=60))
def test_a_rows_settled_facts_are_those_of_its_parsed_name(batch: list[MatchRecord]) -> None:
    """`CandidateIndex._settled_facts` remembers a settled key by the codes of the parts it holds that
    `names_bridge.settled_key` reads, not by the row: every row's key (and family name) is the one its own
    parsed name gives, whatever family names, orders and scripts the rows sharing those parts have. Fails
    if `settled_key` comes to read a part the memo is not keyed by."""
    from kinlink.matching import names_bridge as nb
    from kinlink.matching.index import CandidateIndex

    # Of one name each (a row of several has its names parsed instead).
    index = CandidateIndex.build(MODEL, [replace(r, id=n + 1, other_names=()) for n, r in enumerate(batch)])
    for row in range(len(batch)):
        facts = index._settled_facts(row)
        parsed = index.parsed_names(row)
        if facts is None:  # no name, or of no known order: the candidate's names are parsed instead
            continue
        assert len(parsed) == 1
        assert facts == (nb.settled_key(parsed), parsed[0].family)
