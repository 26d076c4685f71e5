"""The evidence a caseworker reads: messages (an id and its values) rendered in the reader's language, and
saying only what is true (which side lacks a value, a partial date as a range, no certainty, namesakes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kinlink.i18n import TRANSLATIONS, gettext_for
from kinlink.matching import names_bridge as nb
from kinlink.matching.evidence import probability_band, rendered_explanation, stored_message
from kinlink.matching.model import DEFAULT_MODEL_PATH, load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import TermFrequencies
from kinlink.messages import Message, from_data, say
from kinlink.names import compare

MODEL = load_model()


def _scorer(records: list[MatchRecord]) -> Scorer:
    tf = TermFrequencies()
    for r in records:
        tf.add(nb.tf_keys(r.name))
    return Scorer(MODEL, tf)


def _score(query: MatchRecord, record: MatchRecord, population: list[MatchRecord] | None = None):  # type: ignore[no-untyped-def]
    s = _scorer(population or [record])
    return s.score(s.prepare(query), s.prepare(record))


# --- messages -------------------------------------------------------------------------------------------


def test_a_message_renders_its_values_with_the_same_translator() -> None:
    m = say(
        "%(part)s: %(reason)s",
        part=Message("family name"),
        reason=say("identical (%(name)s)", name="Гаврилов"),
    )
    assert m.text() == "family name: identical (Гаврилов)"
    assert m.text(gettext_for("ru")) == "фамилия: совпадает (Гаврилов)"
    assert m.text(gettext_for("uk")) == "прізвище: збігається (Гаврилов)"
    assert from_data(json.loads(json.dumps(m.to_data()))) == m
    assert m.to_json()["text"] == m.text()


def test_a_stored_explanation_without_messages_still_reads() -> None:
    old = {"level": "exact", "weight": 3.0, "text": "same unit"}
    assert stored_message(old).text() == "same unit"
    assert stored_message(old).text(gettext_for("ru")) == "та же часть"


def _catalog_ids(lang: str) -> dict[str, str]:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def _evidence_ids() -> set[str]:
    """Every message id the names and the scorer say about a varied set of pairs."""
    population = [
        MatchRecord(1, "ПАКТЫШЕВ Леонид Андреевич", ("Leonid Paktishev",), sex="m", birth_date="1993-05-02",
                    unit="64 омсбр", capture_date="2022-03-05", capture_place="Буча", rank="рядовой"),
        MatchRecord(2, "Пактышев Олег", sex="m"),
        MatchRecord(3, "Иванова Мария Петровна", sex="f", birth_date="1990"),
        MatchRecord(4, "Гаврилов Иван"),
        MatchRecord(5, "Гаврилов Пётр"),
    ]  # fmt: skip
    queries = [
        MatchRecord(None, "Paktyschew Lionia A.", birth_date="1993", capture_date="2022-03", unit="64 ОМСБр"),
        MatchRecord(None, "Пактишев Леонід Андрійович", sex="f", capture_date="2022-09-01", rank="сержант"),
        MatchRecord(None, "Иванов Мария", birth_date="1991-07"),
        MatchRecord(None, "Гаврилов"),
        MatchRecord(None, "Л. А. Пактышев", capture_place="Ирпень"),
    ]
    s = _scorer(population)
    ids: set[str] = set()
    for q in queries:
        for r in population:
            scored = s.score(s.prepare(q), s.prepare(r))
            ids |= set().union(*(e.message.ids() for e in scored.evidence))
            ids |= scored.band.ids() | (scored.note.ids() if scored.note else set())
    pairs = [
        ("Олексій Іванов", "Alexis Ivanoff"),
        ("Надія Савченко", "Віра Савченко"),
        ("Вова Сидоренко", "Сидоренко Володимир"),
        ("Олександр Шевченко", "Oleksandra Shevchenko"),
        ("Sergei Lavrov", "Serghei Lavrov"),
        ("Іванов Петро", "Petro"),
    ]
    for a, b in pairs:
        ids |= set().union(*(r.ids() for r in compare(a, b).reasons))
    return ids


def test_every_evidence_message_is_translated() -> None:
    model = json.loads(Path(DEFAULT_MODEL_PATH).read_text("utf-8"))
    wanted = _evidence_ids() | {
        t for c in model["comparisons"] for t in (c["label"], *(lv["text"] for lv in c["levels"]))
    }
    assert len(wanted) > 40
    for lang in ("ro", "ru", "uk", "en"):
        catalog = _catalog_ids(lang)
        missing = sorted(w for w in wanted if not catalog.get(w))
        assert not missing, f"{lang}: {missing}"


def test_a_ukrainian_reader_reads_no_english_evidence() -> None:
    record = MatchRecord(1, "Гаврилов Іван Петрович", sex="m", birth_date="1990-04-02", unit="64 омсбр")
    query = MatchRecord(None, "Гаврилов Иван", birth_date="1990", capture_date="2022-03")
    scored = _score(query, record)
    _ = gettext_for("uk")
    texts = [e.message.text(_) for e in scored.evidence] + [scored.band.text(_)]
    for english in ("same", "family name", "not known", "records share", "likely", "captured", "birth"):
        assert not any(english in t for t in texts), (english, texts)
    rendered = rendered_explanation(scored.explanation(), _)
    assert rendered["family_name"]["text"].startswith("same family name")  # English stays for old readers
    assert rendered["family_name"]["message"]["text"].startswith("те саме прізвище")


# --- saying what is true --------------------------------------------------------------------------------


def test_a_missing_value_says_which_side_lacks_it() -> None:
    record = MatchRecord(1, "Гаврилов Іван", unit="64 омсбр")
    query = MatchRecord(None, "Гаврилов Іван", rank="рядовой")
    expl = _score(query, record).explanation()
    assert expl["unit"]["level"] is None and "only the record has it" in expl["unit"]["text"]
    assert expl["rank"]["level"] is None and "only the person sought has it" in expl["rank"]["text"]
    assert expl["service_number"]["text"] == "not known on either side"


def test_both_patronymics_are_compared_even_when_the_closest_spellings_lack_them() -> None:
    # The Latin spellings agree as well as the Cyrillic ones; the Cyrillic ones carry the patronymic.
    query = MatchRecord(None, "Demidovich Ivan", ("Демидович Иван Петрович",))
    record = MatchRecord(1, "Demidovich Ivan", ("Демидович Иван Петрович",))
    expl = _score(query, record).explanation()
    assert expl["patronymic"]["level"] == "exact", expl["patronymic"]
    other = MatchRecord(2, "Demidovich Ivan", ("Демидович Иван Сергеевич",))
    expl = _score(query, other).explanation()
    assert expl["patronymic"]["level"] == "different", expl["patronymic"]


@pytest.mark.parametrize(
    ("sought", "found", "level"),
    [
        ("2022-03-05", "2022-03-07", "close"),
        ("2022-03", "2022-03-05", "same_month"),  # a month is a range: not "within three days"
        ("2022", "2022-03-05", "consistent"),
        ("2022-03-05", "2022-09-01", "different"),
    ],
)
def test_a_partial_capture_date_is_a_range(sought: str, found: str, level: str) -> None:
    expl = _score(MatchRecord(None, "Гаврилов Іван", capture_date=sought),
                  MatchRecord(1, "Гаврилов Іван", capture_date=found)).explanation()  # fmt: skip
    assert expl["capture_date"]["level"] == level
    assert ("within three days" in expl["capture_date"]["text"]) == (level == "close")
    assert f"({sought} / {found})" in expl["capture_date"]["text"]


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (1.0, "almost certainly the same person (over 99 %)"),
        (0.99999, "almost certainly the same person (over 99 %)"),
        (0.9734, "almost certainly the same person (97.3 %)"),
        (0.85, "very likely the same person (85.0 %)"),
        (0.6, "likely the same person (60.0 %)"),
        (0.5, "as likely as not the same person (50.0 %)"),
        (0.25, "unlikely to be the same person (25.0 %)"),
        (0.1, "very unlikely to be the same person (10.0 %)"),
        (0.027, "a remote chance of being the same person (2.7 %)"),
        (0.0001, "a remote chance of being the same person (under 0.1 %)"),
    ],
)
def test_a_probability_is_said_in_words_and_never_as_certain(p: float, text: str) -> None:
    band = probability_band(p)
    assert band.text() == text
    assert "100" not in band.text(gettext_for("ru"))


def test_a_family_name_alone_says_how_many_share_it_and_what_would_tell_them_apart() -> None:
    people = [
        MatchRecord(i, f"Гаврилов {g}", birth_date=f"19{80 + i}", unit="64 омсбр")
        for i, g in enumerate(["Іван", "Петро", "Олег", "Павло", "Сергій"])
    ]
    s = _scorer(people)
    scored = s.score(s.prepare(MatchRecord(None, "Гаврилов")), s.prepare(people[0]))
    assert scored.note is not None
    note = scored.note.text()
    assert note == (
        "only a family name was given, and 5 records bear it: "
        "given name, date of birth or unit would tell them apart"
    )
    assert scored.note.text(gettext_for("ru")) == (
        "указана только фамилия; записей с этой фамилией: 5. "
        "Различить их помогут: имя, дата рождения или воинская часть"
    )
    # With the given name there is nothing to add.
    full = s.score(s.prepare(MatchRecord(None, "Гаврилов Іван")), s.prepare(people[0]))
    assert full.note is None
