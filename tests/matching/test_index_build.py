"""Issue 19: the index build's faster paths prepare what the plain ones did.

A record's keys for the index (`index_keyed`) are `key_record_tf`'s, and a chunk prepared from records
sent as field tuples (as the workers get them) is the chunk prepared from the records."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.matching.index_build import _Row, prepare_chunk
from kinlink.matching.keys import index_keyed, key_record_tf
from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord, record_state

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
    rows = [_Row._make(pickle.loads(pickle.dumps(record_state(r)))) for r in batch]
    assert _same_chunk(prepare_chunk(rows, MODEL), prepare_chunk(batch, MODEL))
