"""The seed article: exactly one sighting, the spokesman as a mention, nothing for the unnamed prisoner."""

from __future__ import annotations

import datetime as dt

from kinlink.ingest.model import SourceDocument
from kinlink.ingest.pipeline import ingest_paths
from tests.ingest.helpers import SEED


def _seed_result(date: dt.date | None = dt.date(2022, 2, 28)):
    results = list(ingest_paths([SEED], default_date=date))
    assert len(results) == 1
    return results[0]


def test_seed_yields_exactly_paktishev_captured() -> None:
    r = _seed_result()
    assert r.error is None
    assert r.language == "ro"
    assert [(s.name, s.status) for s in r.sightings] == [("Leonid Paktishev", "captured")]
    s = r.sightings[0]
    assert s.age == 28
    assert s.birth_year is None  # not written: only the range below follows from the age
    assert s.birth_year_range == (1993, 1994)
    assert s.evidence.startswith("Unul dintre videoclipuri, care a fost publicat pe Telegram")
    assert "Leonid Paktishev, în vârstă de 28 de ani" in s.evidence
    assert "video" in s.reported_via and "telegram" in s.reported_via
    # "duminică dimineața" against a document dated Monday 28 February 2022
    assert s.date == dt.date(2022, 2, 27)
    assert s.date_text == "duminică dimineața"


def test_seed_spokesman_is_a_mention_not_a_sighting() -> None:
    r = _seed_result()
    assert [(m.name, m.role) for m in r.mentions] == [("Igor Konașenkov", "spokesperson")]


def test_seed_without_document_date_keeps_the_words_but_no_dates() -> None:
    s = _seed_result(date=None).sightings[0]
    assert s.date is None and s.date_text == "duminică dimineața"
    assert s.birth_year_range is None


def test_unnamed_prisoner_of_the_phone_call_is_not_a_sighting() -> None:
    from kinlink.ingest.pipeline import process_document

    text = SEED.read_text(encoding="utf-8")
    call = text[text.index("Discuție telefonică") :]
    doc = SourceDocument(path="call.txt", text=call, sha256="x", kind="text")
    r = process_document(doc)
    assert r.language == "ro"
    assert r.sightings == []
