"""Bad input gives a clear message for that document and the rest of the batch is still processed."""

from __future__ import annotations

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


def test_cli_json_reports_errors_per_document(tmp_path: Path) -> None:
    folder = _batch(tmp_path)
    shutil.copytree(FIXTURES / "tg_channel", folder / "tg_good")
    result = CliRunner().invoke(app, [str(folder), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    docs = payload["documents"]
    errors = {Path(d["path"]).name: d["error"] for d in docs if d.get("error")}
    assert set(errors) == {"01_empty.txt", "02_binary.txt", "04_german.txt", "result.json"}
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
    result = CliRunner().invoke(app, [str(f)])
    assert result.exit_code == 1


def test_cli_table_output(tmp_path: Path) -> None:
    f = tmp_path / "good.txt"
    f.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(app, [str(f), "--date", "2023-05-15"])
    assert result.exit_code == 0, result.output
    assert "Ion Ciobanu" in result.output and "killed" in result.output
    assert "1 documents read, 1 sightings" in result.output
