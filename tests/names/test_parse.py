"""Parsing names as written into their parts."""

from __future__ import annotations

import pytest

from kinlink.names import detect_script, parse_name


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Пактышев", "Cyrillic"),
        ("Paktishev", "Latin"),
        ("Пактышев Leonid", "Mixed"),
        ("123", "Other"),
        ("李", "Other"),
    ],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


@pytest.mark.parametrize(
    ("text", "family", "given", "patronymic", "initials", "order"),
    [
        ("ПАКТЫШЕВ Леонид Андреевич", "ПАКТЫШЕВ", ("Леонид",), "Андреевич", (), "family_first"),
        ("Пактышев Леонид Андреевич", "Пактышев", ("Леонид",), "Андреевич", (), "family_first"),
        ("Леонид Андреевич Пактышев", "Пактышев", ("Леонид",), "Андреевич", (), "given_first"),
        ("Leonid Paktishev", "Paktishev", ("Leonid",), None, (), "given_first"),
        ("Paktishev Leonid", "Paktishev", ("Leonid",), None, (), "family_first"),
        ("Paktishev, Leonid", "Paktishev", ("Leonid",), None, (), "family_first"),
        ("Пактышев Л.А.", "Пактышев", (), None, ("Л.", "А."), "family_first"),
        ("Л. А. Пактышев", "Пактышев", (), None, ("Л.", "А."), "unknown"),
        ("Пактышев", "Пактышев", (), None, (), "unknown"),
        ("Шушкевич Станислав Станиславович", "Шушкевич", ("Станислав",), "Станиславович", (), "family_first"),
        ("Anna Makarevici", "Makarevici", ("Anna",), None, (), "given_first"),
        ("Сковорода Григорій Савич", "Сковорода", ("Григорій",), "Савич", (), "family_first"),
        ("Mksim Albertovici Cialenko", "Cialenko", ("Mksim",), "Albertovici", (), "given_first"),
        ("г-н Иванов Иван", "Иванов", ("Иван",), None, (), "family_first"),
        ("Грожан Константин", "Грожан", ("Константин",), None, (), "family_first"),
    ],
)
def test_parse(
    text: str,
    family: str,
    given: tuple[str, ...],
    patronymic: str | None,
    initials: tuple[str, ...],
    order: str,
) -> None:
    p = parse_name(text)
    assert (p.family, p.given, p.patronymic, p.initials) == (family, given, patronymic, initials)
    if order != "unknown":
        assert p.order == order


@pytest.mark.parametrize(
    ("text", "language", "sex"),
    [
        ("Надія Савченко", "uk", "f"),
        ("Пактышев Леонид Андреевич", "ru", "m"),
        ("Аляксандр Шчарбакоў", "be", "m"),
        ("Mihail Kalașnikov", "ro", "m"),
        ("Michaił Kałasznikow", "pl", "m"),
        ("Michail Kalaschnikow", "de", "m"),
        ("Mikhaïl Kalachnikov", "fr", "m"),
        ("Иванова", "ru", "f"),
        ("Савченко", None, None),
    ],
)
def test_language_and_sex(text: str, language: str | None, sex: str | None) -> None:
    p = parse_name(text)
    assert p.language == language
    assert p.sex == sex


def test_homoglyphs_do_not_split_a_name() -> None:
    # a Latin "o" typed into a Cyrillic name
    p = parse_name("Пактышeв Леонид")
    assert p.script == "Mixed"
    assert p.family is not None and p.given == ("Леонид",)
