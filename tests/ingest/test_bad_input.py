"""Bad input gives a clear message for that document and the rest of the batch is still processed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from kinlink.cli.ingest import app
from kinlink.ingest.model import ReadProblem
from kinlink.ingest.pipeline import ingest_paths
from kinlink.ingest.readers import read_paths
from tests.ingest.helpers import FIXTURES

GOOD = "Rusia a confirmat că soldatul Ion Ciobanu, în vârstă de 34 de ani, a fost ucis lângă Bahmut."


def _batch(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "01_empty.txt").write_bytes(b"")
    (folder / "02_binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "03_good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "04_german.txt").write_text(
        "Der Soldat wurde gestern in der Nähe von Charkiw gefangen genommen und verhört.", encoding="utf-8"
    )
    tg = folder / "tg"
    tg.mkdir()
    (tg / "result.json").write_text('{"name": "x", "messages": [{"id": 1, "text": "abc"', encoding="utf-8")
    return folder


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "e.txt"
    f.write_text("  \n", encoding="utf-8")
    assert list(read_paths([f])) == [ReadProblem(str(f), "empty file")]


def test_binary_file(tmp_path: Path) -> None:
    f = tmp_path / "photo.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    assert list(read_paths([f])) == [ReadProblem(str(f), "binary file, not text or HTML")]


def test_broken_telegram_export(tmp_path: Path) -> None:
    f = tmp_path / "result.json"
    f.write_text('{"messages": [ {"id": 1, ', encoding="utf-8")
    [problem] = list(read_paths([f]))
    assert isinstance(problem, ReadProblem)
    assert problem.message.startswith("broken Telegram export: not valid JSON")


def test_export_without_messages_and_bad_message(tmp_path: Path) -> None:
    f = tmp_path / "result.json"
    f.write_text(json.dumps({"name": "x"}), encoding="utf-8")
    assert list(read_paths([f])) == [ReadProblem(str(f), "not a Telegram export: no 'messages' list")]
    f.write_text(
        json.dumps({"messages": [{"id": 3, "text": 42}, {"id": 4, "text": "Alo"}]}), encoding="utf-8"
    )
    items = list(read_paths([f]))
    assert items[0] == ReadProblem(f"{f}#3", "unreadable message text: text is neither a string nor a list")
    assert items[1].path == f"{f}#4"  # the next message is still read


def test_missing_path(tmp_path: Path) -> None:
    assert list(read_paths([tmp_path / "nope.txt"])) == [
        ReadProblem(str(tmp_path / "nope.txt"), "no such file or folder")
    ]


def test_unknown_language_and_batch_goes_on(tmp_path: Path) -> None:
    results = list(ingest_paths([_batch(tmp_path)]))
    by_name = {Path(r.path).name: r for r in results}
    assert by_name["01_empty.txt"].error == "empty file"
    assert by_name["02_binary.txt"].error == "binary file, not text or HTML"
    assert by_name["04_german.txt"].error == "unknown language: language identified as 'de', not ro/ru/uk/en"
    assert by_name["result.json"].error is not None and "not valid JSON" in by_name["result.json"].error
    good = by_name["03_good.txt"]
    assert good.error is None
    assert [(s.name, s.status, s.age) for s in good.sightings] == [("Ion Ciobanu", "killed", 34)]


# The `--json` contract of issue 5; more keys may follow, these may not go.
DOCUMENT_KEYS = {"path", "language", "sightings", "mentions"}
SIGHTING_KEYS = {"name", "status", "age", "birth_year", "rank", "unit", "place", "date", "evidence"}
MENTION_KEYS = {"name", "role"}


def assert_json_contract(payload: dict) -> None:
    assert set(payload) == {"documents"} and payload["documents"]
    for doc in payload["documents"]:
        assert set(doc) >= DOCUMENT_KEYS, doc.keys()
        assert isinstance(doc["path"], str) and doc["path"]
        if doc.get("error"):  # a bad document: its message, and nothing extracted
            assert isinstance(doc["error"], str) and doc["sightings"] == [] and doc["mentions"] == []
        else:
            assert doc["language"] in ("ro", "ru", "uk", "en")
        for s in doc["sightings"]:
            assert set(s) >= SIGHTING_KEYS, s.keys()
            assert s["status"] in ("captured", "killed", "wounded", "missing", "released", "surrendered")
            assert (
                isinstance(s["name"], str) and s["name"] and isinstance(s["evidence"], str) and s["evidence"]
            )
            assert s["date"] is None or dt.date.fromisoformat(s["date"])
            assert all(s[k] is None or isinstance(s[k], int) for k in ("age", "birth_year"))
        for m in doc["mentions"]:
            assert set(m) >= MENTION_KEYS, m.keys()


def test_cli_json_reports_errors_per_document(tmp_path: Path) -> None:
    folder = _batch(tmp_path)
    shutil.copytree(FIXTURES / "tg_channel", folder / "tg_good")
    shutil.copy(FIXTURES / "heldout3" / "en_02_briton_sentenced.html", folder / "05_page.html")
    result = CliRunner().invoke(app, [str(folder), "--json", "--no-store"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)  # stdout is the JSON alone; messages go to stderr
    assert_json_contract(payload)
    docs = payload["documents"]
    errors = {Path(d["path"]).name: d["error"] for d in docs if d.get("error")}
    assert errors == {
        "01_empty.txt": "empty file",
        "02_binary.txt": "binary file, not text or HTML",
        "04_german.txt": "unknown language: language identified as 'de', not ro/ru/uk/en",
        "result.json": "broken Telegram export: not valid JSON at line 1",
    }
    for name, message in errors.items():  # and each is said on stderr, with its document
        assert any(name in line and message in line for line in result.stderr.splitlines()), name
    page = next(d for d in docs if Path(d["path"]).name == "05_page.html")
    assert (page["language"], [(s["name"], s["status"]) for s in page["sightings"]]) == (
        "en",
        [("Callum Reid", "captured")],
    )
    good = next(d for d in docs if Path(d["path"]).name == "03_good.txt")
    assert good["language"] == "ro"
    [s] = good["sightings"]
    assert {k: s[k] for k in ("name", "status", "age", "birth_year", "rank", "unit", "place", "date")} == {
        "name": "Ion Ciobanu",
        "status": "killed",
        "age": 34,
        "birth_year": None,
        "rank": None,
        "unit": None,
        "place": "Bahmut",
        "date": None,
    }
    assert "Ion Ciobanu" in s["evidence"]
    tg = [d for d in docs if "tg_good" in d["path"]]
    assert [s["name"] for d in tg for s in d["sightings"]] == [
        "Захаров Игорь Викторович",
        "Олег Петрович Савчук",
        "Антон Ильин",
        "Кирилл Смирнов",
    ]
    spokesman = next(m for d in tg if d["path"].endswith("#7") for m in d["mentions"])
    assert (spokesman["name"], spokesman["role"]) == ("Андрій Ковальов", "spokesperson")


def test_cli_all_documents_bad_exits_non_zero(tmp_path: Path) -> None:
    f = tmp_path / "empty.txt"
    f.write_bytes(b"")
    result = CliRunner().invoke(app, [str(f), "--no-store"])
    assert result.exit_code == 1


def test_cli_table_output(tmp_path: Path) -> None:
    f = tmp_path / "good.txt"
    f.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(app, [str(f), "--date", "2023-05-15", "--no-store"])
    assert result.exit_code == 0, result.output
    assert "Ion Ciobanu" in result.output and "killed" in result.output
    assert "1 documents read, 1 sightings" in result.output
