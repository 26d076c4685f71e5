"""The matching and tracing commands, end to end against a real database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kinlink.cli import app

runner = CliRunner()


def _run(db_url: str, *args: str) -> str:
    result = runner.invoke(app, ["--db", db_url, "--as", "test:cli", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_search_request_and_candidates(db_url: str, tmp_path: Path) -> None:
    _run(db_url, "demo")
    out = json.loads(
        _run(db_url, "search", "Пактышев Леонид Андреевич", "--born", "1993", "--json", "--limit", "3")
    )
    assert out["query"]["birth_date"] == "1993"
    top = out["candidates"][0]
    assert top["source_record_id"] == "RU-0000" and 0.5 <= top["score"] <= 1
    assert set(top) - {"note"} == {
        "record_id",
        "source_record_id",
        "name",
        "score",
        "likelihood",
        "explanation",
    }
    assert top["likelihood"]["text"].endswith("%)") and "100" not in top["likelihood"]["text"]
    assert [c["score"] for c in out["candidates"]] == sorted(
        (c["score"] for c in out["candidates"]), reverse=True
    )

    aged = json.loads(
        _run(db_url, "search", "Leonid Paktishev", "--age", "28", "--as-of", "2022-02-27", "--json")
    )
    assert aged["candidates"][0]["source_record_id"] == "RU-0000"
    assert aged["candidates"][0]["explanation"]["birth"]["level"] == "same_year"

    queries = tmp_path / "q.txt"
    queries.write_text(
        'Leonid Paktishev\n{"name": "Марков Георгий", "born": "1979-09-07"}\n{"name": "Zzyzx Qwerty"}\n',
        encoding="utf-8",
    )
    lines = [json.loads(x) for x in _run(db_url, "search", "--from", str(queries)).splitlines()]
    assert [x["query"]["name"] for x in lines] == ["Leonid Paktishev", "Марков Георгий", "Zzyzx Qwerty"]
    assert lines[0]["candidates"][0]["source_record_id"] == "RU-0000"
    assert lines[1]["candidates"][0]["source_record_id"] == "RU-0001"
    assert lines[2]["candidates"] == []

    made = json.loads(
        _run(
            db_url,
            "request",
            "add",
            "Пактышев Леонид Андреевич",
            "--born",
            "1993",
            "--enquirer",
            "Ольга",
            "--relationship",
            "sister",
            "--agreed",
            "--json",
        )
    )
    assert made["reference"].startswith("TR-") and made["secret"] and made["state"] == "candidates"
    shown = json.loads(_run(db_url, "request", "show", made["reference"], "--json"))
    assert "secret" not in json.dumps(shown) or made["secret"] not in json.dumps(shown)
    assert shown["candidates"][0]["source_record_id"] == "RU-0000"

    first = json.loads(_run(db_url, "match", "--json"))
    again = json.loads(_run(db_url, "match", "--json"))
    assert again["created"] == 0 and again["updated"] == 0
    listed = json.loads(_run(db_url, "candidates", "list", "--json", "--request", made["reference"]))
    assert listed[0]["source_record_id"] == "RU-0000" and listed[0]["state"] == "pending"
    assert first["requests"] >= 1  # the demo may hold requests of its own

    cid, version = listed[0]["id"], listed[0]["version"]
    decide = ["--db", db_url, "candidates", "decide", str(cid), "confirmed", "--reason", "same birth year"]
    stale = runner.invoke(app, [*decide, "--version", str(version + 5)])
    assert stale.exit_code != 0 and "version" in stale.output
    unexplained = runner.invoke(app, [*decide[:6], "--version", str(version)])
    assert unexplained.exit_code == 2 and "reason: a decision needs a reason" in unexplained.output
    _run(db_url, *decide[2:], "--version", str(version))
    shown = json.loads(_run(db_url, "request", "show", made["reference"], "--json"))
    assert shown["state"] == "matched"


def test_search_rejects_bad_input(db_url: str) -> None:
    result = runner.invoke(app, ["--db", db_url, "search", "Пактышев", "--age", "28"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["--db", db_url, "search", "Пактышев", "--born", "199x"])
    assert result.exit_code == 2
