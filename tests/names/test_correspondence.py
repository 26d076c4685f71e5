"""Regular correspondences between the Belarusian, Ukrainian and Russian forms of one family name score as
the convention they are, not as a typo, and say which orthography."""

from __future__ import annotations

import pytest

from kinlink.names import MATCH_THRESHOLD, blocking_keys, compare, compare_family


@pytest.mark.parametrize(
    ("form", "russian", "said"),
    [
        ("Шчарбакоў", "Щербаков", "Шчарбакоў is the Belarusian spelling of Щербаков"),
        ("Навумаў", "Наумов", "Навумаў is the Belarusian spelling of Наумов"),
        ("Лукашэнка", "Лукашенко", "Лукашэнка is the Belarusian spelling of Лукашенко"),
        ("Пятроў", "Петров", "Пятроў is the Belarusian spelling of Петров"),
        ("Barysau", "Борисов", "Barysau is the Belarusian spelling of Борисов"),
        ("Корольов", "Королёв", "Корольов is the Ukrainian spelling of Королёв"),
        ("Журавльов", "Журавлев", "Журавльов is the Ukrainian spelling of Журавлев"),
    ],
)
def test_a_correspondence_is_a_convention(form, russian, said):
    pc = compare_family(form, russian)
    assert pc.level == "transliteration" and pc.score >= 0.95
    assert pc.reason.text() == said


def test_the_vowel_rules_need_a_belarusian_trait():
    # Казаков and Козаков are two Russian names: аканне is not applied without a Belarusian trait.
    assert compare_family("Казаков", "Козаков").level == "fuzzy"
    assert compare_family("Казакоў", "Козаков").level == "transliteration"


@pytest.mark.parametrize(
    ("query", "record"),
    [("Pavel Marozau", "МОРОЗОВ Павел Дмитриевич"), ("Мікалай Шчарбакоў", "ЩЕРБАКОВ Николай Иванович")],
)
def test_a_belarusian_form_is_found(query, record):
    assert blocking_keys(query) & blocking_keys(record)
    assert compare(query, record).score >= MATCH_THRESHOLD
