"""The given-name table and its lookups."""

from __future__ import annotations

import pytest

from kinlink.names import canonical_given, is_known_given_name
from kinlink.names.given import given_forms


@pytest.mark.parametrize(
    ("spellings", "cid"),
    [
        (
            ["Олексій", "Алексей", "Алёша", "Alexei", "Oleksiy", "Oleksii", "Aleksiej", "Alexis", "Лёша"],
            "aleksei",
        ),
        (["Александр", "Олександр", "Аляксандр", "Саша", "Alexander", "Alexandre", "Oleksandr"], "aleksandr"),
        (["Пётр", "Петро", "Piotr", "Pyotr", "Peter", "Petya", "Петя"], "petr"),
        (["Кирилл", "Кирило", "Kirill", "Kyrylo", "Cyril"], "kirill"),
        (["Елена", "Олена", "Olena", "Yelena", "Hélène", "Лена"], "elena"),
        (["Леонид", "Леонід", "Лёня", "Leonid"], "leonid"),
        (["Владимир", "Володимир", "Володя", "Вова", "Wladimir", "Volodymyr"], "vladimir"),
        (["Дмитрий", "Дмитро", "Дима", "Dmitri", "Dmytro"], "dmitri"),
        (["Сергей", "Сергій", "Серёжа", "Serhiy", "Sergei", "Siergiej"], "sergei"),
        (["Иван", "Іван", "Ваня", "Ivan", "Iwan"], "ivan"),
        (["Евгений", "Євген", "Женя", "Yevhen", "Jewgeni", "Evgeny"], "evgeni"),
        (["Надежда", "Надія", "Надя", "Nadiya", "Nadia"], "nadezhda"),
    ],
)
def test_canonical_given(spellings: list[str], cid: str) -> None:
    for s in spellings:
        assert canonical_given(s) == cid, s


@pytest.mark.parametrize("token", ["Ivan", "Mihail", "Olena", "Надія", "Nicolas"])
def test_known_given_names(token: str) -> None:
    assert is_known_given_name(token)


@pytest.mark.parametrize("token", ["Paktishev", "Иванов", "Kalashnikov", "Romania", "the", "Шевченко"])
def test_not_given_names(token: str) -> None:
    assert not is_known_given_name(token)


def test_faker_first_names_are_all_known() -> None:
    faker = pytest.importorskip("faker")
    missing = []
    for loc in ("ru_RU", "uk_UA"):
        prov = faker.Faker(loc).provider("faker.providers.person")
        for name in (*prov.first_names_male, *prov.first_names_female):
            if not is_known_given_name(name):
                missing.append(name)
    assert not missing


def test_male_and_female_forms_share_a_class_but_not_a_sex() -> None:
    assert canonical_given("Александра") == canonical_given("Александр") == "aleksandr"
    assert {g.sex for g in given_forms("Александра")} == {"f"}


def test_table_has_sources_named() -> None:
    from importlib import resources

    text = resources.files("kinlink.names").joinpath("data/given_names.tsv").read_text("utf-8")
    header = "\n".join(ln for ln in text.splitlines() if ln.startswith("#"))
    assert "Sources" in header and "Петровский" in header
