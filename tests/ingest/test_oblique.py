"""Names in oblique cases become the nominative of the right gender (issue 17, item 10).

The property: decline a person's name with pymorphy3 into the case a sentence governs, extract, and get the
nominative back ("взяли в полон Віталія Ткачука" is Віталій Ткачук, not a woman named Віталія).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.ingest.model import SourceDocument
from kinlink.ingest.morph import _parses, analyse_name, context_cases
from kinlink.ingest.pipeline import process_document

# Common names; surnames of the main Ukrainian and Russian declension types (-енко, -ук/-юк, -ець with a
# fleeting vowel, -ар/-яр, -ов/-ёв, -ин, adjectival -ський/-ский).
GIVEN = {
    ("uk", "masc"): ["Андрій", "Богдан", "Віталій", "Данило", "Ігор", "Микола", "Олег", "Петро", "Тарас"],
    ("uk", "femn"): ["Олена", "Оксана", "Ганна", "Ірина", "Наталія", "Богдана"],
    ("ru", "masc"): ["Сергей", "Андрей", "Дмитрий", "Илья", "Никита", "Павел", "Игорь", "Алексей"],
    ("ru", "femn"): ["Елена", "Анна", "Ольга", "Наталья", "Ирина"],
}
SURNAMES = {
    ("uk", "masc"): ["Ткачук", "Мельничук", "Коваленко", "Бондар", "Кравець", "Шевчук", "Гончар", "Савчук"],
    ("uk", "femn"): ["Ткачук", "Коваленко", "Бондар", "Шевчук", "Лисенко"],  # indeclinable for women
    ("ru", "masc"): ["Ковалёв", "Петров", "Громов", "Соколов", "Рябов", "Ильин"],
    ("ru", "femn"): ["Ковалёва", "Петрова", "Громова", "Соколова", "Ильина"],
}
# A sentence governing each case, with a status cue agreeing in gender.
SENTENCES = {
    ("uk", "accs"): ("Окупанти взяли в полон {} під Бахмутом.", "Окупанти взяли в полон {} під Бахмутом."),
    ("uk", "gent"): ("Рідні досі шукають зниклого безвісти {}.", "Рідні досі шукають зниклу безвісти {}."),
    ("uk", "datv"): ("Пораненому {} надали допомогу в шпиталі.", "Пораненій {} надали допомогу в шпиталі."),
    ("uk", "ablt"): (
        "Зв'язок із {} втрачено, він зник безвісти.",
        "Зв'язок із {} втрачено, вона зникла безвісти.",
    ),
    ("ru", "accs"): ("Военные взяли в плен {} под Курском.", "Военные взяли в плен {} под Курском."),
    ("ru", "gent"): ("Родные ищут пропавшего без вести {}.", "Родные ищут пропавшую без вести {}."),
    ("ru", "datv"): ("Раненому {} оказали помощь в госпитале.", "Раненой {} оказали помощь в госпитале."),
    ("ru", "ablt"): (
        "Связь с {} потеряна, он пропал без вести.",
        "Связь с {} потеряна, она пропала без вести.",
    ),
}


def decline(word: str, lang: str, gender: str, case: str, tag: str) -> str:
    """The word in a case, from pymorphy3's paradigm of its name reading of that gender."""
    for p in _parses(word, lang):
        if tag in p.tag.grammemes and p.tag.gender == gender and p.tag.case == "nomn":
            form = p.inflect({case} | ({"sing"} if lang == "ru" else set()))
            if form is not None:
                return form.word[:1].upper() + form.word[1:]
    return word  # indeclinable (a woman's -енко, -ук)


@st.composite
def declined(draw: st.DrawFn) -> tuple[str, str, str, str, str]:
    lang = draw(st.sampled_from(["uk", "ru"]))
    gender = draw(st.sampled_from(["masc", "femn"]))
    case = draw(st.sampled_from(["accs", "gent", "datv", "ablt"]))
    given_name = draw(st.sampled_from(GIVEN[(lang, gender)]))
    surname = draw(st.sampled_from(SURNAMES[(lang, gender)]))
    text = " ".join(
        [decline(given_name, lang, gender, case, "Name"), decline(surname, lang, gender, case, "Surn")]
    )
    sentence = SENTENCES[(lang, case)][gender == "femn"].format(text)
    return lang, sentence, f"{given_name} {surname}", gender, case


@settings(max_examples=40, deadline=None)
@given(declined())
def test_declined_name_in_a_sentence_is_extracted_in_the_nominative(
    case: tuple[str, str, str, str, str],
) -> None:
    lang, sentence, nominative, _, _ = case
    doc = SourceDocument("x.txt", sentence, "0", "text", date=dt.date(2024, 5, 1))
    result = process_document(doc, language=lang)
    assert [s.name for s in result.sightings] == [nominative], sentence


@pytest.mark.parametrize(
    ("words", "lang", "expected", "gender"),
    [
        ("Данила Бондаря", "uk", "Данило Бондар", "masc"),
        ("Віталія Ткачука", "uk", "Віталій Ткачук", "masc"),  # not a woman named Віталія
        ("Богдана Коваленко", "uk", "Богдана Коваленко", "femn"),  # a man's -енко would decline
        ("Ігоря Зайця", "uk", "Ігор Заєць", "masc"),  # fleeting vowel
        ("Олександрові Кравчуку", "uk", "Олександр Кравчук", "masc"),
        ("Андрія Петровича Мельника", "uk", "Андрій Петрович Мельник", "masc"),
        ("Сергея Ковалёва", "ru", "Сергей Ковалёв", "masc"),
        ("Дмитрия Рябова", "ru", "Дмитрий Рябов", "masc"),  # not the rare feminine nominative
        ("Натальи Кругловой", "ru", "Наталья Круглова", "femn"),
        ("Павлом Громовым", "ru", "Павел Громов", "masc"),
    ],
)
def test_agreement_decides_case_and_gender(words: str, lang: str, expected: str, gender: str) -> None:
    parsed = analyse_name(words.split(), lang)
    assert (" ".join(parsed.lemmas), parsed.gender) == (expected, gender)


def test_context_governs_a_lone_given_name() -> None:
    assert context_cases(["з"], "uk") == frozenset({"gent", "ablt"})
    assert "accs" in context_cases(["взяли"], "uk") or "accs" in context_cases(["взяли"], "ru")
    # "Петра" alone: a woman's nominative, or Петро after a preposition governing the genitive.
    assert analyse_name(["Петра"], "uk").lemmas == ["Петра"]
    assert analyse_name(["Петра"], "uk", context_cases(["від"], "uk")).lemmas == ["Петро"]
