"""Issue 16 item 8: exported CSV cells never run as formulas, and export -> import keeps the values."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from kinlink.cells import neutralised, plain
from kinlink.registry.files import read_rows, write_rows

DANGEROUS = ["=cmd|' /C calc'!A0", "+SUM(1+1)", "-2+3", "@SUM(A1)", "\t=1+1", " =1+1", "\r=1", "'quoted"]


def test_neutralised_cells_start_with_a_quote_and_round_trip() -> None:
    for value in DANGEROUS:
        cell = neutralised(value)
        assert cell.startswith("'"), value
        assert plain(cell) == value
    assert neutralised("Ivan Petrenko") == "Ivan Petrenko"


def test_registry_csv_export_is_neutralised_and_reimports(tmp_path: Path) -> None:
    values = DANGEROUS
    rows = [{"record_id": f"R{i}", "full_name": v} for i, v in enumerate(values)]
    out = io.StringIO()
    write_rows(rows, "csv", out)  # type: ignore[arg-type]
    written = list(csv.DictReader(io.StringIO(out.getvalue())))
    for got in written:
        assert got["full_name"].startswith("'"), got
    path = tmp_path / "export.csv"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    back = [r for _, r in read_rows(path, "csv")]
    assert [r["full_name"] for r in back] == values  # type: ignore[index]


def test_kinlink_export_writes_no_live_formula(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in.jsonl"
    rows = [
        {"record_id": "F1", "full_name": "Петренко Іван", "unit": "+SUM(1+1)", "notes": "=cmd|' /C calc'!A0"},
        {"record_id": "F2", "full_name": "Коваль Ігор", "unit": "@SUM(A1)", "notes": "\t=1+1"},
    ]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    cli("import", "registry", str(source), "--source", "s")
    out = tmp_path / "out.csv"
    cli("export", "registry", "--format", "csv", "--output", str(out))
    with out.open(encoding="utf-8", newline="") as f:
        cells = [v for row in csv.reader(f) for v in row]
    for cell in cells:
        assert not cell.lstrip(" \t\r\n").startswith(("=", "+", "@")), cell
    back = {r["record_id"]: r for _, r in read_rows(out, "csv")}
    # The values come back as stored (the importer strips the tab: stored as "=1+1", exported inert).
    assert back["F1"]["unit"] == "+SUM(1+1)" and back["F2"]["notes"] == "=1+1"  # type: ignore[index]
