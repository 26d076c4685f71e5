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


@pytest.mark.parametrize(
    ("text", "lang", "subject", "status", "official"),
    [
        # A status said of an official or a former one beats the rule of the office (item 7).
        ("Депутат Луцької міської ради Сергій Гуменюк загинув під Бахмутом.", "uk", "Сергій Гуменюк",
         "killed", None),
        ("Бывший глава поселка Андрей Ляшко, которого задержали в 2022 году, освобожден, сообщил губернатор "
         "Вячеслав Гладков.", "ru", "Андрей Ляшко", "released", "Вячеслав Гладков"),
        ("Mykola Tkach, the former mayor of the town of Vasylivka, was freed in a swap, regional governor "
         "Ivan Fedorov said.", "en", "Mykola Tkach", "released", "Ivan Fedorov"),
        ("Colonelul Igor Zaharov a fost ucis în regiunea Herson, a anunțat guvernatorul Vladimir Saldo.",
         "ro", "Igor Zaharov", "killed", "Vladimir Saldo"),
    ],
)  # fmt: skip
def test_a_status_about_the_person_beats_the_official_rule(
    text: str, lang: str, subject: str, status: str, official: str | None
) -> None:
    result = run(text, lang)
    assert {s.name: s.status for s in result.sightings} == {subject: status}
    if official:
        assert official in {m.name for m in result.mentions}


def test_an_official_who_speaks_takes_no_status() -> None:
    result = run(
        "Начальник Харківської обласної військової адміністрації Олег Синєгубов: поранено трьох людей.", "uk"
    )
    assert result.sightings == []


def test_relatives_and_place_adjectives_are_not_subjects() -> None:
    text = (
        "Зник безвісти солдат Ігор Бондар. Батько бійця, Микола Степанович Бондар, звернувся до поліції. "
        "Сестра Ігоря, Тетяна, щодня переглядає відео з полоненими."
    )
    result = run(text, "uk")
    assert {s.name: s.status for s in result.sightings} == {"Ігор Бондар": "missing"}
    result = run(
        "Голова Рівненської ОВА Олександр Коваль повідомив про загибель бійця Степана Гнатюка.", "uk"
    )
    assert {s.name: s.status for s in result.sightings} == {"Степан Гнатюк": "killed"}
    assert [m.name for m in result.mentions] == ["Олександр Коваль"]


def test_status_goes_to_whom_it_is_said_of() -> None:
    # Item 9: "defunctul" is one man; "dat dispărut" later is said of another.
    text = (
        "Defunctul, Grigore Lungu, de 52 de ani, a fost înmormântat la Orhei. "
        "Un alt voluntar, Dumitru Sârbu, a fost dat dispărut în aceeași lună."
    )
    got = {s.name: s.status for s in run(text, "ro").sightings}
    assert got == {"Grigore Lungu": "killed", "Dumitru Sârbu": "missing"}
    # Coming home "on the shield" is a death, not a release; the next sentence's verb has no subject of
    # its own and dates it.
    text = "На щиті повернувся додому Василь Кравчук. Загинув 3 травня під Часовим Яром."
    [s] = run(text, "uk").sightings
    assert (s.name, s.status, str(s.date)) == ("Василь Кравчук", "killed", "2024-05-03")


def test_an_official_near_a_status_word_that_is_not_his_predicate() -> None:
    result = run("Голова громади Іван Петрук звільненим передав продуктові набори.", "uk")
    assert result.sightings == []
    result = run("Глава района Сергей Котов погибших помянул минутой молчания.", "ru")
    assert result.sightings == []


def test_a_contact_list_under_an_appeal_is_no_list_of_the_missing() -> None:
    text = (
        "Якщо ви маєте інформацію про зниклих безвісти, звертайтеся:\n"
        "— Ірина Савчук, координаторка, +380 67 123 45 67;\n"
        "— Олег Марченко, @poshuk_volyn."
    )
    assert run(text, "uk").sightings == []
