"""Real-world renderings of one person must meet; relatives and namesakes must not."""

from __future__ import annotations

import pytest

from kinlink.names import LEVELS, MATCH_THRESHOLD, blocking_keys, compare

SAME_PERSON = {
    "Чехов Антон": ["Anton Chekhov", "Anton Tschechow", "Anton Tchekhov", "Anton Czechow", "Anton Cehov"],
    "Калашников Михаил": [
        "Mikhail Kalashnikov",
        "Michail Kalaschnikow",
        "Mikhaïl Kalachnikov",
        "Michaił Kałasznikow",
        "Mihail Kalașnikov",
    ],
    "Сенцов Олег": ["Oleh Sentsov", "Oleg Senzow", "Ołeh Sencow", "Oleg Sențov"],
    "Савченко Надія": ["Nadiya Savchenko", "Nadija Sawtschenko", "Nadia Savtchenko", "Nadia Savcenko"],
    "Конашенков Игорь": ["Igor Konașenkov"],
    "Пактышев Леонид Андреевич": ["Leonid Paktishev", "Пактишев Леонід", "Leonid Paktyschew"],
}
PAIRS = [(a, b) for a, bs in SAME_PERSON.items() for b in bs]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_renderings_of_one_person_match(a: str, b: str) -> None:
    c = compare(a, b)
    # 0.97 for a transliteration; a patronymic on one side only costs a little.
    assert c.score >= 0.93, c.reasons
    assert c.is_match
    assert c.family is not None and c.family.level in ("exact", "transliteration")
    assert c.given is not None and c.given.level in ("exact", "transliteration", "equivalent")


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_renderings_of_one_person_share_a_blocking_key(a: str, b: str) -> None:
    assert blocking_keys(a) & blocking_keys(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Надія Савченко", "Віра Савченко"),  # sisters
        ("Anton Chekhov", "Aleksandr Chekhov"),  # brothers
        ("Nadiya Savchenko", "Vira Savchenko"),
        ("Иванов Иван Петрович", "Иванов Иван Сергеевич"),  # namesakes, different fathers
        ("Иванов Александр", "Иванова Александра"),  # brother and sister
        ("Пактышев Леонид", "Пактышев Борис"),
    ],
)
def test_relatives_and_namesakes_do_not_match(a: str, b: str) -> None:
    c = compare(a, b)
    assert c.score < 0.75, c.reasons
    assert not c.is_match


def test_sisters_reason_names_the_given_names() -> None:
    c = compare("Надія Савченко", "Віра Савченко")
    assert c.given is not None and c.given.level == "different"
    assert "Надія" in c.given.reason.text() and "Віра" in c.given.reason.text()


def test_reason_names_the_convention() -> None:
    c = compare("ПАКТЫШЕВ Леонид Андреевич", "Leonid Paktyschew")
    assert c.family is not None
    assert "German" in c.family.reason.text()
    assert c.family.level == "transliteration"


@pytest.mark.parametrize(
    ("a", "b", "level", "phrase"),
    [
        ("Олексій Іванов", "Алексей Иванов", "equivalent", "Ukrainian form of Алексей"),
        ("Alexander Ivanov", "Иванов Александр", "equivalent", "Western form"),
        ("Лёня Пактышев", "Пактышев Леонид", "diminutive", "diminutive of Леонид"),
        ("Вова Сидоренко", "Сидоренко Володимир", "diminutive", "diminutive"),
        ("Серёжа Лавров", "Sergei Lavrov", "diminutive", "diminutive"),
        ("Petro Poroshenko", "Пётр Порошенко", "equivalent", "Ukrainian form"),
        ("Кирило Буданов", "Кирилл Буданов", "equivalent", "Ukrainian form of Кирилл"),
        ("Олена Зеленська", "Елена Зеленская", "equivalent", "Ukrainian form of Елена"),
    ],
)
def test_given_name_levels(a: str, b: str, level: str, phrase: str) -> None:
    c = compare(a, b)
    assert c.given is not None
    assert c.given.level == level, c.given
    assert phrase in c.given.reason.text()
    assert c.score >= MATCH_THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Иванова Мария", "Иванов Мария"),
        ("Kalashnikova Elena", "Калашников Елена"),
        ("Вишневская Ольга", "Вишневский Ольга"),
        ("Зеленська Олена", "Зеленський Олена"),
    ],
)
def test_gender_forms_of_family_names(a: str, b: str) -> None:
    c = compare(a, b)
    assert c.family is not None and c.family.level == "gender_form", c.family
    assert "feminine form" in c.family.reason.text()


def test_russian_and_ukrainian_adjectival_family_names_meet() -> None:
    c = compare("Вишневская Ольга", "Вишневська Ольга")
    assert c.family is not None and c.family.level == "transliteration"


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Андреевич", "Andrejewitsch", "transliteration"),
        ("Андреевич", "Andreevici", "transliteration"),
        ("Андреевич", "Andreïevitch", "transliteration"),
        ("Алексеевич", "Олексійович", "equivalent"),
        ("Андреевич", "Андреевна", "gender_form"),
        ("Иванович", "Іванівна", "gender_form"),
        ("Петрович", "Сергеевич", "different"),
    ],
)
def test_patronymics(a: str, b: str, level: str) -> None:
    from kinlink.names import compare_patronymic

    assert compare_patronymic(a, b).level == level


def test_initials() -> None:
    c = compare("Пактышев Л.А.", "ПАКТЫШЕВ Леонид Андреевич")
    assert c.given is not None and c.given.level == "initial"
    assert c.patronymic is not None and c.patronymic.level == "initial"
    assert c.is_match
    bad = compare("Пактышев Б.А.", "ПАКТЫШЕВ Леонид Андреевич")
    assert bad.given is not None and bad.given.level == "different"
    assert not bad.is_match


def test_a_record_that_agrees_on_more_parts_ranks_higher() -> None:
    q = "Сидоренко Олена Костянтинівна"
    full = compare(q, "СИДОРЕНКО Олена Костянтинівна").score
    without = compare(q, "СИДОРЕНКО Олена").score
    other = compare(q, "СИДОРЕНКО Олена Петрівна").score
    assert full > without > other


def test_typos_are_fuzzy_not_probable() -> None:
    c = compare("Leonid Pakrishev", "Пактышев Леонид")
    assert c.family is not None and c.family.level == "fuzzy"
    assert 0.7 < c.score < MATCH_THRESHOLD


def test_swapped_order_without_cues() -> None:
    c = compare("Paktishev Leonid", "Leonid Paktishev")
    assert c.score >= 0.95


def test_sibilants_survive() -> None:
    # The shortcut that turns Щербаков into "Serbakov" must not be ours.
    assert compare("Щербаков", "Shcherbakov").family.level == "transliteration"  # type: ignore[union-attr]
    assert compare("Хрущёв", "Khrushchev").family.level == "transliteration"  # type: ignore[union-attr]
    assert compare("Хрущёв", "Chruschtschow").family.level == "transliteration"  # type: ignore[union-attr]
    assert compare("Хрущёв", "Hrușciov").family.level == "transliteration"  # type: ignore[union-attr]
    assert compare("Щербаков Юрий", "Сербаков Юрий").family.level != "transliteration"  # type: ignore[union-attr]


def test_levels_are_the_published_ones() -> None:
    c = compare("Надія Савченко", "Nadia Savtchenko")
    for part in (c.family, c.given):
        assert part is not None and part.level in LEVELS


def test_settled_parts_only_where_the_order_is_known() -> None:
    from kinlink.names import parse_name, settled_parts

    a, b = parse_name("Пактышев Леонид Андреевич"), parse_name("Leonid Paktyshev")
    settled = settled_parts(a, b)
    assert settled is not None
    full = compare(a, b)
    assert settled == {"given": full.given, "patronymic": full.patronymic}
    assert settled["given"] is not None and settled["given"].level == "transliteration"
    assert settled["patronymic"] is None  # only one side has it
    # A lone given name leaves the order a guess: compare() may read it the other way round.
    assert settled_parts(parse_name("Леонид"), a) is None
