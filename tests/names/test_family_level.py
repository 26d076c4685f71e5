"""Issue 19: a family-name pair's level worked out alone (`family_level`, which a search's bound weighs a
candidate by) is the level `compare_family` gives the pair; the matcher's `FamilyLevel` reads the
comparison's own score and reason.

Pairs of real name words as typed (romanised, in capitals, with look-alikes), and of each word with a form
of it: the other sex's, a typo, a letter dropped, a double-barrelled name it is part of, Belarusian and
Ukrainian spellings; in both orders."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.names.name_words import NAME_WORDS, as_typed

from kinlink.matching import names_bridge as nb
from kinlink.names import compare_family, family_level
from kinlink.names.compare_parts import _level_steps

_WORDS = sorted(
    NAME_WORDS
    | {
        "Шчарбакоў",
        "Марозаў",
        "Marozau",
        "Сямёнава",
        "Корольов",
        "Королёв",
        "Лисенко-Коваль",
        "Коваль Лисенко",
    }
)
SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_LETTERS = "аеиоуыяюйклмнрствшщьъіїєґўAEIOUYKLMNRSTVZ"


@st.composite
def family_names(draw: st.DrawFn) -> str:
    return as_typed(draw, draw(st.sampled_from(_WORDS)))


@st.composite
def related(draw: st.DrawFn, a: str) -> str:
    """A word drawn near `a`: `a` itself, another form of it, or an unrelated name."""
    how = draw(st.integers(0, 8))
    if how == 0:
        return a
    if how == 1:  # the other sex's form, or a Russian/Ukrainian ending
        return draw(st.sampled_from([a + "а", a + "a", a[:-1] if len(a) > 2 else a, a + "енко", a + "ко"]))
    if how == 2 and a:  # a typo: a letter changed
        at = draw(st.integers(0, len(a) - 1))
        return a[:at] + draw(st.sampled_from(_LETTERS)) + a[at + 1 :]
    if how == 3 and len(a) > 1:  # a letter dropped
        at = draw(st.integers(0, len(a) - 1))
        return a[:at] + a[at + 1 :]
    if how == 4:  # a double-barrelled name with another, either way round, hyphen or space
        other = draw(family_names())
        sep = draw(st.sampled_from(["-", " "]))
        return draw(st.sampled_from([f"{a}{sep}{other}", f"{other}{sep}{a}"]))
    if how == 5:  # the same name typed otherwise (romanised, capitals, look-alikes)
        return as_typed(draw, a)
    if how == 6:  # Belarusian and Ukrainian spellings of a Russian ending
        return a.replace("ов", "оў").replace("ев", "ёў").replace("ёв", "ьов").replace("о", "а", 1)
    return draw(family_names())


@st.composite
def pairs(draw: st.DrawFn) -> tuple[str, str]:
    a = draw(family_names())
    b = draw(related(a))
    return (a, b) if draw(st.booleans()) else (b, a)


@SETTINGS
@given(pairs())
def test_a_pairs_level_is_compare_familys(pair: tuple[str, str]) -> None:
    a, b = pair
    if not (a.strip() and b.strip()):
        return
    # Each worked out anew: neither reads the other's cache.
    family_level.cache_clear()
    compare_family.cache_clear()
    assert family_level(a, b) == compare_family(a, b).level


@SETTINGS
@given(pairs())
def test_the_matchers_family_comparison_is_compare_familys(pair: tuple[str, str]) -> None:
    a, b = pair
    if not (a.strip() and b.strip()):
        return
    got, want = nb.compare_families(a, b), compare_family(a, b)
    assert (got.level, got.score, got.reason) == (want.level, want.score, want.reason)


def test_levels_of_known_pairs() -> None:
    # One pair a level, as `compare_family` gives them (so that the properties above meet each).
    for a, b, level in [
        ("Иванов", "Иванов", "exact"),
        ("Иванов", "Ivanov", "transliteration"),
        ("Иванов", "Иванова", "gender_form"),
        ("Шчарбакоў", "Щербаков", "transliteration"),
        ("Иванов", "Иваное", "fuzzy"),
        ("Иванов", "Петренко", "different"),
        ("Коваль", "Лисенко-Коваль", "equivalent"),
    ]:
        assert family_level(a, b) == compare_family(a, b).level == level
    assert nb.compare_families(None, "Иванов") is None
    assert nb.compare_families("Иванов", "") is None


@SETTINGS
@given(pairs())
def test_a_comparison_made_from_its_levels_steps_is_the_one_worked_out_alone(pair: tuple[str, str]) -> None:
    # A search weighs its winner's family name by `family_level`, then explains it (`compare_family`):
    # the comparison is finished from the steps the level took, and is the one worked out alone.
    a, b = pair
    if not (a.strip() and b.strip()):
        return
    family_level.cache_clear()
    compare_family.cache_clear()
    _level_steps.clear()
    want = compare_family(a, b)
    family_level.cache_clear()
    compare_family.cache_clear()
    level = family_level(a, b)
    assert (a, b) in _level_steps  # kept for the comparison ...
    got = compare_family(a, b)
    assert (a, b) not in _level_steps  # ... which took it
    assert (got.level, got.score, got.reason) == (want.level, want.score, want.reason)
    assert level == got.level
