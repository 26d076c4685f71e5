"""A record whose full name is its parts joined gets its name row from facts of each part (issue 19): the
same row as the name's own parse, script and folding give (`_names_of`, `fold_name`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.registry.record_names import _joined_name, _names_of
from kinlink.store.models import fold_name

PARTS = [
    ("Пактышев", "Леонид", "Андреевич"),
    ("ПАКТЫШЕВ", "Леонид", "Андреевич"),
    ("Мельника", "Андрія", "Петровича"),  # declined
    ("Сидоренко", "Микола", "Петрович"),
    ("Петров", "Иван", None),
    (None, "Олена", None),
    ("Коваль", None, "Іванівна"),
    ("О'Коннор", "Шон", None),
    ("О’Коннор", "Шон", "Иванович"),  # another apostrophe: cleaned to '
    ("Иванoв", "Ивaн", "Петрович"),  # Latin homoglyphs
    ("Paktishev", "Leonid", "Andreevich"),
    ("Пактышев", "Leonid", "Андреевич"),  # mixed scripts
    ("Ким", "Ен Су", None),  # a part of two words
    ("Иванов,", "Иван", "Иванович"),  # a comma
    ("李", "小龙", None),
    ("Ivanov", "Ivan", "Ivan"),  # two words alike
    ("ﬁlatov", "Ǆemal", "Ⅳ"),  # compatibility forms: folded
    ("Петров", "Е\u0308лена", "Ивановна"),  # a combining mark: NFC
]


def _row(fields: tuple[Any, ...]) -> tuple[Any, ...]:
    (n,) = _names_of(*fields)
    return (fold_name(n[1]), *n)


@pytest.mark.parametrize("language", [None, "ru"])
@pytest.mark.parametrize("parts", PARTS)
def test_the_row_of_the_parts_is_the_name_s(parts: tuple[str | None, ...], language: str | None) -> None:
    full = " ".join(p for p in parts if p)
    fields = (full, *parts, language, ())
    assert _joined_name(*fields) == _row(fields)
    assert _joined_name(*fields) == _row(fields)  # again, from the parts' facts worked out the first time


def test_other_records_go_the_name_s_way() -> None:
    assert _joined_name("Иванов Иван", "Иванов", "Иван", None, None, ("Ivanov Ivan",)) is None  # alternates
    assert _joined_name("Иван Иванов", "Иванов", "Иван", None, None, ()) is None  # a full name of its own
    assert _joined_name("Иванов Иван", None, None, None, None, ()) is None  # no parts


PART = st.text(
    alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґўАИОПabcdehiknorstuvyzșłčäéñ'’-., \u0308\u00a0ﬁ李1",
    min_size=1,
    max_size=12,
).map(str.strip)


@settings(max_examples=600, deadline=None)
@given(st.tuples(PART, PART, PART), st.sampled_from([None, "uk"]))
def test_any_parts(parts: tuple[str, str, str], language: str | None) -> None:
    given_parts = tuple(p or None for p in parts)
    full = " ".join(p for p in given_parts if p)
    if not full:
        return
    fields = (full, *given_parts, language, ())
    assert _joined_name(*fields) == _row(fields)
