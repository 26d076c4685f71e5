"""Blocking index behaviour and the names commands of the CLI (how fast a comparison is: a bench,
bench/names/compare_speed.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.names import BlockingIndex, blocking_keys, compare


def test_blocking_keys_cover_initials_swaps_typos_and_gender() -> None:
    base = blocking_keys("ПАКТЫШЕВ Леонид Андреевич")
    for other in (
        "Пактышев Л.А.",
        "L. Paktishev",
        "Paktishev Leonid",
        "Leonid Pakrishev",  # typo in a consonant
        "Leonid Paktishev Andreevich",
        "Лёня Пактышев",
        "Леонид Андреевич Пактышев",
    ):
        assert base & blocking_keys(other), other
    assert blocking_keys("Иванова Мария") & blocking_keys("Maria Ivanov")


def test_unrelated_names_share_no_specific_key() -> None:
    a = {k for k in blocking_keys("Пактышев Леонид") if not k.startswith("f:")}
    b = {k for k in blocking_keys("Савченко Надія") if not k.startswith("f:")}
    assert not a & b


def test_blocking_index_finds_candidates_without_a_scan() -> None:
    idx = BlockingIndex(max_posting=50)
    names = {
        1: "ПАКТЫШЕВ Леонид Андреевич",
        2: "САВЧЕНКО Надія Вікторівна",
        3: "САВЧЕНКО Віра Вікторівна",
        4: "ЧЕХОВ Антон Павлович",
        5: "ЧЕХОВ Александр Павлович",
    }
    for i in range(6, 200):
        names[i] = f"ИВАНОВ Иван {'Петрович' if i % 2 else 'Сергеевич'}"
    idx.add_many(names.items())
    assert idx.candidates("Leonid Paktyschew") == {1}
    cands = idx.candidates("Nadia Savtchenko")
    assert 2 in cands and len(cands) <= 2
    best = max(cands, key=lambda c: compare("Nadia Savtchenko", names[c]).score)  # type: ignore[index]
    assert best == 2
    # The broad family-only key is used only when nothing else is found.
    # Same family name and the same initial (Антон, Александр: "а") share the i: key.
    assert idx.candidates("Anton Tschechow") == {4, 5}
    assert idx.candidates("Pavel Tschechow") == {4, 5}  # via the broad key: no Pavel Chekhov
    assert idx.candidates("Tschechow") == {4, 5}


def test_cli_compare_json() -> None:
    r = CliRunner().invoke(app, ["names", "compare", "Надія Савченко", "Nadija Sawtschenko", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["match"] is True
    assert out["family"]["level"] == "transliteration"
    assert any("German" in reason for reason in out["reasons"])


def test_cli_compare_human() -> None:
    r = CliRunner().invoke(app, ["names", "compare", "Надія Савченко", "Віра Савченко"])
    assert r.exit_code == 0, r.output
    assert "probably different" in r.output


def test_cli_explain() -> None:
    r = CliRunner().invoke(app, ["names", "explain", "Пактышев Л.А.", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["family"] == "Пактышев" and out["initials"] == ["Л.", "А."]
    assert out["blocking_keys"]
    r = CliRunner().invoke(app, ["names", "explain", "Mihail Kalașnikov"])
    assert r.exit_code == 0 and "mikhail" in r.output
