"""PFIF 1.1 to 1.4 as partners send them (issue 20): files of every version written for the project from the
specification (tests/registry/pfif/), each imported, exported (1.4 and 1.2) and re-imported into a fresh
database with the same people, names and events; notes-only files, multi-line names, linked records,
expiry and deletions; idempotency; bad input refused naming the field with nothing written; a property
test of the importer."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from defusedxml import ElementTree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

from kinlink.errors import Refused
from kinlink.registry import erasure, pfif, pfif_format
from kinlink.store import schema
from kinlink.store.db import make_engine, unit_of_work
from kinlink.store.models import Event, Person, PersonName, Source, Tombstone
from kinlink.store.tracing_models import MatchCandidate
from tests.support import Cli, add_record, counts

FILES = Path(__file__).with_name("pfif")
NS = {"pfif": pfif.NS}


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Engine]:
    """Another kinlink's database, empty: where an export is read back."""
    engine = make_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def snapshot(engine: Engine) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every partner record: its names in order and its history (kind, date, place, note, author)."""
    with Session(engine) as s:
        out = {}
        for p in s.scalars(select(Person).join(Source).where(Source.name.like("pfif:%"))):
            out[p.source_record_id] = (
                [n.full_name for n in p.names],
                sorted((e.kind, e.date, e.place, e.note, e.author) for e in p.events),
            )
        return out


def person(engine: Engine, record_id: str) -> Person:
    """A record with its names and history, read in a session of its own (closed: no lock is held)."""
    with Session(engine) as s:
        found = s.scalar(
            select(Person)
            .where(Person.source_record_id == record_id)
            .options(selectinload(Person.names), selectinload(Person.events))
        )
        assert found is not None, record_id
        return found


def test_pfif_1_1_names_address_photo_and_found_notes(engine: Engine) -> None:
    result = pfif.import_xml(engine, read("v1_1.xml"), "test")
    assert (result.version, result.created) == ("1.1", 1)
    p = person(engine, "old.example.org/person.11")
    assert [n.full_name for n in p.names] == ["Jean Baptiste Pierre"]
    assert (p.names[0].given_names, p.names[0].family_name) == ("Jean Baptiste", "Pierre")
    assert p.residence == "Port-au-Prince, Ouest"
    assert "home address: Rue Capois 12, HT6110" in (p.notes or "")
    assert "photo (reference): http://old.example.org/photo/11.jpg" in (p.notes or "")
    assert "Tall, scar on the left hand." in (p.notes or "")
    # found=false says nothing of the person: a note; found=true: the author met them alive.
    assert [(e.kind, e.date, e.author, e.confirmation) for e in p.events] == [
        ("note", "2010-01-17", "Marie Joseph", "public"),
        ("found", "2010-01-19", "Paul Louis", "public"),
    ]
    assert p.status == "found"


def test_pfif_1_2_and_a_later_notes_only_file(engine: Engine) -> None:
    first = pfif.import_xml(engine, read("v1_2.xml"), "test")
    assert (first.version, first.created, first.links) == ("1.2", 2, 1)
    a = person(engine, "finder.example.org/person.21009")
    assert (
        [n.full_name for n in a.names] == ["Андрій Коваль"] and a.sex == "m" and a.birth_date == "1988-07-14"
    )
    assert a.residence == "Маріуполь, Донецька область, UA" and a.status == "missing"
    b = person(engine, "finder.example.org/person.21010")
    assert b.age is None and "age: 30-40" in (b.notes or "")  # a range is kept, not narrowed to one age
    assert [(e.kind, e.note) for e in b.events] == [("note", "Same man as person.21009, entered twice.")]
    # linked_person_record_id: the two records proposed as one person, for a caseworker to decide.
    with Session(engine) as s:
        link = s.scalars(select(MatchCandidate).where(MatchCandidate.left_person_id.is_not(None))).one()
        assert {link.left_person_id, link.person_id} == {a.id, b.id} and link.state == "pending"

    before = counts(engine)
    again = pfif.import_xml(engine, read("v1_2.xml"), "test")
    assert (again.created, again.updated, again.unchanged, again.links) == (0, 0, 2, 0)
    assert {k: v for k, v in counts(engine).items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"
    }

    # A later file of notes only: the death reported by a neighbour joins the history (and the status),
    # as reported by a member of the public; the note about a person kinlink never had is reported.
    later = pfif.import_xml(engine, read("notes_1_2.xml"), "test")
    assert (later.updated, later.notes_added, later.created) == (1, 1, 0)
    assert len(later.unknown_notes) == 1 and "person.99999" in later.unknown_notes[0]
    a = person(engine, "finder.example.org/person.21009")
    assert a.status == "dead" and a.status_date == "2022-04-01"
    assert [(e.kind, e.author, e.confirmation) for e in a.events] == [
        ("missing", "Олена Коваль", "public"),
        ("died", "Сусід", "public"),
    ]
    twice = pfif.import_xml(engine, read("notes_1_2.xml"), "test")
    assert (twice.updated, twice.notes_added) == (0, 0) and len(twice.unknown_notes) == 1
    assert len(person(engine, "finder.example.org/person.21009").events) == 2


def test_pfif_1_3_full_name_expiry_and_a_deletion(engine: Engine) -> None:
    with unit_of_work(engine) as s:
        # kinlink had the record the partner has since let expire.
        src = Source(name="pfif:sahana.example.net", kind="partner")
        s.add(src)
    first = pfif.import_xml(engine, read("v1_3.xml").replace(b"person.302</", b"person.302</"), "test")
    assert first.version == "1.3" and first.created == 1
    p = person(engine, "sahana.example.net/person.301")
    assert [n.full_name for n in p.names] == ["Ion Popescu"] and p.expiry_date == "2031-06-07"
    assert p.age == 52 and p.age_as_of == "2023-06-07" and p.status == "found"
    assert [e.kind for e in p.events] == ["missing", "found"]
    with Session(engine) as s:
        stone = s.scalars(select(Tombstone).where(Tombstone.key == "sahana.example.net/person.302")).one()
        assert stone.reason == pfif.PARTNER_ERASED
    # An older file that still holds person.302 cannot bring it back.
    old = read("v1_3.xml").replace(
        b"<pfif:expiry_date>2023-07-01T00:00:00Z</pfif:expiry_date>",
        b"<pfif:full_name>Maria Popescu</pfif:full_name>",
    )
    assert pfif.import_xml(engine, old, "test").skipped == [
        "sahana.example.net/person.302: erased here before"
    ]


def test_pfif_1_4_multi_line_names_are_separate_forms(engine: Engine) -> None:
    result = pfif.import_xml(engine, read("v1_4.xml"), "test")
    assert result.version == "1.4" and result.created == 1
    p = person(engine, "pf.example.com/person.4001")
    assert [(n.full_name, n.script) for n in p.names] == [
        ("Шевчук Тарас Миколайович", "Cyrillic"),
        ("Shevchuk Taras", "Latin"),
        ("Шевчук Тарас Николаевич", "Cyrillic"),
    ]
    assert p.names[1].family_name == "Shevchuk"  # each form parsed and matched on its own
    assert "profile (reference): https://other.example/t.shevchuk" in (p.notes or "")
    assert p.expiry_date == "2030-02-20" and p.status == "found"
    # The note outside its person joined it, with its photo kept as a reference.
    assert [(e.kind, e.ref) for e in p.events] == [
        ("missing", "pf.example.com/note.40011"),
        ("found", "pf.example.com/note.40012"),
    ]
    assert "photo (reference): https://pf.example.com/photo/n40012.jpg" in (p.events[1].note or "")
    with Session(engine) as s:
        keys = s.scalars(select(PersonName.folded).where(PersonName.person_id == p.id)).all()
    assert "shevchuk taras" in keys


@pytest.mark.parametrize("version", ["1.4", "1.2"])
def test_every_file_exported_and_read_back_elsewhere(
    engine: Engine, fresh: Engine, cli: Cli, tmp_path: Path, version: str
) -> None:
    for name in ("v1_1.xml", "v1_2.xml", "notes_1_2.xml", "v1_3.xml", "v1_4.xml"):
        pfif.import_xml(engine, read(name), "test")
    here = snapshot(engine)
    out = tmp_path / "out.xml"
    args = ["export", "pfif", "--all", "-o", str(out)] + (["--version", version] if version != "1.4" else [])
    cli(*args)
    data = out.read_bytes()
    assert f'xmlns:pfif="http://zesty.ca/pfif/{version}"'.encode() in data
    elsewhere = pfif.import_xml(fresh, data, "partner")
    assert elsewhere.created == len(here)
    assert snapshot(fresh) == here
    # The erasure travels as a deletion in 1.4 (1.2 has no expiry to say it with).
    with Session(fresh) as s:
        stones = s.scalars(select(Tombstone.key)).all()
    assert stones == (["sahana.example.net/person.302"] if version == "1.4" else [])
    # And read back again there, nothing changes.
    assert pfif.import_xml(fresh, data, "partner").unchanged == len(here)


LEVELLED = [
    ("missing", "2022-02-27", "family"),
    ("captured", "2022-03-01", "detaining_power"),
    ("hospitalised", "2022-04-02", "icrc_visit"),
    ("died", "2022-05-10", "documents"),
    ("buried", "2022-05-20", "open_source"),
]


@pytest.mark.parametrize("version", ["1.4", "1.2"])
def test_between_two_kinlinks_each_event_keeps_how_it_is_known(
    engine: Engine, fresh: Engine, tmp_path: Path, version: str
) -> None:
    """The level travels in kinlink's own element beside the note (kinlink:confirmation: PFIF readers ignore
    another namespace's elements), so a death confirmed by documents is still told as a fact over there;
    a PFIF file without it (any other writer's) keeps the level PFIF implies, a member of the public's."""
    with unit_of_work(engine) as s:
        add_record(
            s,
            "t",
            {
                "full_name": "Гнатюк Павло Іванович",
                "birth_date": "1990-06-01",
                "events": [{"kind": k, "date": d, "confirmation": c} for k, d, c in LEVELLED],
            },
        )
    feed = pfif.export_xml(engine, "t", consented_only=False, version=version)
    written = ElementTree.fromstring(feed).iter(f"{{{pfif_format.KINLINK_NS}}}confirmation")
    assert sorted(e.text or "" for e in written) == sorted(c for _k, _d, c in LEVELLED)

    assert pfif.import_xml(fresh, feed, "partner").created == 1
    with Session(fresh) as s:
        there = s.scalars(select(Event).order_by(Event.date)).all()
        assert [(e.kind, e.date, e.confirmation) for e in there] == LEVELLED
    assert pfif.import_xml(fresh, feed, "partner").unchanged == 1

    # A bad level is refused naming kinlink's field, nothing written.
    before = counts(fresh)
    with pytest.raises(Refused) as refused:
        pfif.import_xml(fresh, feed.replace(b">documents<", b">a rumour<"), "partner")
    assert any((p.field or "").endswith(".kinlink:confirmation") for p in refused.value.problems)
    assert counts(fresh) == before

    # Another writer's PFIF: the same notes without kinlink's level are a member of the public's reports.
    foreign = re.sub(rb"<kinlink:confirmation>[^<]*</kinlink:confirmation>", b"", feed)
    assert foreign != feed and b"kinlink:confirmation" not in foreign
    third = make_engine(f"sqlite:///{tmp_path / 'third.db'}")
    schema.upgrade(third)
    try:
        pfif.import_xml(third, foreign, "partner")
        with Session(third) as s:
            levels = s.scalars(select(Event.confirmation)).all()
        assert levels and set(levels) == {"public"}
    finally:
        third.dispose()


def test_erasure_and_consent_in_the_partner_feed(engine: Engine, fresh: Engine) -> None:
    with unit_of_work(engine) as s:
        told = add_record(
            s,
            "t",
            {
                "full_name": "Лисенко Марко",
                "status": "captured",
                "place": "Курськ",
                "consent_inform_family": True,
            },
        )
        erased = add_record(s, "t", {"full_name": "Стертий Запис", "status": "missing"})
    feed = pfif.export_xml(engine, "t", consented_only=False)
    pfif.import_xml(fresh, feed, "partner")
    with unit_of_work(engine) as s:
        erasure.erase_record(s, "t", s.get(Person, erased.id), "on_request")  # type: ignore[arg-type]
    root = ElementTree.fromstring(pfif.export_xml(engine, "t"))
    persons = root.findall("pfif:person", NS)
    # Consent: only the person who agreed; without consent to share the place, no place.
    assert [
        p.findtext("pfif:full_name", namespaces=NS)
        for p in persons
        if p.find("pfif:full_name", NS) is not None
    ] == ["Лисенко Марко"]
    assert "Курськ" not in pfif.export_xml(engine, "t").decode()
    assert told.id
    # The partner reads the deletion and erases its copy.
    again = pfif.import_xml(fresh, pfif.export_xml(engine, "t", consented_only=False), "partner")
    assert again.erased == 1
    with Session(fresh) as s:
        assert [p.full_name for p in s.scalars(select(Person))] == ["Лисенко Марко"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ((b"<pfif:date_of_birth>1988-07-14<", b"<pfif:date_of_birth>14th of July<"), "date_of_birth"),
        ((b"<pfif:status>believed_missing<", b"<pfif:status>probably_fine<"), "status"),
        (
            (
                b"<pfif:sex>male</pfif:sex>\n    <pfif:age>30-40",
                b"<pfif:sex>male</pfif:sex>\n    <pfif:age>old",
            ),
            "age",
        ),
        (
            (b"<pfif:home_city>", b"<pfif:favourite_colour>blue</pfif:favourite_colour><pfif:home_city>"),
            "favourite_colour",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    engine: Engine, change: tuple[bytes, bytes], field: str
) -> None:
    bad = read("v1_2.xml").replace(*change)
    assert bad != read("v1_2.xml")
    before = counts(engine)
    with pytest.raises(Refused) as refused:
        pfif.import_xml(engine, bad, "test")
    assert any(p.field and p.field.endswith("." + field) for p in refused.value.problems), refused.value
    assert counts(engine) == before


def test_unknown_version_is_refused() -> None:
    with pytest.raises(Refused) as refused:
        pfif.parse(b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.5"/>')
    assert "1.1, 1.2, 1.3, 1.4" in refused.value.message


NAME = st.text(
    alphabet=st.sampled_from("абвгдежзийклмнопрстуфхцчшщюяєіїґ abcdefghijklmnopqrstuvwxyzăâîșț-'"),
    min_size=1,
    max_size=30,
)
PERSON = st.fixed_dictionaries(
    {
        "names": st.lists(NAME, min_size=1, max_size=3),
        "birth": st.one_of(
            st.none(), st.dates().map(lambda d: d.isoformat()), st.sampled_from(["1990", "garbage"])
        ),
        "status": st.lists(
            st.sampled_from(
                ["believed_alive", "believed_dead", "believed_missing", "information_sought", ""]
            ),
            max_size=3,
        ),
    }
)


def _document(version: str, domain: str, people: list[dict]) -> bytes:
    parts = [f'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/{version}">']
    for i, p in enumerate(people):
        pid = f"{domain}/p.{i}"
        if version == "1.4":
            name = f"<pfif:full_name>{escape(chr(10).join(p['names']))}</pfif:full_name>"
        else:
            first = escape(p["names"][0])
            name = f"<pfif:first_name>{first}</pfif:first_name><pfif:last_name>x</pfif:last_name>"
        birth = f"<pfif:date_of_birth>{p['birth']}</pfif:date_of_birth>" if p["birth"] else ""
        notes = "".join(
            f"<pfif:note><pfif:note_record_id>{domain}/n.{i}.{j}</pfif:note_record_id>"
            f"<pfif:author_name>a</pfif:author_name>"
            f"<pfif:source_date>2024-01-0{j + 1}T00:00:00Z</pfif:source_date>"
            + (f"<pfif:status>{st_}</pfif:status>" if st_ else "")
            + "<pfif:text>t</pfif:text></pfif:note>"
            for j, st_ in enumerate(p["status"])
        )
        parts.append(
            f"<pfif:person><pfif:person_record_id>{pid}</pfif:person_record_id>{name}{birth}{notes}</pfif:person>"
        )
    return ("".join(parts) + "</pfif:pfif>").encode()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(PERSON, min_size=1, max_size=4), version=st.sampled_from(["1.2", "1.4"]))
def test_importer_property(engine: Engine, people: list[dict], version: str) -> None:
    """Any document is either refused whole (naming a PFIF field, nothing written) or imported; imported, it
    imports again as unchanged, and its export reads back into the same names and history."""
    domain = f"d{uuid.uuid4().hex[:8]}.example"
    data = _document(version, domain, people)
    with Session(engine) as s:
        before = (
            s.scalar(select(func.count()).select_from(Event)),
            s.scalar(select(func.count()).select_from(Person)),
        )
    try:
        result = pfif.import_xml(engine, data, "prop")
    except Refused as e:
        assert all(p.field and ("." in p.field) for p in e.problems), e
        with Session(engine) as s:
            after = (
                s.scalar(select(func.count()).select_from(Event)),
                s.scalar(select(func.count()).select_from(Person)),
            )
        assert after == before
        return
    assert result.created == len(people)
    assert pfif.import_xml(engine, data, "prop").unchanged == len(people)
    with Session(engine) as s:
        mine = s.scalars(select(Person).join(Source).where(Source.name == f"pfif:{domain}")).all()
        names = sorted(tuple(n.full_name for n in p.names) for p in mine)
        for p in mine:
            assert all(e.confirmation == "public" for e in p.events)
    feed = pfif.export_xml(engine, "prop", source=f"pfif:{domain}", consented_only=False, version=version)
    moved = f"e{domain}"
    assert pfif.import_xml(engine, feed.replace(domain.encode(), moved.encode()), "prop").created == len(
        people
    )
    with Session(engine) as s:
        back = s.scalars(select(Person).join(Source).where(Source.name == f"pfif:{moved}")).all()
        assert sorted(tuple(n.full_name for n in p.names) for p in back) == names
