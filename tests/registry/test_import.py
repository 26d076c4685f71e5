"""Importing registrars' files through the real command, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.support import counts

HEADER = "record_id,full_name,sex,birth_date,rank,unit,status,status_date,place\n"

ROWS = (
    HEADER + "RU-1,ПАКТЫШЕВ Леонид Андреевич,m,1993,рядовой,,captured,2022-02-27,Київська область\n"
    "UA-7,Савченко Надія Вікторівна,ж,1981-05-11,лейтенант,3-й полк,missing,2014-06-17,\n"
    'RU-2,"Konashenkov, Igor",m,1966-05,,,,,\n'
)


def test_csv_import_creates_records_with_history_and_audit(cli, write, engine) -> None:
    out = cli.json("import", "registry", str(write("reg.csv", ROWS)), "--source", "bureau")
    assert (out["created"], out["updated"], out["unchanged"], out["invalid"]) == (3, 0, 0, 0)
    listed = cli.json("records", "list")
    assert listed["total"] == 3
    by_id = {r["source_record_id"]: r for r in listed["records"]}
    assert by_id["RU-1"]["status"] == "captured" and by_id["RU-1"]["status_date"] == "2022-02-27"
    assert by_id["UA-7"]["sex"] == "f" and by_id["UA-7"]["status"] == "missing"
    assert by_id["RU-2"]["status"] is None
    shown = cli.json("records", "show", "bureau:RU-1")
    assert shown["names"][0]["script"] == "Cyrillic"
    assert shown["events"] == [
        {
            "kind": "captured",
            "date": "2022-02-27",
            "place": "Київська область",
            "source": "bureau",
            "note": None,
            # A registry's list is what the detaining power notified.
            "confirmation": "detaining_power",
            "author": None,
        }
    ]
    c = counts(engine)
    assert c["persons"] == 3 and c["events"] == 2
    assert c["audit_log"] >= 5  # source, three persons, the import run (and the read of RU-1)
    assert cli("audit", "verify").exit_code == 0


def test_same_file_twice_adds_nothing(cli, write, engine) -> None:
    path = write("reg.csv", ROWS)
    cli("import", "registry", str(path), "--source", "bureau")
    before = counts(engine)
    out = cli.json("import", "registry", str(path), "--source", "bureau")
    assert (out["created"], out["updated"], out["unchanged"]) == (0, 0, 3)
    after = counts(engine)
    assert {k: after[k] for k in ("persons", "person_names", "events")} == {
        k: before[k] for k in ("persons", "person_names", "events")
    }


def test_same_record_id_in_two_sources_is_two_records(cli, write) -> None:
    path = write("reg.csv", ROWS)
    cli("import", "registry", str(path), "--source", "bureau")
    cli("import", "registry", str(path), "--source", "partner")
    assert cli.json("records", "list")["total"] == 6
    assert cli.json("records", "list", "--source", "partner")["total"] == 3


def test_changed_row_updates_record_and_adds_to_history(cli, write) -> None:
    cli("import", "registry", str(write("a.csv", ROWS)), "--source", "bureau")
    changed = HEADER + "RU-1,ПАКТЫШЕВ Леонид Андреевич,m,1993,ефрейтор,,released,2022-09-21,\n"
    out = cli.json("import", "registry", str(write("b.csv", changed)), "--source", "bureau")
    assert (out["created"], out["updated"]) == (0, 1)
    shown = cli.json("records", "show", "bureau:RU-1")
    assert shown["rank"] == "ефрейтор"
    assert [e["kind"] for e in shown["events"]] == ["captured", "released"]
    assert shown["status"] == "released" and shown["status_date"] == "2022-09-21"
    assert cli.json("records", "list", "--status", "released")["total"] == 1


def test_jsonl_with_full_history_and_alternate_names(cli, write) -> None:
    rows = [
        {
            "record_id": "A1",
            "family_name": "Буйничів",
            "given_names": "Костянтин",
            "patronymic": "Сергійович",
            "name_language": "uk",
            "alternate_names": ["Konstantin Buinichev"],
            "rank": "старшина",
            "events": [
                {"kind": "captured", "date": "2022-03", "place": "Харків"},
                {"kind": "transferred", "date": "2022-04-02", "place": "Оленівка"},
            ],
            "consent_inform_family": True,
        },
    ]
    path = write("reg.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    cli("import", "registry", str(path), "--source", "icrc")
    shown = cli.json("records", "show", "icrc:A1")
    assert shown["name"] == "Буйничів Костянтин Сергійович"
    assert [n["full_name"] for n in shown["names"]] == [
        "Буйничів Костянтин Сергійович",
        "Konstantin Buinichev",
    ]
    assert shown["names"][1]["script"] == "Latin"
    assert shown["status"] == "captured"  # a transfer keeps the person held
    assert shown["consent_inform_family"] is True


# --- bad input: a clear message naming line and column, and nothing written -----------------------

BAD_ROWS = [
    ("RU-9,Иванов Иван,m,1990,,,on holiday,,\n", "status", "unknown status 'on holiday'"),
    ("RU-9,Иванов Иван,m,1990-02-30,,,,,\n", "birth_date", "not a day of the calendar"),
    ("RU-9,Иванов Иван,m,2090,,,,,\n", "birth_date", "in the future"),
    ("RU-9,Иванов Иван,m,1990,,,captured,2099-01-01,\n", "status_date", "in the future"),
    ("RU-9,,m,1990,,,,,\n", "full_name", "no name"),
    ("RU-9,12345 --,m,1990,,,,,\n", "full_name", "has no letters"),
    (",Иванов Иван,m,1990,,,,,\n", "record_id", "is required"),
    ("RU-9,Иванов Иван,x,1990,,,,,\n", "sex", "is not a sex"),
    ("RU-9,Иванов Иван,m,1990,,,,,,extra\n", "-", "has 10 fields where the header names 9"),
    ("RU-1,Иванов Иван,m,1990,,,,,\n", "record_id", "appears twice in the file (first at line 2)"),
    # An unclosed quote would swallow every later row into one field.
    ('RU-9,"Иванов Иван,m,1990,,,,,\nRU-10,Петров Петр,m,1991,,,,,\n', "-", "a quoted field is never closed"),
    ("RU-9,Иванов\x00 Иван,m,1990,,,,,\n", "full_name", "contains a control character (U+0000)"),
    ("RU-9,<b>Иванов</b> Иван,m,1990,,,,,\n", "full_name", "contains '<', which is not part of a name"),
]


@pytest.mark.parametrize(("row", "column", "reason"), BAD_ROWS)
def test_bad_row_is_reported_and_nothing_written(cli, write, engine, row, column, reason) -> None:
    good = HEADER + "RU-1,Пактышев Леонид,m,1993,,,captured,2022-02-27,\n"
    path = write("bad.csv", good + row)
    result = cli("import", "registry", str(path), "--source", "bureau", ok=False)
    assert result.exit_code == 1
    assert f"bad.csv:3: {column}: " in result.output and reason in result.output
    assert "nothing was written" in result.output
    assert counts(engine)["persons"] == 0 and counts(engine)["audit_log"] == 0


def test_skip_invalid_writes_good_rows_and_reports_bad(cli, write, engine) -> None:
    path = write(
        "mixed.csv", HEADER + "RU-1,Пактышев Леонид,m,1993,,,,,\nRU-2,,m,1990,,,,,\nRU-3,Li,m,,,,,,\n"
    )
    out = cli.json("import", "registry", str(path), "--source", "bureau", "--skip-invalid")
    assert out["written"] and (out["created"], out["invalid"]) == (2, 1)
    assert out["errors"] == [
        "mixed.csv:3: full_name: no name: give full_name, or family_name and/or given_names"
    ]
    assert counts(engine)["persons"] == 2


def test_unknown_column_is_an_error_not_dropped(cli, write, engine) -> None:
    path = write("cols.csv", "record_id,full_name,blood_type\nRU-1,Пактышев Леонид,A+\n")
    result = cli("import", "registry", str(path), "--source", "bureau", ok=False)
    assert result.exit_code == 1 and "unknown column(s) 'blood_type'" in result.output
    assert counts(engine)["persons"] == 0


def test_file_without_record_id_column(cli, write) -> None:
    result = cli("import", "registry", str(write("x.csv", "full_name\nИван\n")), "--source", "b", ok=False)
    assert "no 'record_id' column" in result.output


def test_broken_json_line_and_unknown_key(cli, write, engine) -> None:
    text = (
        '{"record_id": "A", "full_name": "Иван Петров"}\n'
        '{"record_id": "B", "full_name": \n'
        '{"record_id": "C", "x": 1}\n'
    )
    result = cli("import", "registry", str(write("r.jsonl", text)), "--source", "b", ok=False)
    assert "r.jsonl:2: -: is not JSON" in result.output
    assert "r.jsonl:3: x: unknown column(s): x" in result.output
    assert counts(engine)["persons"] == 0


def test_control_characters_in_json_lines_are_refused(cli, write, engine) -> None:
    text = (
        '{"record_id": "A", "full_name": "Іван\\u0000 Петров"}\n'
        '{"record_id": "B", "full_name": "Б", "notes": "\\u001b[2J"}\n'
    )
    result = cli("import", "registry", str(write("r.jsonl", text)), "--source", "b", ok=False)
    assert "r.jsonl:1: full_name: contains a control character (U+0000)" in result.output
    assert "r.jsonl:2: notes: contains a control character (U+001B)" in result.output
    assert counts(engine)["persons"] == 0


def test_not_utf8_is_refused(cli, tmp_path, engine) -> None:
    path = tmp_path / "cp1251.csv"
    path.write_bytes("record_id,full_name\nRU-1,Пактышев Леонид\n".encode("cp1251"))
    result = cli("import", "registry", str(path), "--source", "b", ok=False)
    assert result.exit_code == 1 and "not UTF-8" in result.output
    assert counts(engine)["persons"] == 0


def test_events_column_problems_are_named(cli, write) -> None:
    rows = (
        '{"record_id": "A", "full_name": "Иван Петров", "events": [{"kind": "teleported", "date": "2022"}]}\n'
    )
    result = cli("import", "registry", str(write("e.jsonl", rows)), "--source", "b", ok=False)
    assert "e.jsonl:1: events: event 1: unknown kind 'teleported'" in result.output


def test_readme_documents_every_column() -> None:
    from pathlib import Path

    from kinlink.person.fields import COLUMNS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [c for c in COLUMNS if f"`{c}`" not in readme]
    assert not missing, f"README does not document: {missing}"
