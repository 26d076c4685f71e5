"""The command line as a busy caseworker meets it (issue 18 item 13): readable at 80 columns, ids never
cut, whom a new request found named, a decision taken without looking up its version, a relative date
that needs the document's day said so."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.demo import SEED_ARTICLE

runner = CliRunner()


def _run(db_url: str, *args: str, ok: bool = True) -> str:
    result = runner.invoke(app, ["--db", db_url, "--as", "test:cli", *args], env={"COLUMNS": "80"})
    if ok:
        assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def demo(db_url: str) -> str:
    _run(db_url, "demo")
    return db_url


def test_tables_fit_80_columns_and_never_cut_an_id_or_a_date(demo: str) -> None:
    listed = _run(demo, "records", "list", "--limit", "8")
    assert all(len(line) <= 80 for line in listed.splitlines())
    assert "…" not in listed
    assert re.search(r"\b2022-02-27\b", listed) and "RU-0000" in listed  # whole dates, whole record ids
    found = _run(demo, "search", "Paktishev Leonid", "--limit", "3")
    assert all(len(line) <= 80 for line in found.splitlines()) and "…" not in found
    # A hit says what it is: a registry record or a sighting read from the news, with its full source id.
    assert "registry record" in found and "news sighting" in found
    assert "e130df5ab6dfc6" in found and "df01ff4523#0" in found  # folded onto two lines, not cut


def test_request_add_names_its_candidates_and_decide_needs_no_version(demo: str) -> None:
    out = _run(demo, "request", "add", "Пактышев Леонид", "--enquirer", "Анна", "--agreed")
    reference = re.search(r"TR-[0-9A-Z]{4}-[0-9A-Z]{4}", out).group(0)  # type: ignore[union-attr]
    named = re.findall(r"candidate (\d+): record \d+ \(([^)]+)\) (.+?):", out)
    assert named and any(src == "RU-0000" and "ПАКТЫШЕВ" in name for _c, src, name in named)
    secret = re.search(r"Secret for the family to follow it: (\S+)", out).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"(?:[2-9A-HJKMNP-Z]{4}-){4}[2-9A-HJKMNP-Z]{4}", secret)  # the web's format too

    listed = _run(demo, "candidates", "list", "--request", reference)
    assert reference in listed and "request " not in listed  # the TR reference, not "request 2"
    assert all(len(line) <= 80 for line in listed.splitlines()) and "…" not in listed
    cid = next(c for c, src, _n in named if src == "RU-0000")
    # Deciding without --version: the candidate as it is now; the reason is required.
    refused = runner.invoke(app, ["--db", demo, "candidates", "decide", cid, "confirmed"])
    assert refused.exit_code == 2 and "reason" in refused.output
    done = _run(demo, "candidates", "decide", cid, "confirmed", "--reason", "same name and age")
    assert f"Candidate {cid} is now confirmed" in done and "will be matched" in done
    # A confirmed candidate is undone, not rejected in one step; the undo is a recorded decision.
    flip = runner.invoke(app, ["--db", demo, "candidates", "decide", cid, "rejected", "--reason", "no"])
    assert flip.exit_code == 2 and flip.output.startswith("decision:")
    undone = _run(demo, "candidates", "undo", cid, "--reason", "the family's photo shows someone else")
    assert f"Candidate {cid} is now pending" in undone and "goes back to being checked" in undone


def test_ingest_asks_for_the_date_a_relative_date_needs(db_url: str) -> None:
    seed = SEED_ARTICLE  # the seed article kinlink ships (a clean clone may have no ../shared)
    out = runner.invoke(app, ["--db", db_url, "ingest", str(seed)], env={"COLUMNS": "120"})
    assert out.exit_code == 0, out.output
    assert "'duminică dimineața'" in out.output and "--date YYYY-MM-DD" in out.output
    dated = runner.invoke(app, ["--db", db_url, "ingest", str(seed), "--date", "2022-03-27", "--no-store"])
    assert "--date YYYY-MM-DD" not in dated.output
