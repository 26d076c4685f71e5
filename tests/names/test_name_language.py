"""A name whose parts a row gives is parsed only for its language (`name_language`): it is what the whole
parse (`parse_name`) tells, for every kind of name (issue 19)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.names.parse import name_language, parse_name

DATA = Path(__file__).resolve().parents[2] / "src" / "kinlink" / "names" / "data" / "given_names.tsv"

NAMES = [
    "ПАКТЫШЕВ Леонид Андреевич",
    "Леонид Андреевич Пактышев",
    "Андрія Петровича Мельника",  # declined: read in the nominative first
    "Марії Іванівни Коваль",
    "Петров Иван",  # letters that leave the language open: the given name tells it
    "Петрова Олена",
    "Сидоренко Микола Петрович",
    "Шушкевич Станислав Станиславович",
    "Лукашэнка Аляксандр Рыгоравіч",
    "Пактышев Л.А.",
    "Л. А. Пактышев",
    "Paktishev, Leonid",
    "Leonid Paktishev",
    "Ionescu Ștefan",
    "Szczepański Łukasz",
    "Dvořák Jiří",
    "Sergueï Fomitch Dorofeev",
    "Mksim Albertovici Cialenko",
    "Пактышев Leonid",  # mixed scripts
    "Иванoв Ивaн",  # Latin homoglyphs in Cyrillic words
    "Ivanov Іван Petrovich",
    "г-н Иванов Иван",
    "Иван",
    "Ким Ен Су",
    "李 小龙",
    "123",
    "",
    "О'Коннор Шон",
    "Наталія Левчук Грицай",
]


def _given_names() -> list[str]:
    with DATA.open(encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]
    forms = {form.strip() for r in rows for cell in r for form in cell.split("|")}
    return sorted(f for f in forms if f.isalpha())


@pytest.mark.parametrize("text", NAMES)
def test_the_language_is_the_parse_s(text: str) -> None:
    assert name_language(text) == parse_name(text).language


def test_both_ways_are_taken() -> None:
    """Names whose letters tell the language, and names whose given name must (the parse's other way)."""
    assert {
        parse_name(t).language for t in ("Петров Иван", "Петрова Олена", "Андрія Петровича Мельника")
    } == {
        "ru",
        "uk",
    }


def test_names_of_the_given_names_table() -> None:
    """Every given name of the table, alone and in a three-part name, in either order."""
    names = _given_names()
    assert names
    for i, g in enumerate(names):
        other = names[(i * 7 + 3) % len(names)]
        for text in (g, f"Петренко {g} {other}ович", f"{g} {other} Ivanenko", f"{other}а {g}"):
            assert name_language(text) == parse_name(text).language, text


WORDS = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґўАИОabcdehiknorstuvyzșłčäéñ'-. ,", max_size=25)


@settings(max_examples=600, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=4).map(" ".join))
def test_any_text(text: str) -> None:
    assert name_language(text) == parse_name(text).language
