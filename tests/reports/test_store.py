"""Ingested reports are stored once, as sightings with provenance that enter matching."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinlink.person.partial_dates import birth_year_range
from kinlink.store.models import Person
from kinlink.store.report_models import Document, Mention, Sighting
from tests.ingest.helpers import REPORTS, SEED
from tests.ingest.test_bad_input import assert_json_contract


def _ingest(cli, *paths: Path | str) -> dict:
    return cli.json("ingest", *map(str, paths), "--date", "2022-03-01")


def test_seed_gives_one_sighting_with_provenance_and_a_spokesman_mention(cli, engine) -> None:
    out = _ingest(cli, SEED)
    [doc] = out["documents"]
    assert doc["new"] is True and len(doc["record_ids"]) == 1
    with Session(engine) as s:
        [sighting] = s.scalars(select(Sighting)).all()
        person = s.get(Person, sighting.person_id)
        assert person is not None
        assert person.full_name == "Leonid Paktishev" and person.source.kind == "report"
        assert (person.age, person.age_as_of, person.status) == (28, "2022-02-27", "captured")
        assert birth_year_range(person.birth_date, person.age, person.age_as_of) == (1993, 1994)
        assert "Leonid Paktishev" in sighting.evidence and "Telegram" in sighting.evidence
        assert sighting.document.language == "ro"
        roles = {m.name: m.role for m in s.scalars(select(Mention))}
        assert roles.get("Igor Konașenkov") == "spokesperson"


def test_json_contract_when_storing(cli, tmp_path) -> None:
    """`kinlink ingest PATH... --json` with a database: the issue's keys, plus where each document went."""
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    result = cli("ingest", str(SEED), str(tmp_path / "empty.txt"), "--date", "2022-03-01", "--json")
    payload = json.loads(result.stdout)
    assert_json_contract(payload)
    seed, empty = payload["documents"]
    assert (empty["path"], empty["error"]) == (str(tmp_path / "empty.txt"), "empty file")
    assert "document_id" not in empty  # nothing stored for it
    assert seed["path"] == str(SEED) and seed["language"] == "ro" and seed["new"] is True
    [s] = seed["sightings"]
    assert (s["name"], s["status"], s["age"], s["birth_year"], s["date"]) == (
        "Leonid Paktishev",
        "captured",
        28,
        None,
        "2022-02-27",
    )
    assert [(m["name"], m["role"]) for m in seed["mentions"]] == [("Igor Konașenkov", "spokesperson")]
    assert len(seed["record_ids"]) == 1 and isinstance(seed["document_id"], int)
    assert f"{tmp_path / 'empty.txt'}: empty file" in result.stderr


def test_same_documents_twice_add_nothing(cli, engine) -> None:
    _ingest(cli, SEED, REPORTS)
    with Session(engine) as s:
        before = [
            s.scalar(select(func.count()).select_from(m)) for m in (Document, Sighting, Person, Mention)
        ]
    again = _ingest(cli, SEED, REPORTS)
    assert all(d["new"] is False for d in again["documents"])
    with Session(engine) as s:
        after = [s.scalar(select(func.count()).select_from(m)) for m in (Document, Sighting, Person, Mention)]
    assert after == before and before[1] == 6  # the seed and four reports name six subjects


def test_bad_documents_are_reported_and_the_rest_stored(cli, engine, tmp_path) -> None:
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "result.json").write_text('{"name": "Find Your Own", "messages": [', encoding="utf-8")
    (tmp_path / "seed.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("ingest", str(tmp_path), "--date", "2022-03-01")
    assert result.exit_code == 0
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 1
    assert "empty.txt" in result.output and "binary.txt" in result.output and "result.json" in result.output


def test_a_sighting_finds_the_waiting_request(cli) -> None:
    req = cli.json(
        "request",
        "add",
        "Пактышев Леонид Андреевич",
        "--born",
        "1993",
        "--enquirer",
        "Пактышева Анна",
        "--agreed",
        "--relationship",
        "sister",
    )
    assert cli.json("request", "show", req["reference"])["state"] == "open"
    _ingest(cli, SEED)
    assert cli.json("request", "show", req["reference"])["state"] == "candidates"


def test_ingest_killed_half_way_resumes_without_duplicates(db_url, engine, tmp_path) -> None:
    seed = SEED.read_text(encoding="utf-8")
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(150):  # distinct content, so each is a document of its own
        (folder / f"{i:03d}.txt").write_text(seed + f"\n\n(copie {i})", encoding="utf-8")
    cmd = [sys.executable, "-m", "kinlink", "--db", db_url, "ingest", str(folder), "--date", "2022-03-01"]
    env = {**os.environ, "KINLINK_ACTOR": "test:crash"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while True:
        with Session(engine) as s:
            stored = s.scalar(select(func.count()).select_from(Document)) or 0
        if stored >= 5:
            break
        if proc.poll() is not None:
            raise AssertionError(f"ingest ended before it could be killed: {proc.stderr.read()!r}")
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Session(engine) as s:
        docs = s.scalar(select(func.count()).select_from(Document)) or 0
        sightings = s.scalar(select(func.count()).select_from(Sighting)) or 0
    assert 5 <= docs < 150 and sightings == docs  # every stored document is whole
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 150
        assert s.scalar(select(func.count()).select_from(Sighting)) == 150
        assert s.scalar(select(func.count()).select_from(Person)) == 150


def test_telegram_html_export_stored_with_forward_and_links(cli, engine) -> None:
    """Telegram Desktop's HTML export: one document per message, its forwarding source and links kept."""
    from kinlink.registry.report_reads import provenance_of
    from tests.ingest.helpers import FIXTURES

    out = _ingest(cli, FIXTURES / "tg_html_export")
    names = [Path(d["path"]).name for d in out["documents"]]
    assert names == [f"messages.html#{i}" for i in (10, 11, 12, 13)]
    with Session(engine) as s:
        docs = {d.message_id: d for d in s.scalars(select(Document))}
        assert docs[12].forwarded_from == docs[13].forwarded_from == "Генштаб ЗСУ"
        assert docs[10].links == ["https://t.me/poshuk_polon/10"] and docs[11].links is None
        assert docs[10].kind == "telegram" and docs[10].date == "2024-03-14"
        [sighting] = s.scalars(select(Sighting).where(Sighting.document_id == docs[10].id)).all()
        prov = provenance_of(s, sighting.person_id)
        assert prov is not None and prov.links == ("https://t.me/poshuk_polon/10",)
        assert prov.forwarded_from is None and prov.site == "Пошук & Полон"
        person = s.get(Person, sighting.person_id)
        assert person is not None and person.full_name == "Тарас Бойчук"  # "полоненим Тарасом Бойчуком"
