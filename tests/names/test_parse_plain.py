"""A name of three plain words is parsed from its shape's cached parse (`kinlink.names.parse.plain_parse`;
issue 19): property tests that it is the full parse, for every order of every kind of word, and over a
generated registry, where each shape's parse, worked out from one name, is handed to thousands of others;
and that such a name's blocking keys (`distinct_keys`' path for it) are those `key_parts` gives."""

from __future__ import annotations

import sys
from itertools import chain
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.names import ParsedName, parse_name
from kinlink.names.blocking import distinct_keys, key_parts
from kinlink.names.parse import parse_in_full, plain_parse

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "matching"))

# Family names of one shape and of others (suffixes, genders, declined forms, a given name's or a
# patronymic's look, capitals, Latin, mixed scripts, brackets), given names, patronymics, and words that
# are not one plain token (initials, titles, "Л.Андреевич").
_FAMILIES = [
    "Пактышев", "Пактышева", "Мельник", "Мельника", "Мельником", "Иванов", "Иванова", "Ковалёва",
    "Шевченко", "Шевченка", "Левчук", "Грицай", "Прокопович", "Їжакевич", "Савич", "Черных", "Бойко",
    "Сидоренко", "Смирнова", "Вениамина", "Ткачук", "Коваль", "Забара", "Петров", "Петрова", "ПАКТЫШЕВ",
    "Грицай-Левчук", "Сідарэнка", "Лисенко-Коваль", "Paktishev", "Dorofeev", "Kowalczyk", "Müller",
    "Szczepański", "Ionovici", "Мельнuк", "(Петров)", "Фубоых", "Нуволский", "Гамулчук", "Роман", "Олег",
    "Андреевич", "Ивановна", "Сергей", "Фомич", "Паулюс",
]  # fmt: skip
_GIVENS = [
    "Леонид", "Олена", "Андрій", "Андрія", "Сергей", "Мария", "Ярослава", "Вениамин", "Роман", "Олег",
    "Всемил", "Mksim", "Sergueï", "Leonid", "Ivan", "Ірина", "Наталія", "Гурий", "ЛЕОНИД", "Антон",
]  # fmt: skip
_PATRONYMICS = [
    "Андреевич", "Андреевича", "Іванович", "Ивановна", "Петровна", "Петровича", "Фомич", "Savich",
    "Fomitch", "Albertovici", "Hordijovyč", "Лукич", "Ільїч", "Викентьевич", "Филатович", "АНДРЕЕВИЧ",
    "Сергійович", "Олегівна",
]  # fmt: skip
_ODD = ["Л.А.", "Л.", "г-н", "Л.Андреевич", "Ivan3", "李", "", "Петров,"]

_word = st.sampled_from(_FAMILIES + _GIVENS + _PATRONYMICS + _ODD)
_ordinary = st.tuples(st.sampled_from(_FAMILIES), st.sampled_from(_GIVENS), st.sampled_from(_PATRONYMICS))
_three = _ordinary | st.tuples(_word, _word, _word)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(_three, st.sampled_from([" ", "  ", " , "])), min_size=1, max_size=6))
def test_a_three_word_name_parses_as_in_full(names: list[tuple[tuple[str, str, str], str]]) -> None:
    # Several names a time: a shape's parse is worked out from the first of its names and given to the rest.
    for words, sep in names:
        text = sep.join(words)
        assert parse_name.__wrapped__(text) == parse_in_full(text), text
        p = parse_name(text)
        assert distinct_keys(p) == _keys_as_before(p), text


def _keys_as_before(p: ParsedName) -> tuple[str, ...]:
    """`distinct_keys` as it was before its path for the usual registry name: `key_parts`' tuples joined."""
    parts = key_parts(p)
    if len(parts) <= 2 and all(not k or k[0][:2] in ("f:", "gp") for k in parts):
        return parts[0] + parts[1] if len(parts) == 2 else (parts[0] if parts else ())
    return tuple(dict.fromkeys(chain.from_iterable(parts)))


def test_a_generated_registrys_names_parse_as_in_full() -> None:
    from generate import dataset

    ds = dataset(3_000, 10)
    names = [r.name for r in ds.records] + [q.name for q in ds.requests]
    plain = [plain_parse(n) for n in names]
    assert sum(p is not None for p in plain) > 0.9 * len(names)  # the path is taken, not only passed by
    for text, p in zip(names, plain, strict=True):
        assert (p or parse_in_full(text)) == parse_in_full(text), text
        assert distinct_keys(parse_in_full(text)) == _keys_as_before(parse_in_full(text)), text
