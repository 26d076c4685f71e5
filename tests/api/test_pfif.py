"""PFIF 1.4: import (idempotent, statuses mapped to events, hostile XML refused), export within consent."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from defusedxml import ElementTree
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kinlink.cli import app as cli_app
from kinlink.errors import Refused
from kinlink.registry import people, pfif
from kinlink.store.db import unit_of_work
from kinlink.store.models import Person, Source
from tests.support import add_record

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">
  <pfif:person>
    <pfif:person_record_id>finder.example.org/p.1</pfif:person_record_id>
    <pfif:entry_date>2024-03-01T10:00:00Z</pfif:entry_date>
    <pfif:source_name>Example Finder</pfif:source_name>
    <pfif:full_name>Гнатюк Василь Петрович</pfif:full_name>
    <pfif:given_name>Василь</pfif:given_name>
    <pfif:family_name>Гнатюк</pfif:family_name>
    <pfif:alternate_names>Hnatiuk Vasyl</pfif:alternate_names>
    <pfif:sex>male</pfif:sex>
    <pfif:date_of_birth>1990-05</pfif:date_of_birth>
    <pfif:home_city>Житомир</pfif:home_city>
    <pfif:note>
      <pfif:note_record_id>finder.example.org/n.1</pfif:note_record_id>
      <pfif:person_record_id>finder.example.org/p.1</pfif:person_record_id>
      <pfif:entry_date>2024-03-02T10:00:00Z</pfif:entry_date>
      <pfif:author_name>Сестра</pfif:author_name>
      <pfif:source_date>2024-03-02T09:00:00Z</pfif:source_date>
      <pfif:status>believed_missing</pfif:status>
      <pfif:last_known_location>Бахмут</pfif:last_known_location>
      <pfif:text>Не выходит на связь.</pfif:text>
    </pfif:note>
  </pfif:person>
  <pfif:person>
    <pfif:person_record_id>finder.example.org/p.2</pfif:person_record_id>
    <pfif:full_name>Руденко Олена</pfif:full_name>
    <pfif:sex>female</pfif:sex>
  </pfif:person>
  <pfif:note>
    <pfif:note_record_id>finder.example.org/n.2</pfif:note_record_id>
    <pfif:person_record_id>finder.example.org/p.2</pfif:person_record_id>
    <pfif:entry_date>2024-03-05T10:00:00Z</pfif:entry_date>
    <pfif:status>believed_alive</pfif:status>
  </pfif:note>
</pfif:pfif>
"""
NS = {"pfif": pfif.NS}


def test_import_maps_persons_and_statuses(engine: Engine) -> None:
    # A person without a record id: the document is refused, naming the field, and nothing is written.
    bad = DOC.replace(
        "</pfif:pfif>", "<pfif:person><pfif:full_name>Без ид</pfif:full_name></pfif:person></pfif:pfif>"
    )
    with pytest.raises(Refused) as refused:
        pfif.import_xml(engine, bad.encode(), "test")
    assert refused.value.field == "person[3].person_record_id"
    with Session(engine) as s:
        assert s.scalar(select(Person.id)) is None
    first = pfif.import_xml(engine, DOC.encode(), "test")
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = pfif.import_xml(engine, DOC.encode(), "test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    with Session(engine) as s:
        src = s.scalar(select(Source).where(Source.name == "pfif:finder.example.org"))
        assert src is not None and src.kind == "partner"
        p1 = people.get_person(
            s, s.scalar(select(Person.id).where(Person.source_record_id == "finder.example.org/p.1"))
        )
        assert p1.status == "missing" and p1.birth_date == "1990-05" and p1.sex == "m"
        assert [(e.kind, e.date, e.place) for e in p1.events] == [("missing", "2024-03-02", "Бахмут")]
        assert [n.full_name for n in p1.names] == ["Гнатюк Василь Петрович", "Hnatiuk Vasyl"]
        assert p1.residence == "Житомир"  # the home address parts
        p2 = s.scalar(select(Person).where(Person.source_record_id == "finder.example.org/p.2"))
        assert p2 is not None and p2.status == "found"


@pytest.mark.parametrize(
    "hostile",
    [
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><pfif:pfif '
        'xmlns:pfif="http://zesty.ca/pfif/1.4"><pfif:person><pfif:full_name>&e;</pfif:full_name>'
        "</pfif:person></pfif:pfif>",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"><pfif:note><pfif:text>&b;</pfif:text></pfif:note>'
        "</pfif:pfif>",
        "<pfif>not closed",
        '<other xmlns="http://example.org/"/>',
    ],
)
def test_hostile_or_wrong_xml_is_refused(hostile: str) -> None:
    with pytest.raises(Refused):
        pfif.parse(hostile.encode())


def test_export_respects_consent(engine: Engine) -> None:
    with unit_of_work(engine) as s:
        add_record(
            s,
            "t",
            {
                "full_name": "Согласен Иван",
                "status": "captured",
                "place": "Курск",
                "consent_inform_family": True,
                "consent_share_location": False,
            },
        )
        add_record(s, "t", {"full_name": "Несогласен Пётр", "status": "captured"})
        add_record(
            s,
            "t",
            {
                "full_name": "Раненый Павел",
                "status": "wounded",
                "place": "Курск",
                "consent_inform_family": True,
                "consent_share_location": True,
            },
        )
    root = ElementTree.fromstring(pfif.export_xml(engine, "t"))
    names = [p.findtext("pfif:full_name", namespaces=NS) for p in root.findall("pfif:person", NS)]
    assert names == ["Согласен Иван", "Раненый Павел"]
    first = root.findall("pfif:person", NS)[0]
    assert first.find("pfif:note/pfif:status", NS).text == "believed_alive"  # type: ignore[union-attr]
    assert first.find("pfif:note/pfif:last_known_location", NS) is None  # location not consented
    assert root.findall("pfif:person", NS)[1].find("pfif:note", NS) is None  # health is never exported
    full = ElementTree.fromstring(pfif.export_xml(engine, "t", consented_only=False))
    assert len(full.findall("pfif:person", NS)) == 3
    # Round trip: our export imports back under its own domain.
    again = pfif.import_xml(engine, pfif.export_xml(engine, "t", consented_only=False), "t")
    assert again.created == 3


def test_pfif_over_api_and_cli(engine: Engine, db_url: str, server, staff, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kinlink.accounts import tokens, users

    with unit_of_work(engine) as s:
        token = tokens.create_token(s, "t", users.find_user(s, staff["registrar"][0]).id, "pfif")[1]
    h = {"authorization": f"Bearer {token}"}
    r = httpx.post(
        server.url + "/api/v1/pfif", content=DOC.encode(), headers={**h, "content-type": "application/xml"}
    )
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    bad = httpx.post(server.url + "/api/v1/pfif", content=b"<x", headers=h)
    assert bad.status_code == 422 and "XML" in bad.json()["error"]["message"]
    r = httpx.get(server.url + "/api/v1/pfif", params={"all_records": "true"}, headers=h)
    assert r.headers["content-type"].startswith("application/xml") and "Гнатюк" in r.text
    r = httpx.get(server.url + "/api/v1/pfif", params={"all_records": "true", "version": "1.2"}, headers=h)
    assert 'xmlns:pfif="http://zesty.ca/pfif/1.2"' in r.text and "<pfif:first_name>Василь<" in r.text
    r = httpx.get(server.url + "/api/v1/pfif", params={"version": "1.3"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "version"
    # A PFIF 1.2 document through the API: names from first_name and last_name.
    v12 = (Path(__file__).parents[1] / "registry" / "pfif" / "v1_2.xml").read_bytes()
    r = httpx.post(server.url + "/api/v1/pfif", content=v12, headers={**h, "content-type": "application/xml"})
    assert r.status_code == 200 and r.json()["version"] == "1.2" and r.json()["links"] == 1, r.text
    bad = httpx.post(
        server.url + "/api/v1/pfif", content=v12.replace(b">1988-07-14<", b">someday<"), headers=h
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"].endswith(".date_of_birth"), bad.text

    runner = CliRunner()
    f = tmp_path / "in.xml"
    f.write_text(DOC.replace("finder.example.org", "other.example.org"), encoding="utf-8")
    out = runner.invoke(cli_app, ["--db", db_url, "--as", "test", "import", "pfif", str(f), "--json"])
    assert out.exit_code == 0, out.output
    assert '"created": 2' in out.stdout
    dest = tmp_path / "out.xml"
    out = runner.invoke(cli_app, ["--db", db_url, "export", "pfif", "--all", "-o", str(dest)])
    assert out.exit_code == 0, out.output
    assert len(ElementTree.fromstring(dest.read_bytes()).findall("pfif:person", NS)) == 6
