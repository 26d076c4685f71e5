"""A sighting from a Telegram export shows staff where the post was forwarded from and the links it held."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.store.report_models import Document, Sighting

EXPORT = {
    "name": "Пошук & Полон",
    "type": "public_channel",
    "id": 1,
    "messages": [
        {
            "id": 7,
            "type": "message",
            "date": "2024-03-15T10:00:00",
            "from": "Пошук & Полон",
            "forwarded_from": "Генштаб ЗСУ",
            "text": [
                "У полоні перебуває солдат Марченко Ілля Петрович, 1990 р.н. Джерело: ",
                {"type": "link", "text": "https://t.me/poshuk_polon/7"},
                " і ",
                {"type": "text_link", "text": "тут", "href": "javascript:alert(1)"},
            ],
        }
    ],
}


def test_record_page_shows_forward_and_links(cli, engine: Engine, client_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(EXPORT, ensure_ascii=False), encoding="utf-8")
    cli.json("ingest", str(path), "--date", "2024-03-15")
    with Session(engine) as s:
        doc = s.scalars(select(Document)).one()
        assert doc.forwarded_from == "Генштаб ЗСУ"
        person_id = s.scalars(select(Sighting.person_id).where(Sighting.document_id == doc.id)).one()
    page = client_for("caseworker", "uk").get(f"/records/{person_id}").text
    assert 'id="provenance-forwarded">Генштаб ЗСУ<' in page and "Переслано з" in page
    assert "Посилання в повідомленні" in page
    assert '<a href="https://t.me/poshuk_polon/7" rel="noreferrer noopener nofollow">' in page
    assert 'href="javascript:' not in page  # a link of another scheme is shown as text, never followed
