"""The remains model's comparisons (kinlink.matching.physical): marks across languages, the physical
description, where and when found; and that an ordinary person's model does not run them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kinlink.matching.model import load_model, model_from_dict
from kinlink.matching.physical import height_range, parse_marks, vocabulary
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.person.remains_fields import FIELDS as REMAINS_FIELDS
from kinlink.person.remains_fields import RemainsIn, validate_remains

REMAINS = MatchRecord(
    id="u1",
    name="",
    sex="m",
    kind="remains",
    extra={
        "age_range": "30-40",
        "height": "176-184",
        "marks": "tattoo: eagle, left forearm",
        "found_date": "2022-04-02",
        "found_place": "Bucha",
    },
)


def _person(**extra: str) -> MatchRecord:
    return MatchRecord(id=1, name="Петренко Іван", sex="m", birth_date="1988-05-01", extra=extra)


def test_the_same_tattoo_in_four_languages_is_one_mark_at_one_place() -> None:
    texts = [
        "eagle, left forearm",
        "орёл на левом предплечье",
        "тату орел на лівому передпліччі",
        "tatuaj vultur pe antebrațul stâng",
    ]
    marks = [parse_marks(t)[0] for t in texts]
    assert {m.motifs for m in marks} == {frozenset({"eagle"})}
    assert {(p.side, p.part) for m in marks for p in m.places} == {("left", "forearm")}


def test_the_table_gives_each_form_one_meaning() -> None:
    vocab = vocabulary()  # refuses a form that stands for two concepts
    assert vocab.concept("levom") == ("side:left", None)
    assert vocab.concept("lev") == ("motif:lion", None)


def test_a_height_is_read_from_a_description_and_is_not_a_mark() -> None:
    assert height_range("рост 180 см") == (178, 182)
    assert height_range("about 1,75 m tall") == (173, 177)
    assert height_range("175-185") == (175, 185)
    assert parse_marks("Рост 180 см") == ()


def test_each_comparison_is_explained_field_by_field() -> None:
    model = load_model().remains
    assert model is not None
    scorer = Scorer(model, population=0)
    person = _person(
        marks="орёл на левом предплечье; рост 180 см", last_seen_date="2022-03-05", last_seen_place="Буча"
    )
    scored = scorer.score(scorer.prepare(REMAINS), scorer.prepare(person))
    levels = {e.field: e.level for e in scored.evidence}
    assert levels == {
        "marks": "mark_and_place",
        "age_when_found": "consistent",
        "height": "consistent",
        "sex": "same",
        "found_when": "after_within_year",
        "found_where": "exact",
    }
    said = {e.field: e.text for e in scored.evidence}
    assert "33 on the day found" in said["age_when_found"]
    assert "last seen 2022-03-05, found 2022-04-02" in said["found_when"]
    assert scored.probability > 0.9


def test_remains_found_before_the_person_was_last_seen_weigh_against() -> None:
    model = load_model().remains
    assert model is not None
    scorer = Scorer(model, population=0)
    person = _person(marks="scar on the right knee", last_seen_date="2022-06-01")
    scored = scorer.score(scorer.prepare(REMAINS), scorer.prepare(person))
    levels = {e.field: e.level for e in scored.evidence}
    assert levels["found_when"] == "before"
    assert levels["marks"] == "different"
    assert scored.probability < 0.05


def test_the_ordinary_model_has_none_of_the_remains_comparisons_and_round_trips() -> None:
    model = load_model()
    assert not {c.comparator for c in model.comparisons} & {"marks", "height", "age_when_found", "found_when"}
    again = model_from_dict(model.to_dict())
    assert again == model and again.remains == model.remains


@given(st.text(max_size=200))
def test_any_text_parses_without_error(text: str) -> None:
    for mark in parse_marks(text):
        assert mark.kinds or mark.motifs or mark.places
    height_range(text)


def test_every_remains_evidence_message_is_translated() -> None:
    from babel.messages.pofile import read_po

    from kinlink.i18n import TRANSLATIONS, gettext_for

    model = load_model().remains
    assert model is not None
    scorer = Scorer(model, population=0)
    people = [
        _person(
            marks="орёл на левом предплечье; рост 180 см", last_seen_date="2022-03-05", last_seen_place="Буча"
        ),
        _person(marks="eagle on the chest, 1,60 m", last_seen_date="2020-01-01", last_seen_place="Irpin"),
        _person(marks="scar on the right knee", last_seen_date="2022-06-01", last_seen_place="Bucha region"),
    ]
    wanted: set[str] = set()
    uk = gettext_for("uk")
    for person in people:
        scored = scorer.score(scorer.prepare(REMAINS), scorer.prepare(person))
        wanted |= set().union(*(e.message.ids() for e in scored.evidence))
        for e in scored.evidence:
            assert not any(w in e.message.text(uk) for w in ("found", "mark", "height", "age", "same")), (
                e.text
            )
    wanted |= {t for c in model.comparisons for t in (c.label, *(lv.text for lv in c.levels))}
    for lang in ("ro", "ru", "uk", "en"):
        with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            catalog = {m.id: m.string for m in read_po(f) if m.id}
        assert not sorted(w for w in wanted if not catalog.get(w)), lang


@given(
    st.dictionaries(
        st.sampled_from([*REMAINS_FIELDS, "other"]),
        st.one_of(st.none(), st.text(max_size=30), st.integers(-5, 300).map(str)),
    )
)
def test_any_row_of_remains_is_a_record_or_problems_each_naming_its_field(row: dict) -> None:  # type: ignore[type-arg]
    got = validate_remains(row)
    if isinstance(got, RemainsIn):
        assert got.found_date and got.recovered_by
        assert got.age_min is None or got.age_max is None or got.age_min <= got.age_max
    else:
        assert got and all(e.column in (*REMAINS_FIELDS, "other") for e in got)


def test_the_remains_window_keeps_the_plausible_and_no_one_else() -> None:
    from kinlink.matching.physical import plausible, window

    assert plausible(REMAINS, _person(last_seen_date="2022-03-05"))
    assert plausible(REMAINS, MatchRecord(id=2, name="x"))  # nothing known: compared
    assert not plausible(REMAINS, MatchRecord(id=3, name="x", sex="f", birth_date="1988"))
    assert not plausible(REMAINS, MatchRecord(id=4, name="x", birth_date="1960"))  # 62: beyond 40 + 10
    assert plausible(REMAINS, MatchRecord(id=5, name="x", birth_date="1971"))  # 50 or 51: within the margin
    assert not plausible(REMAINS, _person(last_seen_date="2022-04-03"))  # last seen after found
    w = window(REMAINS)
    assert (w.sex, w.born_from_year, w.born_before_year, w.seen_until) == ("m", 1971, 2003, "2022-04-02")
