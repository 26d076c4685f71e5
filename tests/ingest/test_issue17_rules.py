"""Issue 17, items 6-9: lists and captions, officials who are casualties, relatives and place adjectives,
and which status is said of whom. Sentences written for these tests (not from any label set)."""

from __future__ import annotations

import datetime as dt

import pytest

from kinlink.ingest.model import ExtractionResult, SourceDocument
from kinlink.ingest.pipeline import process_document
from kinlink.ingest.sentences import split_sentences


def run(text: str, lang: str) -> ExtractionResult:
    return process_document(
        SourceDocument("t.txt", text, "0", "text", date=dt.date(2024, 6, 1)), language=lang
    )


def people(result: ExtractionResult) -> dict[str, tuple[str, int | None]]:
    return {s.name: (s.status, s.age) for s in result.sightings}


def test_semicolon_enumeration_is_a_list_under_its_heading() -> None:
    parts = split_sentences("Звільнені з полону: Петро Коваль, 30 років; Іван Лях. Усі вдома.")
    assert parts == [
        ("Звільнені з полону:", False),
        ("Петро Коваль, 30 років;", True),
        ("Іван Лях.", True),
        ("Усі вдома.", False),
    ]
    # Prose with a semicolon between long clauses stays a sentence.
    prose = (
        "He was taken prisoner in 2022 near the town; a long time later his mother finally received a "
        "letter from him through the Red Cross in Geneva and the embassy."
    )
    assert len(split_sentences(prose)) == 1


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        (
            "В плену остаются: Сомов Олег, 25 лет; Тихонов Павел, 38 лет; Гусев Иван.",
            "ru",
            {
                "Сомов Олег": ("captured", 25),
                "Тихонов Павел": ("captured", 38),
                "Гусев Иван": ("captured", None),
            },
        ),
        (
            "Among those killed were Cpl. Andriy Moroz, 31; Pvt. Ivan Dzyuba, 20; and medic Olena Hrytsai.",
            "en",
            {
                "Andriy Moroz": ("killed", 31),
                "Ivan Dzyuba": ("killed", 20),
                "Olena Hrytsai": ("killed", None),
            },
        ),
        (
            "Au fost răniți: Ion Moraru, 33 de ani; Vasile Crețu, 52 de ani.",
            "ro",
            {"Ion Moraru": ("wounded", 33), "Vasile Crețu": ("wounded", 52)},
        ),
    ],
)
def test_semicolon_lists_give_each_person_status_and_own_age(
    text: str, lang: str, expected: dict[str, tuple[str, int | None]]
) -> None:
    assert people(run(text, lang)) == expected


def test_caption_line_age_before_the_dash() -> None:
    got = people(
        run("Our losses this week:\nOleh Panchenko, 44 — killed in action\nYurii Savka — missing", "en")
    )
    assert got == {"Oleh Panchenko": ("killed", 44), "Yurii Savka": ("missing", None)}
