"""Small parts: confusables, language id, relative dates, name lemmatisation."""

from __future__ import annotations

import datetime as dt

import pytest

from kinlink.ingest.confusables import repair_confusables
from kinlink.ingest.dates import find_dates
from kinlink.ingest.langid import identify_language
from kinlink.ingest.morph import lemmatize_name


def test_latin_lookalikes_inside_cyrillic_words_are_repaired() -> None:
    text = "Пленный Ивaнов Иван взят в плeн под Kиeвом"  # Latin a, e, K, e
    fixed, n = repair_confusables(text)
    assert fixed == "Пленный Иванов Иван взят в плен под Киевом"
    assert n == 3


def test_cyrillic_lookalikes_inside_latin_words_and_greek() -> None:
    assert repair_confusables("Kiеv and Kyiv")[0] == "Kiev and Kyiv"  # Cyrillic е in a Latin word
    assert repair_confusables("Οлег Петров")[0] == "Олег Петров"  # Greek omicron
    assert repair_confusables("plain text, простий текст") == ("plain text, простий текст", 0)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Ucraina a făcut publice imagini cu soldații ruși capturați.", "ro"),
        ("Взят в плен под Харьковом рядовой Петров, 1999 г.р.", "ru"),
        ("Полонений Петренко", "uk"),
        ("Загинув Петренко Іван", "uk"),
        ("Captured soldier Ivan Petrov, 28, from Rostov", "en"),
        ("Der Soldat wurde gefangen genommen und nach Kiew gebracht", None),
        ("Żołnierz został wzięty do niewoli pod Kijowem", None),
        ("Войник беше пленен край Киев вчера сутринта", None),
        ("ok", None),
    ],
)
def test_language_identification(text: str, lang: str | None) -> None:
    assert identify_language(text).language == lang


REF = dt.date(2022, 2, 28)  # a Monday


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("publicat pe Telegram duminică dimineața", "ro", "2022-02-27"),
        ("published early on Sunday", "en", "2022-02-27"),
        ("вчера взят в плен", "ru", "2022-02-27"),
        ("позавчора зник", "uk", "2022-02-26"),
        ("у неділю вранці", "uk", "2022-02-27"),
        ("3 дні тому", "uk", "2022-02-25"),
        ("25 февраля", "ru", "2022-02-25"),
        ("24 лютого 2022 року", "uk", "2022-02-24"),
        ("on February 24, 2022", "en", "2022-02-24"),
        ("în ziua de 5 martie", "ro", "2021-03-05"),  # no year, after the document date: last year
        ("12.03.1994 г.р.", "ru", "1994-03-12"),
        ("azi", "ro", "2022-02-28"),
    ],
)
def test_relative_dates(text: str, lang: str, expected: str) -> None:
    found = find_dates(text, lang, REF)
    assert found and found[0].date is not None and found[0].date.isoformat() == expected


def test_relative_date_without_document_date() -> None:
    [d] = find_dates("вчера", "ru", None)
    assert d.date is None and d.text == "вчера" and d.relative


@pytest.mark.parametrize(
    ("tokens", "lang", "expected"),
    [
        (["Вадима", "Михоева"], "ru", ["Вадим", "Михоев"]),
        (["Натаном", "Касаткиным"], "ru", ["Натан", "Касаткин"]),
        (["Марии", "Петровой"], "ru", ["Мария", "Петрова"]),
        (["Тарасов", "Денис", "Олегович"], "ru", ["Тарасов", "Денис", "Олегович"]),
        (["Миколи", "Коваленка"], "uk", ["Микола", "Коваленко"]),
        (["Олени", "Іванової"], "uk", ["Олена", "Іванова"]),
        (["Петрука", "Василя", "Івановича"], "uk", ["Петрук", "Василь", "Іванович"]),
        (["Буйничів", "Костянтин", "Сергійович"], "uk", ["Буйничів", "Костянтин", "Сергійович"]),
    ],
)
def test_names_back_to_nominative(tokens: list[str], lang: str, expected: list[str]) -> None:
    assert lemmatize_name(tokens, lang) == expected
