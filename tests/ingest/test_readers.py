"""Readers: text (with URL and date headers), HTML, folders, Telegram Desktop exports."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.ingest.model import ReadProblem, SourceDocument
from kinlink.ingest.readers import read_paths, sha256_text, telegram_text
from tests.ingest.helpers import FIXTURES


def test_text_file_url_and_date_headers(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("https://example.org/story\nDate: 2023-05-01\nTitle line\n\nBody text.", encoding="utf-8")
    [doc] = list(read_paths([f]))
    assert isinstance(doc, SourceDocument)
    assert doc.url == "https://example.org/story"
    assert doc.date == dt.date(2023, 5, 1)
    assert doc.title == "Title line"
    assert doc.text == "Title line\n\nBody text."
    assert doc.sha256 == sha256_text(f.read_text(encoding="utf-8"))


def test_sidecar_metadata_gives_the_date(tmp_path: Path) -> None:
    f = tmp_path / "b.txt"
    f.write_text("Some text here.", encoding="utf-8")
    (tmp_path / "b.txt.meta.json").write_text('{"date": "2022-02-27", "url": "https://x.test/1"}')
    [doc] = list(read_paths([tmp_path]))  # the sidecar itself is not a document
    assert isinstance(doc, SourceDocument)
    assert (doc.date, doc.url) == (dt.date(2022, 2, 27), "https://x.test/1")


def test_cp1251_text_is_decoded(tmp_path: Path) -> None:
    f = tmp_path / "c.txt"
    f.write_bytes("Пленный рядовой Иван Петров".encode("cp1251"))
    [doc] = list(read_paths([f]))
    assert isinstance(doc, SourceDocument) and doc.text.startswith("Пленный")


def test_html_boilerplate_is_removed(tmp_path: Path) -> None:
    body = " ".join(["One of the videos shows a captured Russian soldier, Leonid Paktishev, 28."] * 3)
    html = (
        "<html><head><title>Captured</title>"
        '<meta property="article:published_time" content="2022-02-27T10:00:00Z"></head>'
        "<body><nav><a href='/'>Home</a> | <a href='/news'>News</a> | <a href='/sport'>Sport</a></nav>"
        f"<article><h1>Captured soldiers</h1><p>{body}</p><p>{body}</p></article>"
        "<footer>Copyright 2022 Example Media. All rights reserved. Cookie settings.</footer></body></html>"
    )
    f = tmp_path / "page.html"
    f.write_text(html, encoding="utf-8")
    [doc] = list(read_paths([f]))
    assert isinstance(doc, SourceDocument)
    assert doc.kind == "html"
    assert "Leonid Paktishev" in doc.text
    assert "Copyright" not in doc.text and "Sport" not in doc.text
    assert doc.date == dt.date(2022, 2, 27)


def test_telegram_text_may_be_a_list_of_strings_and_entities() -> None:
    assert telegram_text(["a ", {"type": "bold", "text": "B"}, " c"]) == "a B c"
    assert telegram_text("plain") == "plain"


def test_telegram_export_one_document_per_message() -> None:
    items = list(read_paths([FIXTURES / "tg_channel" / "result.json"]))
    docs = [i for i in items if isinstance(i, SourceDocument)]
    # service message 1 and the photo-only message 3 give nothing
    assert [d.message_id for d in docs] == [2, 4, 5, 6, 7]
    assert all(d.kind == "telegram" and d.channel for d in docs)
    by_id = {d.message_id: d for d in docs}
    assert by_id[2].date == dt.date(2023, 3, 2)
    assert by_id[2].media == ("video",)
    assert by_id[4].media == ("photo",)
    assert by_id[2].text.startswith("❗️Пленный\nЗахаров Игорь Викторович, 1999 г.р.")
    assert by_id[2].path.endswith("result.json#2")


def test_telegram_date_falls_back_to_unixtime(tmp_path: Path) -> None:
    export = {
        "name": "c",
        "messages": [{"id": 9, "type": "message", "date_unixtime": "1677752100", "text": "x y z"}],
    }
    f = tmp_path / "result.json"
    f.write_text(json.dumps(export), encoding="utf-8")
    [doc] = list(read_paths([f]))
    assert isinstance(doc, SourceDocument) and doc.date == dt.date(2023, 3, 2)


def test_folder_lists_documents_and_skips_labels(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text one.", encoding="utf-8")
    (tmp_path / "labels.jsonl").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# notes", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.htm").write_text("<p>x</p>", encoding="utf-8")
    items = list(read_paths([tmp_path]))
    assert [Path(i.path).name for i in items] == ["a.txt", "b.htm"]
    assert isinstance(items[1], ReadProblem)  # an HTML page with no article text is reported, not dropped


# --- Telegram Desktop's HTML export -----------------------------------------------------------------

TG_HTML = FIXTURES / "tg_html_export"


def test_telegram_html_export_one_document_per_message() -> None:
    docs = [d for d in read_paths([TG_HTML]) if isinstance(d, SourceDocument)]
    assert [d.message_id for d in docs] == [10, 11, 12, 13]  # service blocks and a caption-less photo skipped
    first = docs[0]
    assert first.kind == "telegram" and first.channel == "Пошук & Полон"
    assert first.date == dt.date(2024, 3, 14)
    assert first.text.split("\n") == [
        "Окупанти оприлюднили відео з полоненим Тарасом Бойчуком, 1996 р.н.",
        "Рідні просять поширити: t.me/poshuk_polon/10",
    ]
    assert first.media == ("video",) and first.links == ("https://t.me/poshuk_polon/10",)
    assert "In reply to" not in docs[1].text  # the reply header is not the message's text
    # A forwarded message keeps its source; the joined one after it, whose header Telegram leaves out, too.
    assert docs[2].forwarded_from == "Генштаб ЗСУ" and docs[2].date == dt.date(2024, 3, 15)
    assert docs[3].forwarded_from == "Генштаб ЗСУ"
    assert docs[3].text == "Серед них — солдат Ілля Марченко."


def test_telegram_html_joined_message_inherits_the_sender() -> None:
    from kinlink.ingest.telegram_html import parse_export_page

    _, msgs = parse_export_page((TG_HTML / "messages.html").read_text(encoding="utf-8"))
    by_id = {m.message_id: m for m in msgs}
    assert by_id[11].joined and by_id[11].sender == by_id[10].sender == "Пошук & Полон"


def test_telegram_html_pages_are_read_in_export_order(tmp_path: Path) -> None:
    page = (TG_HTML / "messages.html").read_text(encoding="utf-8")
    for n, first_id in (("", 10), ("2", 20), ("10", 100)):
        (tmp_path / f"messages{n}.html").write_text(page.replace('id="message1', f'id="message{first_id}'))
    ids = [d.message_id for d in read_paths([tmp_path]) if isinstance(d, SourceDocument)]
    assert ids[0] == 100 and ids[4] == 200 and ids[8] == 1000  # 1, 2, 10: not a string sort


def test_telegram_html_provenance_in_result_json() -> None:
    from kinlink.ingest.pipeline import ingest_paths

    results = {r.path.rsplit("#", 1)[-1]: r.to_json() for r in ingest_paths([TG_HTML])}
    assert results["12"]["forwarded_from"] == "Генштаб ЗСУ"
    assert results["10"]["links"] == ["https://t.me/poshuk_polon/10"]
    [s] = results["10"]["sightings"]
    assert (s["status"], s["birth_year"]) == ("captured", 1996)


def test_telegram_json_keeps_forwarded_from_and_links() -> None:
    docs = {
        d.message_id: d
        for d in read_paths([FIXTURES / "heldout4" / "tg_json" / "result.json"])
        if isinstance(d, SourceDocument)
    }
    assert docs[301].forwarded_from == "Тернопільська міська рада"
    assert docs[303].links == ("https://t.me/poisk_bot",)
    assert docs[309].links == ("https://t.me/belpressa/11200",)
    assert docs[302].forwarded_from is None and docs[302].links == ()


_LINE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(_LINE, min_size=1, max_size=4))
def test_telegram_html_text_round_trips(lines: list[str]) -> None:
    """Whatever a message says, as Telegram Desktop writes it (escaped, <br> between lines), reads back."""
    from kinlink.ingest.telegram_html import parse_export_page

    page = (TG_HTML / "messages.html").read_text(encoding="utf-8")
    body = "<br>".join(html.escape(line) for line in lines)
    start = page.index("Окупанти")
    end = page.index("</a>", start) + len("</a>")
    _, msgs = parse_export_page(page[:start] + body + page[end:])
    assert msgs[0].text.split("\n") == [line.strip() for line in lines]


def _export_page(messages: list[tuple[int, str, bool, str | None]]) -> str:
    """A page in Telegram Desktop's markup: (id, text, joined, forwarded from) per message."""
    blocks = []
    for i, (mid, text, joined, fwd) in enumerate(messages):
        body = "<br>".join(html.escape(line) for line in text.split("\n"))
        inner = f'<div class="text">\n{body}\n</div>'
        if fwd:
            inner = (
                f'<div class="forwarded body"><div class="from_name">\n{html.escape(fwd)}<span class="date '
                f'details" title="01.01.2024 00:00:00"> 01.01.2024</span>\n</div>{inner}</div>'
            )
        cls = "message default clearfix" + (" joined" if joined and i else "")
        sender = "" if joined and i else '<div class="from_name">\nКанал \n</div>'
        blocks.append(
            f'<div class="{cls}" id="message{mid}"><div class="body">'
            f'<div class="pull_right date details" title="0{1 + i % 9}.02.2024 10:00:00 UTC+02:00">'
            "10:00</div>"
            f"{sender}{inner}</div></div>"
        )
    return (
        '<html><body><div class="page_wrap"><div class="page_header"><div class="content">'
        '<div class="text bold">\nКанал\n</div></div></div><div class="page_body chat_page">'
        f'<div class="history">{"".join(blocks)}</div></div></div></body></html>'
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(_LINE, min_size=1, max_size=3).map("\n".join),
            st.booleans(),
            st.none() | _LINE,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_telegram_html_every_message_read_with_its_date_sender_and_source(
    raw: list[tuple[str, bool, str | None]],
) -> None:
    from kinlink.ingest.telegram_html import parse_export_page

    messages = [(100 + i, text, joined, fwd) for i, (text, joined, fwd) in enumerate(raw)]
    channel, got = parse_export_page(_export_page(messages))
    assert channel == "Канал"
    assert [m.message_id for m in got] == [m[0] for m in messages]
    for i, (m, (_, text, _, fwd)) in enumerate(zip(got, messages, strict=True)):
        assert m.text.split("\n") == [line.strip() for line in text.split("\n")]
        assert m.sender == "Канал"  # a joined message has the sender of the one before
        assert m.forwarded_from == (" ".join(fwd.split()) if fwd else None)
        assert m.date == dt.date(2024, 2, 1 + i % 9)
