"""A short form shared by several names weighs less than one that names a single name."""

from __future__ import annotations

import pytest

from kinlink.names import compare, compare_given


@pytest.mark.parametrize(
    ("query", "unambiguous", "ambiguous"),
    [
        ("Лёша", "Олексій", "Олекса"),  # Олекса: Олександр or Олексій
        ("Олесь", "Олександр", "Олекса"),
        ("Славик", "Вячеслав", "Слава"),  # Слава: Вячеслав, Владислав, Станислав, Ярослав...
        ("Стас", "Станислав", "Слава"),
    ],
)
def test_an_ambiguous_form_ranks_below_an_unambiguous_one(query, unambiguous, ambiguous):
    assert compare_given(query, unambiguous).score > compare_given(query, ambiguous).score
    record = "КРАВЧУК {} Іванович"
    q = f"{query} Кравчук"
    assert compare(q, record.format(unambiguous)).score > compare(q, record.format(ambiguous)).score


def test_an_ambiguous_form_never_ties_with_the_full_name_and_says_why():
    full = compare_given("Олекса", "Олекса")
    other = compare_given("Олекса", "Олексій")
    assert full.score > other.score
    assert other.reason.text().endswith("Олекса may also stand for Александр")
    assert compare_given("Саша", "Александр").score < compare_given("Сашко", "Александр").score
